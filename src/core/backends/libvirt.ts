// LibvirtBackend: the Backend for libvirt connections (qemu, libvirt-lxc, test), speaking
// libvirt's RPC protocol directly (no native addon, no virsh).

import type { Duplex } from 'node:stream';
import { Backend, BackendError, BackendEvent, ConnectionConfig, Definition, Guest, GuestKind, GuestState, Verb } from '../model';
import { LibvirtClient, LibvirtClientOptions, LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { isSshLibvirtUri, openSshLibvirtStream, sshHostForLibvirtUri, sshUriProblem } from '../libvirt/sshTransport';
import { connectUnix, daemonStartHint, LibvirtEndpoint, resolveLibvirtUriOn } from '../libvirt/transport';
import type { SshHost, SshHostOptions } from '../host/ssh';
import type { Capabilities, CapabilityProvider } from '../capabilities';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { libvirtDomainPid } from '../host/pids';
import { LibvirtDefinitions } from './libvirtDefinitions';
import { NsenterExecutor } from './libvirt/nsenterExec';
import { QemuAgentExecutor } from './libvirt/qemuAgentExec';
import { hostUnreachable, isThisMachine, onHost } from './reach';
import { LibvirtSnapshots } from './libvirtSnapshots';
import { LibvirtClone } from './libvirtClone';
import { LibvirtObjectEvents } from './libvirtObjectEvents';
import { LibvirtNetworks, LibvirtStorage } from './libvirtStorage';
import { LibvirtConsole } from '../console/libvirtConsole';
import { libvirtLxcInitOn, nsenterShell } from '../console/shell';
import { libvirtLog } from '../console/logs';
import { domainGraphics } from '../console/graphics';

const { DomainState: S, DomainPausedReason: PR, DomainShutoffReason: SR } = P;

/** libvirt state + reason → the shared guest model's state, plus virsh's word for it. */
export function mapDomainState(state: number, reason = 0): { state: GuestState; rawState: string } {
  const rawState = P.DOMAIN_STATE_NAMES[state] ?? `state ${state}`;
  switch (state) {
    case S.RUNNING:
    case S.BLOCKED:
      return { state: 'running', rawState };
    case S.PAUSED:
      if (reason === PR.STARTING_UP) return { state: 'starting', rawState };
      if (reason === PR.SHUTTING_DOWN) return { state: 'stopping', rawState };
      if (reason === PR.CRASHED) return { state: 'crashed', rawState };
      return { state: 'paused', rawState };
    case S.SHUTDOWN:
      return { state: 'stopping', rawState };
    case S.SHUTOFF:
      return { state: reason === SR.CRASHED ? 'crashed' : 'stopped', rawState };
    case S.CRASHED:
      return { state: 'crashed', rawState };
    case S.PMSUSPENDED:
      return { state: 'pmsuspended', rawState };
    default:
      return { state: 'unknown', rawState };
  }
}

/** Guest kind for a libvirt URI's driver. */
export function kindForUri(uri: string): GuestKind {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri.trim())?.[1] ?? '';
  return scheme.split('+')[0].toLowerCase() === 'lxc' ? 'libvirt-lxc' : 'qemu';
}

/** Stats of one domain: bulk-stats field names, whether they came in bulk or per domain. */
export interface DomainStats {
  readonly uuid: string;
  readonly name: string;
  /** libvirt domain id, -1 when inactive. */
  readonly id: number;
  readonly params: P.TypedParams;
  readonly source: 'bulk' | 'per-domain';
}

export interface StatsOptions {
  /** P.DomainStatsType bits; default state | cpu-total | balloon | vcpu | interface | block. */
  stats?: number;
  /** P.GetAllDomainStatsFlags bits; default 0 (every domain). */
  flags?: number;
}

export interface LibvirtBackendOptions extends LibvirtClientOptions {
  connectTimeoutMs?: number;
  /** How to open the byte stream (default: the unix socket on `host`). */
  openStream?: (endpoint: LibvirtEndpoint) => Promise<Duplex>;
  /** Concurrent per-domain calls in fallbacks. */
  concurrency?: number;
  /** false: never ask for bulk stats (as on drivers without them); for tests and comparisons. */
  bulkStats?: boolean;
  /** The machine libvirtd and the domains run on: its socket and processes (default: this machine). */
  host?: Host;
  /** A typed qemu+ssh:// URI with no `host`: options of the SshHost made for its destination (ssh -F, askpass). */
  ssh?: Partial<SshHostOptions>;
}

/** Is the URI a driver on this machine (where the domains' pid files and cgroups are)? */
export function isLocalLibvirtUri(uri: string): boolean {
  return /^(qemu|lxc):\/\/\/(system|session)/.test(uri);
}

const LIST_STATS = P.DomainStatsType.STATE | P.DomainStatsType.VCPU | P.DomainStatsType.BALLOON;
const DEFAULT_STATS = LIST_STATS | P.DomainStatsType.CPU_TOTAL | P.DomainStatsType.INTERFACE | P.DomainStatsType.BLOCK;
const DELETE_FLAGS = P.UndefineFlags.MANAGED_SAVE | P.UndefineFlags.SNAPSHOTS_METADATA | P.UndefineFlags.NVRAM | P.UndefineFlags.CHECKPOINTS_METADATA;
/** Tried in order when a driver rejects undefine flags it does not know. */
const DELETE_FLAG_FALLBACKS = [
  DELETE_FLAGS,
  P.UndefineFlags.MANAGED_SAVE | P.UndefineFlags.SNAPSHOTS_METADATA | P.UndefineFlags.NVRAM,
  P.UndefineFlags.MANAGED_SAVE | P.UndefineFlags.SNAPSHOTS_METADATA,
  0,
];

function isUnsupported(e: unknown): boolean {
  return e instanceof LibvirtError && (e.code === P.ErrorCode.NO_SUPPORT || e.code === P.ErrorCode.OPERATION_UNSUPPORTED);
}

function isRejectedFlags(e: unknown): boolean {
  return (
    e instanceof LibvirtError &&
    (e.code === P.ErrorCode.INVALID_ARG || e.code === P.ErrorCode.ARGUMENT_UNSUPPORTED || e.code === P.ErrorCode.NO_SUPPORT) &&
    /flag/i.test(e.message)
  );
}

/** Run `fn` over `items` with at most `limit` in flight; results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

interface DomainDevices {
  readonly interfaces: readonly string[];
  readonly disks: readonly string[];
}

/** `<target dev='…'/>` of each <interface> and <disk> in a domain XML. */
export function parseDeviceTargets(xml: string): DomainDevices {
  const targets = (tag: string) =>
    [...xml.matchAll(new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map((m) => /<target\b[^>]*\bdev=(['"])(.*?)\1/.exec(m[1])?.[2])
      .filter((d): d is string => !!d)
      .map((d) =>
        d
          .replace(/&apos;/g, "'")
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&amp;/g, '&'),
      );
  return { interfaces: targets('interface'), disks: targets('disk') };
}

/** Per-device counters as bulk stats name them: net.N.* / block.N.*, plus net.count / block.count. */
function addDeviceStats<T>(
  params: P.TypedParams,
  group: 'net' | 'block',
  names: readonly string[],
  stats: readonly (T | undefined)[],
  fields: (s: T) => Record<string, number>,
): void {
  let n = 0;
  names.forEach((name, i) => {
    const s = stats[i];
    if (!s) return;
    const k = `${group}.${n++}`;
    params[`${k}.name`] = name;
    // libvirt reports -1 for counters a driver does not have
    for (const [field, v] of Object.entries(fields(s))) if (v >= 0) params[`${k}.${field}`] = v;
  });
  params[`${group}.count`] = n;
}

const netFields = (s: P.InterfaceStats) => ({
  'rx.bytes': s.rxBytes,
  'rx.pkts': s.rxPackets,
  'rx.errs': s.rxErrs,
  'rx.drop': s.rxDrop,
  'tx.bytes': s.txBytes,
  'tx.pkts': s.txPackets,
  'tx.errs': s.txErrs,
  'tx.drop': s.txDrop,
});

const blockFields = (s: P.BlockStats) => ({
  'rd.reqs': s.rdReq,
  'rd.bytes': s.rdBytes,
  'wr.reqs': s.wrReq,
  'wr.bytes': s.wrBytes,
  errors: s.errs,
});

interface CachedInfo {
  readonly state: number | undefined;
  readonly id: number;
  readonly info: P.DomainInfo;
}

function num(v: P.TypedParamValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

export class LibvirtBackend implements Backend, CapabilityProvider {
  readonly kind: GuestKind;
  private clientValue: LibvirtClient | undefined;
  private connecting: Promise<LibvirtClient> | undefined;
  private readonly listeners = new Set<(ev: BackendEvent) => void>();
  /** Storage-pool and network lifecycle events, for the storage and networks capabilities. */
  readonly objectEvents = new LibvirtObjectEvents(() => this.clientValue);
  private closedByUser = false;
  /** The client still saying hello (auth, open): close() ends it at once. */
  private opening: LibvirtClient | undefined;
  /** Bumped by close(): an open() that started before gives up. */
  private closeCount = 0;
  /** Undefined until the first bulk-stats call tells whether the driver has it. */
  private bulkStats: boolean | undefined;
  /** Undefine flags the driver accepted last time. */
  private deleteFlagsIndex = 0;
  private eventCallbackId: number | undefined;
  private registration: Promise<boolean> | undefined;
  /** getInfo results for domains whose bulk stats carry no sizes; see list(). */
  private infoCache = new Map<string, CachedInfo>();
  /** Device targets per domain (uuid hex), for per-domain interface/block stats. */
  private readonly deviceCache = new Map<string, { id: number; devices: DomainDevices }>();
  /** Why event registration failed, if it did (events then never arrive: poll). */
  eventsError: Error | undefined;

  constructor(
    readonly config: ConnectionConfig,
    private readonly options: LibvirtBackendOptions = {},
  ) {
    if (!config.uri) throw new BackendError(`libvirt connection "${config.id}" has no URI`, 'EINVAL', 'Set a URI such as qemu:///system.');
    const sshProblem = isSshLibvirtUri(config.uri) ? sshUriProblem(config.uri) : undefined;
    if (sshProblem) throw sshProblem;
    this.kind = kindForUri(config.uri);
    if (options.bulkStats === false) this.bulkStats = false;
  }

  /** The RPC client (connected), for callers that need procedures beyond the Backend API. */
  async client(): Promise<LibvirtClient> {
    if (this.clientValue && !this.clientValue.closed) return this.clientValue;
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  /** Whether the last list()/stats() could use bulk stats (undefined before the first). */
  get hasBulkStats(): boolean | undefined {
    return this.bulkStats;
  }

  /** The endpoint on the host and a stream to it; an unreachable host in SSH's words. */
  private async openStream(): Promise<{ endpoint: LibvirtEndpoint; stream: Duplex }> {
    try {
      if (isSshLibvirtUri(this.config.uri!)) {
        const opened = await openSshLibvirtStream(this.host, this.config.uri!, {
          socketPath: this.config.socketPath,
          timeoutMs: this.options.connectTimeoutMs,
        });
        return { endpoint: opened.endpoint, stream: opened.stream };
      }
      const endpoint = await resolveLibvirtUriOn(this.host, this.config.uri!, { socketPath: this.config.socketPath });
      const stream = this.options.openStream
        ? await this.options.openStream(endpoint)
        : await connectUnix(endpoint.socketPath, { timeoutMs: this.options.connectTimeoutMs, hint: daemonStartHint(endpoint), host: this.host });
      return { endpoint, stream };
    } catch (e) {
      throw hostUnreachable(e) ?? e;
    }
  }

  private async open(): Promise<LibvirtClient> {
    const closes = this.closeCount;
    const { endpoint, stream } = await this.openStream();
    const where = `${endpoint.socketPath}${onHost(this.host)}`;
    const client = new LibvirtClient(stream, this.options);
    const closedMeanwhile = () => new BackendError(`libvirt connection to ${this.config.uri} closed while connecting`, 'ECLOSED');
    if (closes !== this.closeCount) {
      client.destroy();
      throw closedMeanwhile();
    }
    this.opening = client;
    try {
      await client.authenticate();
      await client.connectOpen(endpoint.name, 0);
      if (closes !== this.closeCount) throw closedMeanwhile();
    } catch (e) {
      client.destroy();
      if (closes !== this.closeCount) throw closedMeanwhile();
      if (e instanceof LibvirtError) {
        throw new LibvirtError(e.remote, `The daemon at ${where} could not open ${endpoint.name}. ${daemonStartHint(endpoint)}`);
      }
      throw e;
    } finally {
      if (this.opening === client) this.opening = undefined;
    }
    this.closedByUser = false;
    this.clientValue = client;
    this.eventCallbackId = undefined;
    client.on('lifecycle', (m) => this.onLifecycle(m));
    client.on('close', (error) => {
      if (this.clientValue === client) this.clientValue = undefined;
      if (this.closedByUser) return;
      // Say which socket was in use and how to bring the daemon back, not just "closed".
      const why = error?.message ?? 'closed by the daemon';
      const err = new BackendError(
        `libvirt connection to ${this.config.uri} (${where}) lost: ${why}`,
        (error as BackendError | undefined)?.code ?? 'ECLOSED',
        daemonStartHint(endpoint),
      );
      for (const l of this.listeners) l({ type: 'disconnected', error: err });
    });
    if (this.listeners.size) await this.registerEvents(client);
    await this.objectEvents.attach(client);
    return client;
  }

  async connect(): Promise<void> {
    await this.client();
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    this.closeCount++;
    // A daemon that accepted but never answers the hello must not keep the socket open.
    this.opening?.destroy();
    this.opening = undefined;
    const c = this.clientValue;
    this.clientValue = undefined;
    if (!c) return;
    if (this.eventCallbackId !== undefined) {
      await c.domainEventCallbackDeregisterAny(this.eventCallbackId).catch(() => undefined);
      this.eventCallbackId = undefined;
    }
    await c.connectClose();
    // a host made for a typed qemu+ssh:// URI is this connection's own: its master goes with it
    const own = this.ownSsh;
    this.ownSsh = undefined;
    await own?.dispose();
  }

  // ---- inventory --------------------------------------------------------------------

  private toGuest(dom: P.RemoteDomain, persistent: boolean | undefined, s: { state: number; reason: number }, extra: Partial<Guest>): Guest {
    const mapped = mapDomainState(s.state, s.reason);
    return {
      id: P.uuidToString(dom.uuid),
      name: dom.name,
      kind: this.kind,
      state: mapped.state,
      rawState: mapped.rawState,
      runtimeId: dom.id > 0 ? dom.id : undefined,
      persistent,
      ...extra,
    };
  }

  private guestFromInfo(dom: P.RemoteDomain, persistent: boolean | undefined, info: P.DomainInfo, reason: number): Guest {
    return this.toGuest(
      dom,
      persistent,
      { state: info.state, reason },
      {
        vcpus: info.nrVirtCpu || undefined,
        memoryBytes: info.memory ? info.memory * 1024 : undefined,
        maxMemoryBytes: info.maxMem ? info.maxMem * 1024 : undefined,
      },
    );
  }

  private guestFromStats(dom: P.RemoteDomain, persistent: boolean | undefined, p: P.TypedParams): Guest {
    const cur = num(p['balloon.current']);
    const max = num(p['balloon.maximum']);
    return this.toGuest(
      dom,
      persistent,
      { state: num(p['state.state']) ?? S.NOSTATE, reason: num(p['state.reason']) ?? 0 },
      {
        vcpus: num(p['vcpu.current']),
        memoryBytes: cur !== undefined ? cur * 1024 : undefined,
        maxMemoryBytes: max !== undefined ? max * 1024 : undefined,
      },
    );
  }

  /** One domain from per-domain calls (info + state reason). */
  private async guestPerDomain(c: LibvirtClient, dom: P.RemoteDomain, persistent: boolean | undefined): Promise<Guest | undefined> {
    try {
      const [info, st, pers] = await Promise.all([
        c.domainGetInfo(dom),
        c.domainGetState(dom),
        persistent === undefined ? c.domainIsPersistent(dom) : Promise.resolve(persistent),
      ]);
      return this.guestFromInfo(dom, pers, info, st.reason);
    } catch (e) {
      if (e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN) return undefined; // vanished meanwhile
      throw e;
    }
  }

  /**
   * Bulk stats for every domain, or undefined when the driver has none (VIR_ERR_NO_SUPPORT,
   * remembered so it is asked only once per backend).
   */
  private async bulk(c: LibvirtClient, stats: number, flags: number): Promise<P.DomainStatsRecord[] | undefined> {
    if (this.bulkStats === false) return undefined;
    try {
      const records = await c.connectGetAllDomainStats([], stats, flags);
      this.bulkStats = true;
      return records;
    } catch (e) {
      if (!isUnsupported(e)) throw e;
      this.bulkStats = false;
      return undefined;
    }
  }

  async list(): Promise<Guest[]> {
    const c = await this.client();
    // Persistence comes from two filtered lists; all three calls are in flight at once.
    const [persistent, transient, records] = await Promise.all([
      c.listAllDomains(P.ListAllDomainsFlags.PERSISTENT),
      c.listAllDomains(P.ListAllDomainsFlags.TRANSIENT),
      this.bulk(c, LIST_STATS, 0),
    ]);
    const all: { dom: P.RemoteDomain; persistent: boolean }[] = [
      ...persistent.map((dom) => ({ dom, persistent: true })),
      ...transient.map((dom) => ({ dom, persistent: false })),
    ];
    const byUuid = new Map<string, P.TypedParams>();
    for (const r of records ?? []) byUuid.set(r.dom.uuid.toString('hex'), r.params);

    const cache = new Map<string, CachedInfo>();
    const guests: (Guest | undefined)[] = await mapLimit(all, this.options.concurrency ?? 32, async ({ dom, persistent: pers }) => {
      const key = dom.uuid.toString('hex');
      const params = byUuid.get(key);
      if (!params || params['state.state'] === undefined) {
        return this.guestPerDomain(c, dom, pers); // no bulk stats (lxc), or defined after the stats call
      }
      if (params['vcpu.current'] !== undefined || params['balloon.current'] !== undefined) return this.guestFromStats(dom, pers, params);
      // Bulk stats with state only (the test driver): size from getInfo, kept while state and id stay.
      const state = num(params['state.state']);
      let cached = this.infoCache.get(key);
      if (!cached || cached.state !== state || cached.id !== dom.id) {
        try {
          cached = { state, id: dom.id, info: await c.domainGetInfo(dom) };
        } catch (e) {
          if (e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN) return undefined;
          throw e;
        }
      }
      cache.set(key, cached);
      return this.guestFromInfo(dom, pers, { ...cached.info, state: state ?? cached.info.state }, num(params['state.reason']) ?? 0);
    });
    this.infoCache = cache;
    return guests.filter((g): g is Guest => g !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Guest ids are UUIDs; a name is accepted too. */
  private lookup(c: LibvirtClient, guestId: string): Promise<P.RemoteDomain> {
    return UUID_RE.test(guestId) ? c.domainLookupByUUID(guestId) : c.domainLookupByName(guestId);
  }

  async get(guestId: string): Promise<Guest | undefined> {
    const c = await this.client();
    let dom: P.RemoteDomain;
    try {
      dom = await this.lookup(c, guestId);
    } catch (e) {
      if (e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN) return undefined;
      throw e;
    }
    return this.guestPerDomain(c, dom, undefined);
  }

  async perform(guestId: string, verb: Verb): Promise<void> {
    const c = await this.client();
    const dom = await this.lookup(c, guestId);
    this.infoCache.delete(dom.uuid.toString('hex'));
    switch (verb) {
      case 'start':
        return c.domainCreate(dom);
      case 'shutdown':
        return c.domainShutdown(dom);
      case 'reboot':
        return c.domainReboot(dom, 0);
      case 'suspend':
        return c.domainSuspend(dom);
      case 'resume': {
        const st = await c.domainGetState(dom);
        return st.state === S.PMSUSPENDED ? c.domainPMWakeup(dom, 0) : c.domainResume(dom);
      }
      case 'forceOff':
        return c.domainDestroy(dom);
      case 'delete':
        return this.undefine(c, dom);
      default:
        throw new BackendError(`unknown verb ${String(verb)}`, 'EINVAL');
    }
  }

  /** Undefine with managed save, snapshot/checkpoint metadata and NVRAM; fewer flags where the driver refuses some. */
  private async undefine(c: LibvirtClient, dom: P.RemoteDomain): Promise<void> {
    for (let i = this.deleteFlagsIndex; i < DELETE_FLAG_FALLBACKS.length; i++) {
      try {
        await c.domainUndefineFlags(dom, DELETE_FLAG_FALLBACKS[i]);
        this.deleteFlagsIndex = i;
        return;
      } catch (e) {
        if (isUnsupported(e) && DELETE_FLAG_FALLBACKS[i] === 0) return c.domainUndefine(dom); // very old driver: no UNDEFINE_FLAGS
        if (!isRejectedFlags(e) || i === DELETE_FLAG_FALLBACKS.length - 1) throw e;
      }
    }
  }

  async definition(guestId: string): Promise<Definition> {
    const c = await this.client();
    const dom = await this.lookup(c, guestId);
    return { language: 'xml', text: await c.domainGetXMLDesc(dom, 0) };
  }

  /** The machine the domains run on (their processes, pid files, cgroups). */
  get host(): Host {
    if (this.options.host && !isThisMachine(this.options.host)) return this.options.host;
    // qemu+ssh://user@host/system typed as is: the host is the URI's destination
    if (isSshLibvirtUri(this.config.uri!)) return (this.ownSsh ??= sshHostForLibvirtUri(this.config.uri!, this.options.ssh));
    return this.options.host ?? localHost;
  }
  private ownSsh: SshHost | undefined;

  /**
   * What this connection can do for `guest`: its definition and bulk stats always; programs
   * inside it (QEMU: the guest agent; libvirt-LXC: nsenter on the host); a monitor for QEMU
   * domains; the host process where the driver runs on this machine.
   */
  capabilities(guest?: Guest): Capabilities {
    const caps: Capabilities = { definition: new LibvirtDefinitions(this), stats: { all: (o) => this.stats(o) } };
    if (!guest) {
      const events = this.objectEvents;
      return { ...caps, storage: new LibvirtStorage(() => this.client(), events), networks: new LibvirtNetworks(() => this.client(), events) };
    }
    if (guest.kind === 'qemu') caps.exec = new QemuAgentExecutor(() => this.client(), guest);
    if (guest.kind === 'libvirt-lxc') caps.exec = new NsenterExecutor(this.host, guest);
    if (guest.kind === 'qemu') caps.monitor = { command: (cmd, o) => this.monitorCommand(guest.id, cmd, o) };
    if (guest.kind === 'qemu')
      caps.snapshots = new LibvirtSnapshots(
        () => this.client(),
        (c) => this.lookup(c, guest.id),
      );
    if (guest.kind === 'qemu')
      caps.clone = new LibvirtClone(
        () => this.client(),
        (c) => this.lookup(c, guest.id),
      );
    if (guest.kind === 'qemu' || guest.kind === 'libvirt-lxc')
      caps.console = new LibvirtConsole(
        () => this.client(),
        (c) => this.lookup(c, guest.id),
        guest.name,
      );
    if (guest.kind === 'qemu') caps.graphics = this.graphics(guest);
    if (isLocalLibvirtUri(this.config.uri ?? '') && (guest.kind === 'qemu' || guest.kind === 'libvirt-lxc')) {
      const host = this.host;
      const kind = guest.kind;
      caps.hostProcess = { host, pid: () => libvirtDomainPid(host, kind, guest.name) };
      if (kind === 'libvirt-lxc') caps.shell = nsenterShell(host, () => this.lxcInitPid(host, guest.name));
      caps.log = libvirtLog(host, kind, guest.name);
    }
    return caps;
  }

  /** The QEMU domain's display from its live XML: its socket on the domain's host, a TCP port only on this machine. */
  private graphics(guest: Guest) {
    const driverOnHost = isLocalLibvirtUri(this.config.uri ?? '');
    const xml = async () => {
      const c = await this.client();
      return c.domainGetXMLDesc(await this.lookup(c, guest.id), 0);
    };
    // qemu:///system with an SshHost is that host's libvirt: its sockets, but no TCP port from here
    return domainGraphics(guest.name, xml, { local: driverOnHost && isThisMachine(this.options.host), host: driverOnHost ? this.host : this.options.host });
  }

  /** The init of a running libvirt-LXC domain on `host`. */
  private async lxcInitPid(host: Host, name: string): Promise<number> {
    const controller = await libvirtDomainPid(host, 'libvirt-lxc', name);
    const init = controller ? await libvirtLxcInitOn(host, controller) : undefined;
    if (!init) throw new BackendError(`"${name}" is not running on ${host.label}: no init process to enter`, 'ESRCH');
    return init;
  }

  /** A QEMU monitor command on a running qemu domain; HMP text by default (QMP JSON with hmp: false). */
  async monitorCommand(guestId: string, command: string, opts: { hmp?: boolean; timeoutMs?: number } = {}): Promise<string> {
    const c = await this.client();
    const dom = await this.lookup(c, guestId);
    const flags = opts.hmp === false ? P.QemuMonitorCommandFlags.DEFAULT : P.QemuMonitorCommandFlags.HMP;
    return c.domainMonitorCommand(dom, command, flags, { timeoutMs: opts.timeoutMs });
  }

  /** Define (or redefine) a persistent domain from XML; returns its UUID. */
  async defineXML(xml: string, flags = 0): Promise<string> {
    const c = await this.client();
    const dom = await c.domainDefineXMLFlags(xml, flags);
    return P.uuidToString(dom.uuid);
  }

  // ---- stats ------------------------------------------------------------------------

  /**
   * Stats of every domain in bulk-stats naming (state.*, cpu.time, balloon.*, vcpu.*, net.*,
   * block.*). Drivers without bulk stats (libvirt-LXC) get the same fields from per-domain
   * calls: info, state, and memory stats of active domains.
   */
  async stats(options: StatsOptions = {}): Promise<DomainStats[]> {
    const c = await this.client();
    const stats = options.stats ?? DEFAULT_STATS;
    const records = await this.bulk(c, stats, options.flags ?? 0);
    if (records) {
      return records.map((r) => ({ uuid: uuidOf(r.dom), name: r.dom.name, id: r.dom.id, params: r.params, source: 'bulk' }));
    }
    const doms = await c.listAllDomains(options.flags ?? 0);
    const out = await mapLimit(doms, this.options.concurrency ?? 32, (dom) => this.statsPerDomain(c, dom, stats));
    return out.filter((s): s is DomainStats => s !== undefined);
  }

  private async statsPerDomain(c: LibvirtClient, dom: P.RemoteDomain, stats: number): Promise<DomainStats | undefined> {
    const params: P.TypedParams = {};
    const active = dom.id > 0;
    const optional = <T>(p: Promise<T>, empty: T) => p.catch((e) => (isUnsupported(e) ? empty : Promise.reject(e)));
    try {
      const [info, st] = await Promise.all([c.domainGetInfo(dom), c.domainGetState(dom)]);
      if (stats & P.DomainStatsType.STATE) {
        params['state.state'] = st.state;
        params['state.reason'] = st.reason;
      }
      if (stats & P.DomainStatsType.CPU_TOTAL) params['cpu.time'] = info.cpuTime;
      if (stats & P.DomainStatsType.VCPU) params['vcpu.current'] = info.nrVirtCpu;
      if (stats & P.DomainStatsType.BALLOON) {
        params['balloon.current'] = info.memory;
        params['balloon.maximum'] = info.maxMem;
      }
      const wantMem = active && (stats & P.DomainStatsType.BALLOON) !== 0;
      const wantNet = active && (stats & P.DomainStatsType.INTERFACE) !== 0;
      const wantBlock = active && (stats & P.DomainStatsType.BLOCK) !== 0;
      const devices = wantNet || wantBlock ? await this.devicesOf(c, dom) : { interfaces: [], disks: [] };
      const [mem, nets, blocks] = await Promise.all([
        wantMem ? optional(c.domainMemoryStats(dom), []) : [],
        wantNet ? Promise.all(devices.interfaces.map((d) => optional(c.domainInterfaceStats(dom, d), undefined))) : [],
        // no disks (libvirt-LXC): libvirt's empty path means "the whole domain"
        wantBlock ? Promise.all((devices.disks.length ? devices.disks : ['']).map((d) => optional(c.domainBlockStats(dom, d), undefined))) : [],
      ]);
      for (const m of mem) {
        const name = P.MEMORY_STAT_NAMES[m.tag];
        if (name) params[`balloon.${name}`] = m.val;
      }
      if (wantNet) addDeviceStats(params, 'net', devices.interfaces, nets, netFields);
      if (wantBlock) addDeviceStats(params, 'block', devices.disks.length ? devices.disks : [''], blocks, blockFields);
    } catch (e) {
      if (e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN) return undefined;
      throw e;
    }
    return { uuid: P.uuidToString(dom.uuid), name: dom.name, id: dom.id, params, source: 'per-domain' };
  }

  /** Interface and disk targets of a running domain, read from its XML once per run (id). */
  private async devicesOf(c: LibvirtClient, dom: P.RemoteDomain): Promise<DomainDevices> {
    const key = dom.uuid.toString('hex');
    const cached = this.deviceCache.get(key);
    if (cached && cached.id === dom.id) return cached.devices;
    const devices = parseDeviceTargets(await c.domainGetXMLDesc(dom, 0));
    this.deviceCache.set(key, { id: dom.id, devices });
    return devices;
  }

  // ---- events -----------------------------------------------------------------------

  subscribe(listener: (ev: BackendEvent) => void): boolean {
    const first = this.listeners.size === 0;
    this.listeners.add(listener);
    if (first && this.clientValue && !this.clientValue.closed) {
      void this.registerEvents(this.clientValue);
    }
    return true;
  }

  unsubscribe(listener: (ev: BackendEvent) => void): void {
    this.listeners.delete(listener);
    const c = this.clientValue;
    if (this.listeners.size === 0 && c && this.eventCallbackId !== undefined) {
      const id = this.eventCallbackId;
      this.eventCallbackId = undefined;
      void c.domainEventCallbackDeregisterAny(id).catch(() => undefined);
    }
  }

  /** Resolves once lifecycle events are registered with the daemon (false: they could not be). */
  subscribed(): Promise<boolean> {
    return this.registration ?? Promise.resolve(this.eventCallbackId !== undefined);
  }

  private registerEvents(c: LibvirtClient): Promise<boolean> {
    if (this.eventCallbackId !== undefined) return Promise.resolve(true);
    this.registration ??= c
      .domainEventCallbackRegisterAny(P.DomainEventId.LIFECYCLE, null)
      .then(
        (id) => {
          this.eventCallbackId = id;
          this.eventsError = undefined;
          return true;
        },
        (e: Error) => {
          this.eventsError = e;
          return false;
        },
      )
      .finally(() => {
        this.registration = undefined;
      });
    return this.registration;
  }

  private onLifecycle(m: P.LifecycleEventMsg): void {
    if (m.callbackID !== this.eventCallbackId) return;
    this.infoCache.delete(m.dom.uuid.toString('hex'));
    this.deviceCache.delete(m.dom.uuid.toString('hex'));
    const ev: BackendEvent = {
      type: 'changed',
      guestId: P.uuidToString(m.dom.uuid),
      name: m.dom.name,
      reason: P.describeLifecycleEvent(m.event, m.detail),
    };
    for (const l of this.listeners) l(ev);
  }
}

/** A domain's UUID string, made once per domain object (bulk stats hand back the same objects every tick). */
const uuidStrings = new WeakMap<P.RemoteDomain, string>();
function uuidOf(dom: P.RemoteDomain): string {
  let s = uuidStrings.get(dom);
  if (s === undefined) uuidStrings.set(dom, (s = P.uuidToString(dom.uuid)));
  return s;
}
