// The model virtscope shows and acts on: hosts → connections → guests, and beside the hosts the
// clusters (`virtscope.lxd`: one connection each, whose guests are spread over its members). This
// machine (the `virtscope.connections`) and every `virtscope.hosts` entry, reached over SSH, whose
// connections are discovered on it. Views render it, commands and pickers query it; connections start when a view or a
// picker needs them (open()), not when a tree happens to ask for children. No vscode import.
import { EventEmitter } from 'node:events';
import { createBackend } from './backends';
import { isSshLibvirtUri } from './libvirt/sshTransport';
import { parseQemuSshUri } from './host/sshConfig';
import { Connection, ConnectionOptions, ConnectionStatus, GuestDiff, Logger, nullLogger } from './connection';
import type { AskpassHandler } from './host/askpass';
import type { Host } from './host/host';
import { localHost } from './host/local';
import { SshHost, SshUnreachableError } from './host/ssh';
import { DiscoverConnections, HostEntry, LOCAL_HOST_ID } from './hosts';
import { Backend, ClusterMember, ConnectionConfig, Guest } from './model';

/** A host reached over the network: it can be (re)connected and must be closed. */
export interface RemoteHost extends Host {
  /** Brings the transport up (ssh's master connection); rejects with SshUnreachableError when it cannot. */
  connect(): Promise<void>;
  /** Is the link alive now (a program through the live transport)? Rejects with SshUnreachableError when not. */
  check(): Promise<void>;
  dispose(): Promise<void>;
}

export type HostStatus =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting' }
  | { readonly state: 'ready' }
  /** `reason`: SSH's own words ("Connection refused"); retried by itself after `retryInMs` (0: not, the user declined ssh's question). */
  | { readonly state: 'unreachable'; readonly reason: string; readonly since: number; readonly retryInMs: number };

/** One host of the model, as views and commands see it. */
export interface ModelHost {
  readonly id: string;
  /** "This machine", or the entry's label (default its destination). */
  readonly label: string;
  readonly remote: boolean;
  /** The `virtscope.hosts` entry of a remote host. */
  readonly entry?: HostEntry;
  /** Where programs and sockets of this host are reached. */
  readonly host: Host;
  readonly status: HostStatus;
  readonly connections: readonly Connection[];
}

/** A guest as the model knows it now: `guest` is read live (undefined once it is gone). */
export interface GuestRef {
  readonly conn: Connection;
  readonly guestId: string;
  readonly guest: Guest | undefined;
}

export interface InventoryEvents {
  /** Hosts were added or removed. */
  hosts: [];
  /** A host's status or its set of connections changed. */
  host: [ModelHost];
  /** A connection's status changed. */
  status: [Connection, ConnectionStatus];
  /** Guests of a connection were added, changed or removed. */
  guests: [Connection, GuestDiff];
  /** Clusters were added or removed. */
  clusters: [];
  /** A cluster's members changed. */
  members: [Connection, readonly ClusterMember[]];
}

export interface InventoryOptions {
  /** What runs on a remote host (src/core/backends/discover.ts). */
  discover: DiscoverConnections;
  /** The Host of a `virtscope.hosts` entry; default an SshHost. */
  remoteHost?: (entry: HostEntry) => RemoteHost;
  /** A connection's backend on its host; default createBackend. */
  backend?: (config: ConnectionConfig, host: Host) => Backend;
  /** For every Connection (poll interval, reconnect back-off). */
  connection?: ConnectionOptions;
  log?: Logger;
  /** Back-off of a remote host that cannot be reached: first delay and cap. */
  hostRetryMinMs?: number;
  hostRetryMaxMs?: number;
  /** This machine; default localHost. */
  local?: Host;
}

export const LOCAL_HOST_LABEL = 'This machine';

/** SSH's own reason when the error (or its cause) says the host could not be reached. */
export function sshReasonOf(e: unknown): string | undefined {
  for (let x = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    if (x instanceof SshUnreachableError) return x.sshReason;
    const r = (x as { sshReason?: unknown }).sshReason;
    if (typeof r === 'string' && r) return r;
  }
  return undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class HostState implements ModelHost {
  status: HostStatus;
  connections: Connection[] = [];
  /** Discovery ran once: later recoveries only probe the transport. */
  discovered = false;
  attempt: Promise<void> | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  retryDelay: number;
  /** The user cancelled one of ssh's questions: no automatic retry (no question again) until Reconnect. */
  declined = false;
  /** When the outage under way began (kept across retries and Reconnect). */
  outageSince: number | undefined;
  disposed = false;

  constructor(
    readonly id: string,
    readonly label: string,
    readonly host: Host,
    readonly entry: HostEntry | undefined,
    retryMinMs: number,
  ) {
    this.status = entry ? { state: 'idle' } : { state: 'ready' };
    this.retryDelay = retryMinMs;
  }
  get remote(): boolean {
    return this.entry !== undefined;
  }
  get remoteHost(): RemoteHost {
    return this.host as RemoteHost;
  }
}

export class Inventory extends EventEmitter<InventoryEvents> {
  private readonly local: HostState;
  private remotes: HostState[] = [];
  /** The clusters (`virtscope.lxd`), each one connection, shown as roots beside the hosts. */
  private clusterConns: Connection[] = [];
  private readonly opts: InventoryOptions & { hostRetryMinMs: number; hostRetryMaxMs: number; log: Logger };
  /** A view or picker asked for the model: connections start (and new ones as they appear). */
  private opened = false;
  private visible = false;
  private disposed = false;

  constructor(opts: InventoryOptions) {
    super();
    this.opts = {
      ...opts,
      hostRetryMinMs: opts.hostRetryMinMs ?? 1000,
      hostRetryMaxMs: opts.hostRetryMaxMs ?? 30_000,
      log: opts.log ?? opts.connection?.log ?? nullLogger,
    };
    this.local = new HostState(LOCAL_HOST_ID, LOCAL_HOST_LABEL, opts.local ?? localHost, undefined, this.opts.hostRetryMinMs);
  }

  // ---- queries ------------------------------------------------------------------------------

  /** This machine first, then the remote hosts by label. */
  get hosts(): readonly ModelHost[] {
    return [this.local, ...[...this.remotes].sort((a, b) => a.label.localeCompare(b.label))];
  }

  host(id: string): ModelHost | undefined {
    return this.hosts.find((h) => h.id === id);
  }

  /** Every connection, in host order, then the clusters. */
  get connections(): readonly Connection[] {
    return [...this.hosts.flatMap((h) => h.connections), ...this.clusterConns];
  }

  /** The clusters, by label. */
  get clusters(): readonly Connection[] {
    return [...this.clusterConns].sort((a, b) => a.label.localeCompare(b.label));
  }

  connection(id: string): Connection | undefined {
    return this.connections.find((c) => c.config.id === id);
  }

  hostOf(conn: Connection): ModelHost | undefined {
    return this.hosts.find((h) => h.connections.includes(conn));
  }

  /** The guests known now, in host and connection order, by name within a connection. */
  guests(filter: (g: Guest, conn: Connection) => boolean = () => true): GuestRef[] {
    const out: GuestRef[] = [];
    for (const conn of this.connections) {
      const gs = [...conn.guests.values()].filter((g) => filter(g, conn)).sort((a, b) => a.name.localeCompare(b.name));
      for (const g of gs) out.push(guestRef(conn, g.id));
    }
    return out;
  }

  // ---- what is configured ---------------------------------------------------------------------

  /** This machine's connections (`virtscope.connections`); unchanged entries keep their live connection. */
  setLocalConnections(configs: readonly ConnectionConfig[], opts: { rebuild?: boolean } = {}): void {
    this.local.connections = this.reconcile(this.local, configs, opts.rebuild ?? false);
    this.emit('host', this.local);
    if (this.opened) this.startIdle(this.local);
  }

  /** The remote hosts (`virtscope.hosts`): unchanged entries keep their host, connections and guests. */
  setHosts(entries: readonly HostEntry[]): void {
    const kept: HostState[] = [];
    for (const h of this.remotes) {
      if (entries.some((e) => sameJson(e, h.entry))) kept.push(h);
      else void this.disposeHost(h);
    }
    for (const e of entries) {
      if (kept.some((h) => h.id === e.id)) continue;
      const make = this.opts.remoteHost ?? ((en: HostEntry) => sshHostFor(en));
      kept.push(new HostState(e.id, e.label ?? e.destination, make(e), e, this.opts.hostRetryMinMs));
    }
    this.remotes = kept;
    this.emit('hosts');
    if (this.opened) for (const h of this.remotes) if (h.status.state === 'idle') void this.connectHost(h, true);
  }

  /**
   * The clusters (`virtscope.lxd`): unchanged entries keep their live connection. One whose socket is
   * on a remote host (`hostId`) is reached through that host.
   */
  setClusters(configs: readonly ConnectionConfig[]): void {
    const old = new Map(this.clusterConns.map((c) => [c.config.id, c]));
    this.clusterConns = configs.map((config) => {
      const live = old.get(config.id);
      if (live && sameJson(live.config, config)) return (old.delete(config.id), live);
      const h = (config.hostId && this.remotes.find((r) => r.id === config.hostId)) || this.local;
      return this.makeConnection(h, config);
    });
    for (const c of old.values()) void c.dispose();
    this.emit('clusters');
    if (this.opened) for (const c of this.clusterConns) if (c.status.state === 'idle') void c.start();
  }

  // ---- life -----------------------------------------------------------------------------------

  /**
   * A view or a picker needs the model: idle connections start and remote hosts are reached.
   * Resolves when each has a first answer (connected, or unreachable with its reason).
   */
  async open(): Promise<void> {
    this.opened = true;
    const waits: Promise<void>[] = [...this.startIdle(this.local), ...this.clusterConns.filter((c) => c.status.state === 'idle').map((c) => c.start())];
    for (const h of this.remotes) {
      if (h.status.state === 'idle') waits.push(this.connectHost(h, true));
      else if (h.attempt) waits.push(h.attempt);
      else waits.push(...this.startIdle(h));
    }
    await Promise.all(waits);
  }

  /** Polling backends are polled only while a view shows them; showing the view opens the model. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    for (const c of this.connections) c.setVisible(visible);
    if (visible) void this.open();
  }

  /**
   * The user cancelled one of ssh's questions for this host (a host key, a password): it is not retried
   * by itself, so the question does not come back unasked; Reconnect Host asks again.
   */
  declined(id: string): void {
    const h = this.remotes.find((r) => r.id === id);
    if (h) h.declined = true;
  }

  /** Reconnect Host: a remote host is reached and its connections discovered again; this machine's connections refresh. */
  async reconnectHost(id: string): Promise<void> {
    const h = id === LOCAL_HOST_ID ? this.local : this.remotes.find((r) => r.id === id);
    if (!h) return;
    if (!h.remote) return void (await Promise.all(h.connections.map((c) => c.refresh())));
    h.retryDelay = this.opts.hostRetryMinMs;
    h.declined = false;
    await h.attempt;
    await this.connectHost(h, true);
    // asked for by the user: a service that is down on a reachable host is tried now too
    if (h.status.state === 'ready') await Promise.all(h.connections.filter((c) => c.status.state === 'unreachable').map((c) => c.refresh()));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([
      ...this.local.connections.map((c) => c.dispose()),
      ...this.clusterConns.map((c) => c.dispose()),
      ...this.remotes.map((h) => this.disposeHost(h)),
    ]);
    this.removeAllListeners();
  }

  // ---- connections ----------------------------------------------------------------------------

  private startIdle(h: HostState): Promise<void>[] {
    return h.connections.filter((c) => c.status.state === 'idle').map((c) => c.start());
  }

  /** Keeps the live connections whose config is unchanged, makes the new ones, disposes the rest. */
  private reconcile(h: HostState, configs: readonly ConnectionConfig[], rebuild: boolean): Connection[] {
    const old = new Map(h.connections.map((c) => [c.config.id, c]));
    const next = configs.map((config) => {
      const live = old.get(config.id);
      if (live && !rebuild && sameJson(live.config, config)) {
        old.delete(config.id);
        return live;
      }
      return this.makeConnection(h, config);
    });
    for (const c of old.values()) void c.dispose();
    return next;
  }

  private makeConnection(h: HostState, config: ConnectionConfig): Connection {
    const backend = this.opts.backend ?? createBackend;
    const c = new Connection(config, (cfg) => backend(cfg, this.sshHostOf(cfg) ?? h.host), this.opts.connection);
    c.on('status', (s) => {
      this.emit('status', c, s);
      if (s.state === 'unreachable' && h.remote) this.onRemoteConnectionDown(h);
    });
    c.on('guests', (d) => this.emit('guests', c, d));
    c.on('members', (m) => this.emit('members', c, m));
    c.setVisible(this.visible);
    return c;
  }

  /**
   * A typed qemu+ssh:// connection reuses the Host (one master) of the `virtscope.hosts` entry with the
   * same destination, unless its keyfile=/no_verify= ask for other ssh options; else the backend makes its own.
   */
  private sshHostOf(cfg: ConnectionConfig): Host | undefined {
    if (cfg.type !== 'libvirt' || !cfg.uri || !isSshLibvirtUri(cfg.uri)) return undefined;
    const u = parseQemuSshUri(cfg.uri);
    if (u.params.keyfile || u.params.no_verify === '1') return undefined;
    return this.remotes.find((r) => r.entry?.destination === u.destination && r.entry?.port === u.port)?.host;
  }

  // ---- remote hosts ---------------------------------------------------------------------------

  private setHostStatus(h: HostState, s: HostStatus): void {
    h.status = s;
    this.emit('host', h);
  }

  /**
   * Reaches the host (and, when asked or never done, discovers its connections). Unreachable: SSH's
   * own reason, retried with back-off. Concurrent callers share one attempt.
   */
  private connectHost(h: HostState, discover: boolean): Promise<void> {
    if (h.attempt) return h.attempt;
    clearTimeout(h.retryTimer);
    h.retryTimer = undefined;
    const run = async () => {
      const was = h.status;
      // an automatic retry keeps showing the outage (no flicker); a first attempt or Reconnect shows progress
      if (was.state === 'idle' || discover) this.setHostStatus(h, { state: 'connecting' });
      try {
        await h.remoteHost.connect();
        if (discover || !h.discovered) {
          const configs = await this.opts.discover(h.host, `${h.id}/`);
          if (h.disposed) return;
          h.connections = this.reconcile(h, configs, false);
          h.discovered = true;
        }
        if (h.disposed) return;
        h.retryDelay = this.opts.hostRetryMinMs;
        h.outageSince = undefined;
        for (const c of h.connections) c.holdReconnect(false);
        this.setHostStatus(h, { state: 'ready' });
        if (was.state !== 'ready') this.opts.log.info(`${h.label}: reachable (${h.connections.length} connections)`);
        // back from an outage: its connections try now instead of waiting out their own back-off (only
        // then: a service that is down on a reachable host keeps its own back-off)
        if (was.state === 'unreachable') await Promise.all(h.connections.map((c) => (c.status.state === 'unreachable' ? c.refresh() : undefined)));
        if (this.opened) await Promise.all(this.startIdle(h));
      } catch (e) {
        if (!h.disposed) this.hostUnreachable(h, e);
      }
    };
    h.attempt = run().finally(() => (h.attempt = undefined));
    return h.attempt;
  }

  private hostUnreachable(h: HostState, e: unknown): void {
    const reason = sshReasonOf(e) ?? (e instanceof Error ? e.message : String(e));
    const first = h.outageSince === undefined;
    const since = (h.outageSince ??= Date.now());
    // the host is retried for all its connections: theirs would each try ssh (and ask its questions) again
    for (const c of h.connections) c.holdReconnect(true);
    const delay = h.declined ? 0 : h.retryDelay;
    h.retryDelay = Math.min(this.opts.hostRetryMaxMs, h.retryDelay * 2);
    this.setHostStatus(h, { state: 'unreachable', reason, since, retryInMs: delay });
    if (first) this.opts.log.warn(`${h.label}: unreachable: ${reason}`);
    else this.opts.log.debug(`${h.label}: still unreachable: ${reason}`);
    if (h.declined) return this.opts.log.info(`${h.label}: not retried by itself (a question of ssh was cancelled): Reconnect Host tries again`);
    h.retryTimer = setTimeout(() => {
      h.retryTimer = undefined;
      if (!h.disposed && !this.disposed) void this.connectHost(h, false);
    }, delay);
    h.retryTimer.unref?.();
  }

  /**
   * A connection of a ready remote host dropped: is it the host (SSH) or only that service? Asked of
   * the link itself: a dead one answers with SSH's own reason at once, instead of a new login first
   * waiting out its connect timeout. Anything but SSH's verdict leaves the host ready.
   */
  private onRemoteConnectionDown(h: HostState): void {
    if (h.status.state !== 'ready' || h.attempt || h.disposed) return;
    const probe = async () => {
      try {
        await h.remoteHost.check();
      } catch (e) {
        if (!h.disposed && !this.disposed && sshReasonOf(e) !== undefined) this.hostUnreachable(h, e);
      }
    };
    h.attempt = probe().finally(() => (h.attempt = undefined));
  }

  private async disposeHost(h: HostState): Promise<void> {
    h.disposed = true;
    clearTimeout(h.retryTimer);
    await Promise.all(h.connections.map((c) => c.dispose()));
    await h.remoteHost.dispose().catch(() => {});
  }
}

function guestRef(conn: Connection, guestId: string): GuestRef {
  return {
    conn,
    guestId,
    get guest() {
      return conn.guest(guestId);
    },
  };
}

/** The Host of a `virtscope.hosts` entry: the system's ssh; `askpass` answers its questions (else BatchMode). */
/** `configFile`: ssh -F (virtscope.ssh.configFile); default ssh's own. */
export function sshHostFor(entry: HostEntry, askpass?: AskpassHandler, configFile?: string): RemoteHost {
  return new SshHost({ destination: entry.destination, port: entry.port, label: entry.label ?? entry.destination, askpass, configFile });
}
