// Typed verbs over LxdClient: what the LXD backend asks of a server or cluster. Names are always
// sent as one encoded path segment (or a JSON field): LXD judges them by its own rules and nothing
// here ever passes one to a shell. Features are found by `api_extensions`, never by product name.
import { ConfigKeyCatalog, type LxdConfigMetadata } from './configKeys';
import { LxdClient, type LxdRunOptions } from './client';
import type {
  LxdClusterMember,
  LxdImage,
  LxdInstance,
  LxdInstanceState,
  LxdMemberState,
  LxdOperation,
  LxdProject,
  LxdResources,
  LxdServer,
  LxdSnapshot,
  LxdStateAction,
} from './types';

/** Where an instance lives and runs: `project` for every call, `signal` for the long ones. */
export interface LxdScope {
  project?: string;
  signal?: AbortSignal;
  onProgress?: LxdRunOptions['onProgress'];
}

export interface LxdLaunchSpec {
  name: string;
  /** An image alias ("busybox") or fingerprint of an image the server or cluster has. */
  image: string;
  type?: 'container' | 'virtual-machine';
  /** A cluster member to place it on; the cluster chooses when absent. */
  target?: string;
  project?: string;
  profiles?: string[];
  config?: Record<string, string>;
  /** Start it once created (`lxc launch`); false: only create it (`lxc init`). */
  start?: boolean;
}

const seg = encodeURIComponent;
const inst = (name: string) => `/1.0/instances/${seg(name)}`;

export class LxdApi {
  private extensions?: Set<string>;
  private clustered?: boolean;
  /** The server's instance config keys: undefined until read, null where it does not list them. */
  private keys?: ConfigKeyCatalog | null;

  constructor(readonly client: LxdClient) {}

  /** GET /1.0 (always asked anew); its extensions and whether it is clustered are kept for later calls. */
  async server(): Promise<LxdServer> {
    const s = (await this.client.get<LxdServer>('/1.0')).metadata;
    this.extensions = new Set(s.api_extensions ?? []);
    this.clustered = s.environment?.server_clustered;
    return s;
  }

  /** The server's API extensions (read once, then kept). */
  async apiExtensions(): Promise<Set<string>> {
    if (!this.extensions) await this.server();
    return this.extensions!;
  }

  async has(extension: string): Promise<boolean> {
    return (await this.apiExtensions()).has(extension);
  }

  /** The cluster's members; [] for a server that is not clustered. */
  async members(): Promise<LxdClusterMember[]> {
    if (this.clustered === undefined) this.clustered = (await this.client.get<{ enabled: boolean }>('/1.0/cluster')).metadata?.enabled ?? false;
    if (!this.clustered) return [];
    return (await this.client.get<LxdClusterMember[]>('/1.0/cluster/members?recursion=1')).metadata;
  }

  /**
   * What a member's load line says: its own state (load averages, RAM) where the server has
   * `cluster_member_state`, else its resources (CPUs, memory used of total). LXD 5.0 has only the latter.
   */
  async memberLoad(name: string): Promise<{ state?: LxdMemberState; resources?: LxdResources }> {
    if (await this.has('cluster_member_state')) return { state: (await this.client.get<LxdMemberState>(`/1.0/cluster/members/${seg(name)}/state`)).metadata };
    return { resources: (await this.client.get<LxdResources>('/1.0/resources', { target: name })).metadata };
  }

  async member(name: string): Promise<LxdClusterMember> {
    return (await this.client.get<LxdClusterMember>(`/1.0/cluster/members/${seg(name)}`)).metadata;
  }

  /** Every instance; recursion 2 adds each one's state (and snapshots) in the same answer. */
  async instances(opts: { project?: string; allProjects?: boolean; recursion: 1 | 2 } = { recursion: 1 }): Promise<LxdInstance[]> {
    const all = opts.allProjects ? '&all-projects=true' : '';
    return (await this.client.get<LxdInstance[]>(`/1.0/instances?recursion=${opts.recursion}${all}`, { project: opts.project })).metadata;
  }

  async instance(name: string, opts: { project?: string } = {}): Promise<LxdInstance> {
    return (await this.client.get<LxdInstance>(inst(name), opts)).metadata;
  }

  async instanceState(name: string, opts: { project?: string } = {}): Promise<LxdInstanceState> {
    return (await this.client.get<LxdInstanceState>(`${inst(name)}/state`, opts)).metadata;
  }

  /**
   * The state of each running (or frozen) instance of `list`, `concurrency` at a time: with a
   * recursion=1 list, the whole tree with live figures in a fraction of recursion=2's time (which
   * makes the server compute every stopped instance's state as well). By instance name.
   */
  async runningStates(list: readonly LxdInstance[], opts: { project?: string; concurrency?: number } = {}): Promise<Map<string, LxdInstanceState>> {
    const todo = list.filter((i) => i.status === 'Running' || i.status === 'Frozen');
    const out = new Map<string, LxdInstanceState>();
    const worker = async () => {
      for (let i = todo.shift(); i; i = todo.shift()) {
        const state = await this.instanceState(i.name, { project: opts.project ?? i.project }).catch(() => undefined);
        if (state) out.set(i.name, state); // gone meanwhile: the next event or list says so
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
    return out;
  }

  /** start/stop/restart/freeze/unfreeze; `force` kills instead of a clean shutdown, `timeout` in seconds. */
  async setState(name: string, action: LxdStateAction, opts: LxdScope & { force?: boolean; timeout?: number } = {}): Promise<void> {
    const body: Record<string, unknown> = { action, force: opts.force ?? false };
    if (opts.timeout !== undefined) body.timeout = opts.timeout;
    await this.client.run('PUT', `${inst(name)}/state`, body, opts);
  }

  /** Creates (and by default starts) an instance from an image the cluster has. */
  async launch(spec: LxdLaunchSpec, opts: LxdScope = {}): Promise<void> {
    const source = /^[0-9a-f]{12,64}$/.test(spec.image) ? { type: 'image', fingerprint: spec.image } : { type: 'image', alias: spec.image };
    const body = { name: spec.name, type: spec.type ?? 'container', source, profiles: spec.profiles, config: spec.config ?? {} };
    const scope = { ...opts, project: spec.project ?? opts.project };
    await this.client.run('POST', '/1.0/instances', body, { ...scope, target: spec.target });
    if (spec.start !== false) await this.setState(spec.name, 'start', scope);
  }

  /** Moves an instance to another cluster member (a stopped one, unless the storage is shared). */
  async moveInstance(name: string, targetMember: string, opts: LxdScope = {}): Promise<void> {
    await this.client.run('POST', inst(name), { name, migration: true }, { ...opts, target: targetMember });
  }

  async deleteInstance(name: string, opts: LxdScope = {}): Promise<void> {
    await this.client.run('DELETE', inst(name), undefined, opts);
  }

  async snapshots(name: string, opts: { project?: string } = {}): Promise<LxdSnapshot[]> {
    return (await this.client.get<LxdSnapshot[]>(`${inst(name)}/snapshots?recursion=1`, opts)).metadata ?? [];
  }

  async createSnapshot(name: string, snapshot: string, opts: LxdScope & { stateful?: boolean } = {}): Promise<void> {
    await this.client.run('POST', `${inst(name)}/snapshots`, { name: snapshot, stateful: opts.stateful ?? false }, opts);
  }

  async restoreSnapshot(name: string, snapshot: string, opts: LxdScope = {}): Promise<void> {
    await this.client.run('PUT', inst(name), { restore: snapshot }, opts);
  }

  async deleteSnapshot(name: string, snapshot: string, opts: LxdScope = {}): Promise<void> {
    await this.client.run('DELETE', `${inst(name)}/snapshots/${seg(snapshot)}`, undefined, opts);
  }

  /** Moves or stops a member's instances so it can be serviced (asks nothing: callers ask first). */
  async evacuateMember(name: string, opts: LxdScope = {}): Promise<void> {
    await this.client.run('POST', `/1.0/cluster/members/${seg(name)}/state`, { action: 'evacuate' }, opts);
  }

  async restoreMember(name: string, opts: LxdScope = {}): Promise<void> {
    await this.client.run('POST', `/1.0/cluster/members/${seg(name)}/state`, { action: 'restore' }, opts);
  }

  /** The instance's own config (as `lxc config edit` shows it) and the ETag to save it with. */
  async instanceConfig(name: string, opts: { project?: string } = {}): Promise<{ config: LxdInstancePut; etag?: string }> {
    const { metadata, etag } = await this.client.get<LxdInstance>(inst(name), opts);
    return { config: instancePut(metadata), etag };
  }

  /** Saves it; when the instance changed since `etag` was read, rejects with LxdChangedError (412). */
  async putInstanceConfig(name: string, config: LxdInstancePut, etag: string | undefined, opts: LxdScope = {}): Promise<void> {
    const res = await this.client.request<LxdOperation>('PUT', inst(name), config, { project: opts.project, etag, signal: opts.signal });
    if (res.type === 'async') await this.client.follow(res.metadata, `PUT ${inst(name)}`, opts);
  }

  async images(opts: { project?: string } = {}): Promise<LxdImage[]> {
    return (await this.client.get<LxdImage[]>('/1.0/images?recursion=1', opts)).metadata;
  }

  async projects(): Promise<LxdProject[]> {
    return (await this.client.get<LxdProject[]>('/1.0/projects?recursion=1')).metadata;
  }

  /** The instance config keys the server lists (`metadata_configuration`), read once; undefined where it lists none. */
  async configKeys(): Promise<ConfigKeyCatalog | undefined> {
    if (this.keys === undefined) {
      this.keys = (await this.has('metadata_configuration'))
        ? (ConfigKeyCatalog.fromMetadata((await this.client.get<LxdConfigMetadata>('/1.0/metadata/configuration')).metadata) ?? null)
        : null;
    }
    return this.keys ?? undefined;
  }

  /** The server's OpenMetrics text, or undefined where the server has no `metrics` extension. */
  async serverMetrics(opts: { project?: string; target?: string } = {}): Promise<string | undefined> {
    if (!(await this.has('metrics'))) return undefined;
    return this.client.getText('/1.0/metrics', opts);
  }
}

/** The writable part of an instance (what PUT /1.0/instances/NAME takes). */
export interface LxdInstancePut {
  architecture: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  ephemeral: boolean;
  profiles: string[];
  stateful?: boolean;
  description?: string;
}

export function instancePut(i: LxdInstance): LxdInstancePut {
  const put: LxdInstancePut = { architecture: i.architecture, config: i.config, devices: i.devices, ephemeral: i.ephemeral, profiles: i.profiles };
  if (i.stateful !== undefined) put.stateful = i.stateful;
  if (i.description !== undefined) put.description = i.description;
  return put;
}
