// An LXD (or Incus) server or cluster as one backend: its instances are the guests (containers and
// VMs, each with its member and project), its members are read with every list, and changes come
// from the /1.0/events websocket (lifecycle and operation events, de-duplicated across members by
// the client). While the event stream is down the backend polls, and tries the stream again. Members
// go offline without an event (a missed heartbeat): their status is read every few seconds.
import { stringify } from 'yaml';
import type { Capabilities, CapabilityProvider, Cluster, ClusterImage, EngineStats, EngineStatsSource, OperationOptions } from '../capabilities';
import type { Host } from '../host/host';
import { Backend, BackendError, BackendEvent, ClusterMember, ConnectionConfig, Definition, Guest, GuestState, Verb } from '../model';
import { LxdApi } from './lxd/api';
import { certificateFingerprint, LxdClient, LxdConnectError, LxdError, type LxdEndpoint, type LxdEventSubscription } from './lxd/client';
import { LxdExecutor } from './lxd/exec';
import { MemberLoads } from './lxd/memberLoad';
import { overviewMarkdown, readOverview } from './lxd/overview';
import { lxdConsole, lxdShell } from './lxd/terminal';
import type { LxdClusterMember, LxdEvent, LxdImage, LxdInstance, LxdInstanceState, LxdOperation } from './lxd/types';
import { LxdDefinitions } from './lxdDefinitions';
import { LxdSnapshots } from './lxdSnapshots';

/** The client certificate and the pinned server certificate of an HTTPS endpoint (kept in SecretStorage). */
export interface LxdCredentials {
  readonly clientCert: string;
  readonly clientKey: string;
  readonly serverCert: string;
}

export interface LxdBackendOptions {
  /** Where the unix socket is (this machine, or a host reached over SSH). */
  readonly host?: Host;
  /** The HTTPS credentials of an endpoint with a url (by connection id). */
  readonly credentials?: (config: ConnectionConfig) => Promise<LxdCredentials | undefined>;
  /** Polling while the event stream is down; default 2 s. */
  readonly fallbackPollMs?: number;
  /** How often members' status is read (they go offline without an event); default 5 s. */
  readonly memberPollMs?: number;
  readonly log?: (msg: string) => void;
}

const DEFAULT_PROJECT = 'default';

/** The instance named by an API path ("/1.0/instances/c1", "/1.0/instances/c1/snapshots/s?project=p"). */
function instanceOf(path: string | undefined): string | undefined {
  const m = path?.match(/\/1\.0\/instances\/([^/?]+)/)?.[1];
  return m === undefined ? undefined : decodeURIComponent(m);
}

/** A guest id: the name in the default project, "project/name" in another (LXD names have no "/"). */
export function lxdGuestId(name: string, project?: string): string {
  return !project || project === DEFAULT_PROJECT ? name : `${project}/${name}`;
}

export function parseLxdGuestId(id: string): { name: string; project: string } {
  const i = id.indexOf('/');
  return i < 0 ? { name: id, project: DEFAULT_PROJECT } : { name: id.slice(i + 1), project: id.slice(0, i) };
}

const STATE: Record<string, GuestState> = {
  running: 'running',
  stopped: 'stopped',
  frozen: 'paused',
  error: 'crashed',
  starting: 'starting',
  stopping: 'stopping',
  freezing: 'stopping',
  thawed: 'running',
};

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** LXD's limits.memory ("512MiB", "1GB"; a percentage is not a size). */
export function lxdBytes(v: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(v ?? '');
  return m ? Math.round(parseFloat(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]) : undefined;
}

/** An instance as a guest; one on a member that is not online is "unknown", in LXD's words. */
export function guestOfInstance(i: LxdInstance, members: readonly ClusterMember[] = []): Guest {
  const member = members.find((m) => m.name === i.location);
  const away = member && member.status === 'offline';
  const cfg = i.config ?? {};
  const cpus = /^\d+$/.test(cfg['limits.cpu'] ?? '') ? parseInt(cfg['limits.cpu'], 10) : undefined;
  const image = cfg['image.description'] || [cfg['image.os'], cfg['image.release']].filter(Boolean).join(' ') || undefined;
  return {
    id: lxdGuestId(i.name, i.project),
    name: i.name,
    kind: i.type === 'virtual-machine' ? 'lxd-vm' : 'lxd-container',
    state: away ? 'unknown' : (STATE[(i.status ?? '').toLowerCase()] ?? 'unknown'),
    rawState: away ? `Offline (member ${member.name}: ${member.message || member.rawStatus})` : i.status,
    ...(cpus ? { vcpus: cpus } : {}),
    ...(lxdBytes(cfg['limits.memory']) ? { maxMemoryBytes: lxdBytes(cfg['limits.memory']) } : {}),
    ...(image ? { image } : {}),
    location: i.location && i.location !== 'none' ? i.location : undefined,
    project: i.project ?? DEFAULT_PROJECT,
  };
}

export function memberOf(m: LxdClusterMember): ClusterMember {
  const s = (m.status ?? '').toLowerCase();
  const status: ClusterMember['status'] = s === 'online' || s === 'offline' || s === 'evacuated' || s === 'blocked' ? s : 'unknown';
  return {
    name: m.server_name,
    status,
    rawStatus: m.status,
    message: m.message ?? '',
    roles: m.roles ?? (m.database ? ['database'] : []),
    ...(m.failure_domain ? { failureDomain: m.failure_domain } : {}),
    ...(m.description ? { description: m.description } : {}),
    ...(m.url ? { url: m.url } : {}),
    ...(m.architecture ? { architecture: m.architecture } : {}),
  };
}

/** What an operation says of its progress: LXD's progress text ("Unpack: 50%"), else its description. */
export function operationProgress(op: LxdOperation): string {
  const md = op.metadata ?? {};
  const p = Object.entries(md).find(([k, v]) => /progress/.test(k) && typeof v === 'string');
  return p ? String(p[1]) : op.description;
}

export function imageOf(img: LxdImage): ClusterImage {
  const alias = img.aliases?.[0]?.name;
  const desc = img.properties?.description ?? [img.properties?.os, img.properties?.release].filter(Boolean).join(' ');
  return {
    ref: alias ?? img.fingerprint,
    label: alias ?? img.fingerprint.slice(0, 12),
    description: [desc, img.architecture, img.type].filter(Boolean).join(' · '),
    type: img.type === 'virtual-machine' ? 'virtual-machine' : 'container',
  };
}

/**
 * An instance's /state in the shape of an engine's one-shot statistics, so Show Metrics reads an LXD
 * instance the way it reads a Docker/Podman container (CPU time, memory, network, processes).
 */
export function statsOfState(s: LxdInstanceState): EngineStats {
  const networks: NonNullable<EngineStats['networks']> = {};
  for (const [dev, n] of Object.entries(s.network ?? {})) {
    if (dev === 'lo' || n.type === 'loopback') continue;
    networks[dev] = {
      rx_bytes: n.counters.bytes_received,
      tx_bytes: n.counters.bytes_sent,
      rx_packets: n.counters.packets_received,
      tx_packets: n.counters.packets_sent,
    };
  }
  return {
    cpu_stats: { cpu_usage: { total_usage: s.cpu?.usage ?? 0 } },
    memory_stats: { usage: s.memory?.usage ?? 0, ...(s.memory?.total ? { limit: s.memory.total } : {}) },
    networks,
    ...(s.processes >= 0 ? { pids_stats: { current: s.processes } } : {}),
  };
}

const ACTION: Record<Exclude<Verb, 'delete'>, { action: 'start' | 'stop' | 'restart' | 'freeze' | 'unfreeze'; force?: boolean }> = {
  start: { action: 'start' },
  shutdown: { action: 'stop' },
  reboot: { action: 'restart' },
  suspend: { action: 'freeze' },
  resume: { action: 'unfreeze' },
  forceOff: { action: 'stop', force: true },
};

/** LXD's answer as the user should read it: its own message, with what to do where there is something. */
export function lxdBackendError(e: unknown, where: string): BackendError {
  if (e instanceof BackendError) return e;
  if (e instanceof LxdConnectError)
    return Object.assign(new BackendError(e.message, 'ECONNREFUSED', `Is the LXD daemon running? Check that ${where} exists and that you may use it.`), {
      cause: e,
    });
  if (e instanceof LxdError) return Object.assign(new BackendError(e.message, e.status), { cause: e });
  return Object.assign(new BackendError(e instanceof Error ? e.message : String(e)), { cause: e });
}

export class LxdBackend implements Backend, CapabilityProvider {
  private client: LxdClient | undefined;
  private api_: LxdApi | undefined;
  private listener: ((ev: BackendEvent) => void) | undefined;
  private events: LxdEventSubscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private memberTimer: NodeJS.Timeout | undefined;
  private lastMembers: ClusterMember[] = [];
  private readonly loads = new MemberLoads();
  private checkingMembers = false;
  private loadsAsked = false;
  /** The member this connection talks to (a cluster relays what is placed elsewhere). */
  private serverName: string | undefined;
  private closed = false;
  private readonly definitions: LxdDefinitions;

  constructor(
    readonly config: ConnectionConfig,
    private readonly opts: LxdBackendOptions = {},
  ) {
    this.definitions = new LxdDefinitions(
      () => this.api,
      (id) => this.findName(id),
    );
  }

  /** The API, while connected. */
  get api(): LxdApi {
    if (!this.api_) throw new BackendError(`${this.where} is not connected`);
    return this.api_;
  }

  private get where(): string {
    return this.config.url ?? this.config.socketPath ?? this.config.id;
  }

  private async endpoint(): Promise<LxdEndpoint> {
    if (this.config.socketPath) return { kind: 'unix', socketPath: this.config.socketPath, host: this.opts.host };
    if (!this.config.url) throw new BackendError(`${this.config.id}: an LXD entry needs a socket or a url`);
    const c = await this.opts.credentials?.(this.config);
    if (!c)
      throw new BackendError(
        `${this.config.url}: no client certificate is stored for it`,
        'ENOCERT',
        'Add it again with "Add LXD / Incus…" to create and trust one.',
      );
    // the settings name the pinned certificate too: an edited fingerprint must not go unnoticed
    if (this.config.fingerprint && certificateFingerprint(c.serverCert) !== this.config.fingerprint)
      throw new BackendError(
        `${this.config.url}: the stored server certificate is not the one virtscope.lxd pins`,
        'ECERT',
        'Add the server again to see and pin its certificate.',
      );
    return { kind: 'https', url: this.config.url, ...c };
  }

  async connect(): Promise<void> {
    try {
      this.client = new LxdClient(await this.endpoint(), { log: this.opts.log });
      const api = new LxdApi(this.client);
      const server = await api.server();
      this.serverName = server.environment?.server_name;
      if (server.auth !== 'trusted')
        throw new BackendError(`${this.where} does not trust this client`, 'EACCES', 'Add it again with a trust token or password.');
      this.api_ = api;
    } catch (e) {
      this.client?.close();
      throw lxdBackendError(e, this.where);
    }
    this.openEvents();
    this.memberTimer = setInterval(() => void this.checkMembers(), this.opts.memberPollMs ?? 5000);
    this.memberTimer.unref?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events?.close();
    clearInterval(this.pollTimer);
    clearInterval(this.memberTimer);
    this.client?.close();
    this.api_ = undefined;
  }

  subscribe(listener: (ev: BackendEvent) => void): boolean {
    this.listener = listener;
    return true;
  }

  members(): readonly ClusterMember[] {
    return this.lastMembers.map((m) => {
      const load = this.loads.get(m.name);
      return load ? { ...m, load } : m;
    });
  }

  async list(): Promise<Guest[]> {
    try {
      const [members, instances] = await Promise.all([this.api.members(), this.api.instances({ allProjects: true, recursion: 1 })]);
      this.lastMembers = members.map(memberOf);
      if (!this.loadsAsked) this.firstLoads();
      return instances.map((i) => guestOfInstance(i, this.lastMembers));
    } catch (e) {
      throw lxdBackendError(e, this.where);
    }
  }

  async get(guestId: string): Promise<Guest | undefined> {
    const { name, project } = parseLxdGuestId(guestId);
    try {
      return guestOfInstance(await this.api.instance(name, { project }), this.lastMembers);
    } catch (e) {
      if (e instanceof LxdError && e.status === 404) return undefined;
      throw lxdBackendError(e, this.where);
    }
  }

  async perform(guestId: string, verb: Verb): Promise<void> {
    await this.run(guestId, verb);
  }

  /** A verb through LXD's operation, followed to its end. */
  async run(guestId: string, verb: Verb, o: OperationOptions = {}): Promise<void> {
    const { name, project } = parseLxdGuestId(guestId);
    const scope = { project, signal: o.signal, onProgress: o.onProgress && ((op: LxdOperation) => o.onProgress!(operationProgress(op))) };
    try {
      if (verb === 'delete') await this.api.deleteInstance(name, scope);
      else await this.api.setState(name, ACTION[verb].action, { ...scope, force: ACTION[verb].force });
    } catch (e) {
      throw lxdBackendError(e, this.where);
    }
  }

  async definition(guestId: string): Promise<Definition> {
    const { name, project } = parseLxdGuestId(guestId);
    try {
      const i = await this.api.instance(name, { project });
      return { language: 'yaml', text: stringify(i) };
    } catch (e) {
      throw lxdBackendError(e, this.where);
    }
  }

  capabilities(guest?: Guest): Capabilities {
    const caps: Capabilities = { definition: this.definitions, cluster: this.cluster(), engineStats: this.stats };
    if (guest) {
      caps.snapshots = new LxdSnapshots(() => this.api, guest);
      Object.assign(caps, this.intoGuest(guest));
    }
    return caps;
  }

  /** Ways into an instance: programs, a shell and its console, over the API's websockets. */
  private intoGuest(guest: Guest): Pick<Capabilities, 'exec' | 'shell' | 'console'> {
    const ref = parseLxdGuestId(guest.id);
    const client = () => this.api.client;
    const relayed = !!guest.location && !!this.serverName && guest.location !== this.serverName;
    return { exec: new LxdExecutor(client, { ...ref, relayed }), shell: lxdShell(client, ref), console: lxdConsole(client, ref) };
  }

  /** Show Metrics: each running instance's /state. */
  private readonly stats: EngineStatsSource = {
    of: async (guestId) => {
      const { name, project } = parseLxdGuestId(guestId);
      try {
        return statsOfState(await this.api.instanceState(name, { project }));
      } catch (e) {
        throw lxdBackendError(e, this.where);
      }
    },
  };

  private findName(guestId: string): { name: string; project: string } {
    return parseLxdGuestId(guestId);
  }

  private cluster(): Cluster {
    const progress = (o: OperationOptions) => ({
      signal: o.signal,
      onProgress: o.onProgress && ((op: LxdOperation) => o.onProgress!(operationProgress(op))),
    });
    const wrap = async (f: () => Promise<void>) => {
      try {
        await f();
      } catch (e) {
        throw lxdBackendError(e, this.where);
      }
    };
    return {
      images: async (project) => (await this.api.images({ project })).map(imageOf).sort((a, b) => a.label.localeCompare(b.label)),
      launch: (spec, o = {}) => wrap(() => this.api.launch({ ...spec, start: true }, progress(o))),
      run: (id, verb, o = {}) => this.run(id, verb, o),
      move: (id, member, o = {}) => {
        const { name, project } = parseLxdGuestId(id);
        return wrap(() => this.api.moveInstance(name, member, { project, ...progress(o) }));
      },
      evacuate: (member, o = {}) => wrap(() => this.api.evacuateMember(member, progress(o))),
      restore: (member, o = {}) => wrap(() => this.api.restoreMember(member, progress(o))),
      overview: async (member, o = {}) => {
        const m = member === undefined ? undefined : this.members().find((x) => x.name === member);
        if (member !== undefined && !m) throw new BackendError(`${this.where} has no member "${member}"`);
        try {
          return overviewMarkdown(await readOverview(this.api, m, { signal: o.signal }), this.config.label ?? this.where);
        } catch (e) {
          throw lxdBackendError(e, this.where);
        }
      },
    };
  }

  // ---- changes ----------------------------------------------------------------------------

  private changed(reason: string, name?: string, guestId?: string): void {
    this.listener?.({ type: 'changed', reason, name, ...(guestId ? { guestId, only: true } : {}) });
  }

  private openEvents(): void {
    if (this.closed || !this.client) return;
    const sub = this.client.events(
      { types: ['lifecycle', 'operation'], allProjects: true },
      (e) => this.onEvent(e),
      (err) => {
        if (this.closed || !err) return;
        this.opts.log?.(`${this.where}: the event stream dropped (${err.message}); polling until it is back`);
        this.startFallback();
      },
    );
    this.events = sub;
    sub.ready.then(
      () => {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      },
      () => undefined,
    );
  }

  /** Polls (and tries the event stream again) until the stream is back. */
  private startFallback(): void {
    if (this.pollTimer || this.closed) return;
    let tick = 0;
    this.pollTimer = setInterval(() => {
      this.changed('poll (event stream down)');
      if (++tick % 3 === 0) {
        this.events?.close();
        this.openEvents();
      }
    }, this.opts.fallbackPollMs ?? 2000);
    this.pollTimer.unref?.();
  }

  private onEvent(e: LxdEvent): void {
    const md = e.metadata as { action?: string; source?: string; resources?: Record<string, string[]> | null; description?: string };
    if (e.type === 'lifecycle') {
      const name = instanceOf(md.source);
      // an instance's event (its snapshots' too): only it is re-read, not the whole cluster
      const own = name !== undefined && /^instance-/.test(md.action ?? '');
      return this.changed(md.action ?? 'lifecycle', name, own ? lxdGuestId(name, e.project) : undefined);
    }
    // operations on instances (created, running, done): their instances are re-read; a cluster one relists
    if (e.type !== 'operation') return;
    const names = (md.resources?.instances ?? []).map(instanceOf).filter((n): n is string => n !== undefined);
    if (md.resources?.cluster?.length || (!names.length && md.resources?.instances?.length)) return this.changed(`operation ${md.description ?? ''}`.trim());
    for (const n of new Set(names)) this.changed(`operation ${md.description ?? ''}`.trim(), n, lxdGuestId(n, e.project));
  }

  /** The members' load lines right after the first list, not a member poll later (the tree shows them at once). */
  private firstLoads(): void {
    this.loadsAsked = true;
    const api = this.api_;
    const online = this.lastMembers.filter((m) => m.status === 'online').map((m) => m.name);
    if (!api || !online.length) return;
    void this.loads.refresh(api, online, true).then(
      (changed) => changed && !this.closed && this.listener?.({ type: 'members' }),
      () => undefined,
    );
  }

  /** Members go offline without an event: when their status changed, relist. */
  private async checkMembers(): Promise<void> {
    if (!this.api_ || this.closed || this.checkingMembers) return;
    // a slow member must not pile up polls
    this.checkingMembers = true;
    try {
      const now = (await this.api_.members()).map(memberOf);
      const key = (ms: readonly ClusterMember[]) => JSON.stringify(ms.map((m) => [m.name, m.status, m.message]));
      const moved = key(now) !== key(this.lastMembers);
      const online = now.filter((m) => m.status === 'online').map((m) => m.name);
      const loadsChanged = await this.loads.refresh(this.api_, online, moved);
      if (moved) this.changed('member status');
      else if (loadsChanged) this.listener?.({ type: 'members' });
    } catch {
      // the relist says what is wrong
      this.changed('member status unknown');
    } finally {
      this.checkingMembers = false;
    }
  }
}
