// lxc-tools containers through the lxc-* programs (argument arrays, never a shell), on a Host.
import * as path from 'node:path';
import type { Capabilities, CapabilityProvider } from '../capabilities';
import { runOn, ExecError } from '../exec';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { lxcPathOn } from '../host/lxcpath';
import { LxcSnapshots } from './lxcSnapshots';
import { LxcDefinitions } from './lxcDefinitions';
import { LxcAttachExecutor } from './lxc/attachExec';
import { LISTING_SCRIPT, LXC_INFO_MISSING, LxcRecord, parseListing } from './lxc/listing';
import { hostUnreachable } from './reach';
import { lxcAttachShell } from '../console/shell';
import { lxcLog } from '../console/logs';
import { Backend, BackendError, BackendEvent, ConnectionConfig, Definition, Guest, GuestState, Verb } from '../model';

/** lxc-info's State word → the guest model's state. */
export function mapLxcState(s: string): GuestState {
  switch (s.trim().toUpperCase()) {
    case 'RUNNING':
    case 'THAWED':
      return 'running';
    case 'FROZEN':
    case 'FREEZING':
      return 'paused';
    case 'STOPPED':
      return 'stopped';
    case 'STARTING':
      return 'starting';
    case 'STOPPING':
    case 'ABORTING':
      return 'stopping';
    default:
      return 'unknown';
  }
}

/** Parses `lxc-info -H` output ("Key: value" lines) into a map (first value of each key wins). */
export function parseLxcInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (!m.has(k)) m.set(k, line.slice(i + 1).trim());
  }
  return m;
}

/** Parses an LXC config (key = value lines, # comments) into ordered entries. */
export function parseLxcConfig(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i <= 0) continue;
    out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i;
export function parseSize(v: string): number | undefined {
  const m = SIZE_RE.exec(v.trim());
  if (!m) return undefined;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(parseFloat(m[1]) * mult);
}

/** "0-3,6" → 5 */
export function countCpus(list: string): number | undefined {
  let n = 0;
  for (const part of list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [a, b] = part.split('-').map((x) => parseInt(x, 10));
    if (Number.isNaN(a)) return undefined;
    n += b === undefined ? 1 : Math.max(0, b - a + 1);
  }
  return n || undefined;
}

/** vCPU and memory limits that an LXC config sets (cgroup v1 or v2 keys), if any. */
export function limitsFromConfig(entries: Array<[string, string]>): { vcpus?: number; memoryBytes?: number } {
  let vcpus: number | undefined;
  let memoryBytes: number | undefined;
  for (const [k, v] of entries) {
    if (k === 'lxc.cgroup.cpuset.cpus' || k === 'lxc.cgroup2.cpuset.cpus') vcpus = countCpus(v);
    if (k === 'lxc.cgroup.memory.limit_in_bytes' || k === 'lxc.cgroup2.memory.max') memoryBytes = parseSize(v);
  }
  return { vcpus, memoryBytes };
}

export class LxcBackend implements Backend, CapabilityProvider {
  private lxcPath: string | undefined;

  constructor(
    readonly config: ConnectionConfig,
    /** The machine whose lxc-tools this connection drives. */
    readonly host: Host = localHost,
  ) {
    this.lxcPath = config.lxcPath;
  }

  private pathArgs(): string[] {
    return this.lxcPath ? ['-P', this.lxcPath] : [];
  }

  private async lxc(tool: string, args: string[], timeoutMs = 30_000): Promise<string> {
    try {
      return (await runOn(this.host, [tool, ...args], { timeoutMs })).stdout;
    } catch (e) {
      if (e instanceof ExecError && e.notFound) {
        throw new BackendError(`${tool} was not found`, 'ENOENT', 'Install lxc-tools: sudo apt-get install lxc');
      }
      throw hostUnreachable(e) ?? new BackendError(e instanceof Error ? e.message : String(e), e instanceof ExecError ? (e.exitCode ?? undefined) : undefined);
    }
  }

  /** Where the containers are: the configured lxcpath, else lxc's own (looked up once). */
  async containersPath(): Promise<string> {
    this.lxcPath ??= await lxcPathOn(this.host, this.config.lxcPath);
    return this.lxcPath;
  }

  async connect(): Promise<void> {
    try {
      if (!this.lxcPath) this.lxcPath = await lxcPathOn(this.host, this.config.lxcPath, { strict: true });
      if (!(await this.host.exists(this.lxcPath))) {
        throw new BackendError(
          `LXC path ${this.lxcPath} does not exist`,
          'ENOENT',
          'Create a container with lxc-create, or set lxcPath in virtscope.connections',
        );
      }
    } catch (e) {
      throw hostUnreachable(e) ?? e;
    }
  }

  /** The config files as definitions; programs inside a container through lxc-attach; its init as its host process; lxc-snapshot. */
  capabilities(guest?: Guest): Capabilities {
    const caps: Capabilities = { definition: new LxcDefinitions(this) };
    if (!guest) return caps;
    caps.hostProcess = { host: this.host, pid: () => this.initPid(guest) };
    if (guest.kind === 'lxc') caps.exec = new LxcAttachExecutor(this.host, guest, this.config.lxcPath);
    const run = (args: string[], timeoutMs?: number) => this.lxc('lxc-snapshot', args, timeoutMs);
    caps.snapshots = new LxcSnapshots(
      { host: this.host, run, pathArgs: () => this.pathArgs(), state: async () => (await this.get(guest.name))?.state },
      guest.name,
    );
    caps.shell = lxcAttachShell(this.host, guest.name, this.config.lxcPath);
    caps.log = lxcLog(this.host, async () => path.join(await this.containersPath(), guest.name, 'config'), guest.name);
    return caps;
  }

  /** The container's init on the host: the pid lxc-info gave when listing, else asked now. */
  private async initPid(guest: Guest): Promise<number | undefined> {
    if (guest.runtimeId && (await this.host.exists(`/proc/${guest.runtimeId}`))) return guest.runtimeId;
    const out = await this.lxc('lxc-info', ['-n', guest.name, ...this.pathArgs(), '-pH'], 5000).catch(() => '');
    const pid = parseInt(out.trim(), 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  }

  async close(): Promise<void> {}

  subscribe(_listener: (ev: BackendEvent) => void): boolean {
    return false; // lxc-tools has no event stream: the connection polls while the view is visible
  }

  /** The containers (all, or those named) with their state and config, in one run on the host. */
  private async listing(names: readonly string[] = []): Promise<Guest[]> {
    const dir = await this.containersPath();
    let out: string;
    try {
      out = (await runOn(this.host, ['sh', '-c', LISTING_SCRIPT, 'sh', dir, ...names], { timeoutMs: 60_000 })).stdout;
    } catch (e) {
      if (e instanceof ExecError && e.exitCode === LXC_INFO_MISSING) {
        throw new BackendError('lxc-info was not found', 'ENOENT', 'Install lxc-tools: sudo apt-get install lxc');
      }
      throw hostUnreachable(e) ?? new BackendError(e instanceof Error ? e.message : String(e));
    }
    return parseListing(out)
      .filter((r) => r.infoStatus === 0 || !/doesn't exist|does not exist/i.test(r.info)) // removed meanwhile
      .map((r) => guestOf(r));
  }

  async list(): Promise<Guest[]> {
    return this.listing();
  }

  async get(name: string): Promise<Guest | undefined> {
    return (await this.listing([name]))[0];
  }

  private configPath(name: string): string {
    return path.join(this.lxcPath!, name, 'config');
  }

  async perform(name: string, verb: Verb): Promise<void> {
    const n = ['-n', name, ...this.pathArgs()];
    switch (verb) {
      case 'start':
        await this.lxc('lxc-start', n);
        return;
      case 'shutdown':
        await this.lxc('lxc-stop', [...n, '-t', '30'], 60_000);
        return;
      case 'reboot':
        await this.lxc('lxc-stop', [...n, '-r', '-t', '30'], 60_000);
        return;
      case 'suspend':
        await this.lxc('lxc-freeze', n);
        return;
      case 'resume':
        await this.lxc('lxc-unfreeze', n);
        return;
      case 'forceOff':
        await this.lxc('lxc-stop', [...n, '-k']);
        return;
      case 'delete':
        await this.lxc('lxc-destroy', n, 120_000);
        return;
    }
  }

  async definition(name: string): Promise<Definition> {
    try {
      return { language: 'lxc-config', text: await this.host.readFile(this.configPath(name)) };
    } catch (e) {
      throw new BackendError(`Cannot read the config of container "${name}": ${(e as Error).message}`);
    }
  }
}

/** A listing record as a guest; lxc-info's own error fails the listing, as it would have alone. */
function guestOf(r: LxcRecord): Guest {
  if (r.infoStatus !== 0) throw new BackendError(r.info.trim() || `lxc-info -n ${r.name} exited with ${r.infoStatus}`, r.infoStatus);
  const info = parseLxcInfo(r.info);
  const raw = info.get('State') ?? 'UNKNOWN';
  const pid = parseInt(info.get('PID') ?? '', 10);
  const limits = limitsFromConfig(parseLxcConfig(r.config));
  return {
    id: r.name,
    name: r.name,
    kind: 'lxc',
    state: mapLxcState(raw),
    rawState: raw,
    vcpus: limits.vcpus,
    memoryBytes: limits.memoryBytes,
    runtimeId: Number.isNaN(pid) ? undefined : pid,
    persistent: true,
  };
}
