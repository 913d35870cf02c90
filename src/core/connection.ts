// One connection to one host API: keeps the guest list, follows changes (events, or polling while
// visible for backends without events), reconnects by itself, and reports only what changed.
import { EventEmitter } from 'node:events';
import { Backend, BackendError, BackendEvent, ClusterMember, ConnectionConfig, Guest, Verb } from './model';

export type ConnectionStatus =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting' }
  | { readonly state: 'connected' }
  | { readonly state: 'unreachable'; readonly message: string; readonly hint?: string; readonly since: number };

export interface GuestDiff {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export const nullLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export interface ConnectionOptions {
  /** Events within this window are coalesced into one relist. */
  debounceMs?: number;
  /** Poll interval for backends without events (only while visible). */
  pollMs?: number;
  /** Reconnect back-off: first delay and cap. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  log?: Logger;
}

export type BackendFactory = (config: ConnectionConfig) => Backend;

function sameGuest(a: Guest, b: Guest): boolean {
  return (
    a.name === b.name &&
    a.state === b.state &&
    a.rawState === b.rawState &&
    a.vcpus === b.vcpus &&
    a.memoryBytes === b.memoryBytes &&
    a.maxMemoryBytes === b.maxMemoryBytes &&
    a.image === b.image &&
    a.runtimeId === b.runtimeId &&
    a.persistent === b.persistent &&
    a.location === b.location &&
    a.project === b.project
  );
}

/** Compares two guest lists by id. */
export function diffGuests(before: ReadonlyMap<string, Guest>, after: ReadonlyMap<string, Guest>): GuestDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [id, g] of after) {
    const old = before.get(id);
    if (!old) added.push(id);
    else if (!sameGuest(old, g)) changed.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) removed.push(id);
  return { added, changed, removed };
}

/** What a Connection emits: its status, and which guests were added, changed or removed. */
export interface ConnectionEvents {
  status: [ConnectionStatus];
  guests: [GuestDiff];
  /** A cluster's members changed (status, roles, message…). */
  members: [readonly ClusterMember[]];
}

export class Connection extends EventEmitter<ConnectionEvents> {
  private backend: Backend | undefined;
  /** The backend being connected (start() in progress): dispose() closes it too. */
  private opening: Backend | undefined;
  private _status: ConnectionStatus = { state: 'idle' };
  private _guests = new Map<string, Guest>();
  private _members: readonly ClusterMember[] = [];
  private pushes = false;
  private visible = false;
  private disposed = false;
  private debounceTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  /** Guests whose events said only they changed, re-read one by one at the next debounce (unless a relist is due). */
  private pendingIds = new Set<string>();
  private pendingRelist = false;
  /** While its host is unreachable, the host retries for it: no reconnect timer of its own. */
  private held = false;
  private readonly opts: Required<ConnectionOptions>;
  /** Bumped on every (re)connect so stale backend events are ignored. */
  private generation = 0;
  /** The outage under way: when it began and the status that first described it. */
  private outage: { since: number; status: Extract<ConnectionStatus, { state: 'unreachable' }> } | undefined;

  constructor(
    readonly config: ConnectionConfig,
    private readonly factory: BackendFactory,
    opts: ConnectionOptions = {},
  ) {
    super();
    this.opts = {
      debounceMs: opts.debounceMs ?? 150,
      pollMs: opts.pollMs ?? 1000,
      reconnectMinMs: opts.reconnectMinMs ?? 500,
      reconnectMaxMs: opts.reconnectMaxMs ?? 5000,
      log: opts.log ?? nullLogger,
    };
    this.reconnectDelay = this.opts.reconnectMinMs;
  }

  get label(): string {
    return this.config.label ?? this.config.id;
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  get guests(): ReadonlyMap<string, Guest> {
    return this._guests;
  }

  guest(id: string): Guest | undefined {
    return this._guests.get(id);
  }

  /** A cluster's members as last listed ([] for a single-host backend, or while not connected). */
  get members(): readonly ClusterMember[] {
    return this._members;
  }

  /** Takes the members the backend read with its last list; says so when they changed. */
  private takeMembers(b: Backend | undefined): void {
    const next = b?.members?.() ?? [];
    if (JSON.stringify(next) === JSON.stringify(this._members)) return;
    this._members = next;
    this.emit('members', next);
  }

  /** The live backend (for callers that need more than the guest list, e.g. definitions). */
  requireBackend(): Backend {
    if (!this.backend || this._status.state !== 'connected') {
      const s = this._status;
      throw new BackendError(
        s.state === 'unreachable' ? `${this.label} is unreachable: ${s.message}` : `${this.label} is not connected`,
        undefined,
        s.state === 'unreachable' ? s.hint : undefined,
      );
    }
    return this.backend;
  }

  private setStatus(s: ConnectionStatus): void {
    this._status = s;
    this.emit('status', s);
  }

  /** Connect (idempotent while connecting/connected). Resolves when connected or unreachable. */
  async start(): Promise<void> {
    if (this.disposed) return;
    if (this._status.state === 'connecting' || this._status.state === 'connected') return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.setStatus({ state: 'connecting' });
    const gen = ++this.generation;
    const backend = this.factory(this.config);
    this.opening = backend;
    try {
      await backend.connect();
      if (this.opening === backend) this.opening = undefined;
      if (this.disposed || gen !== this.generation) {
        await backend.close().catch(() => {});
        return;
      }
      this.backend = backend;
      this.pushes = backend.subscribe((ev) => this.onBackendEvent(gen, ev));
      const list = await backend.list();
      if (this.disposed || gen !== this.generation) return;
      // One consistent update: the guests and the "connected" status arrive together.
      const next = new Map(list.map((g) => [g.id, g]));
      const diff = diffGuests(this._guests, next);
      this._guests = next;
      this.reconnectDelay = this.opts.reconnectMinMs;
      this.takeMembers(backend);
      this.setStatus({ state: 'connected' });
      if (diff.added.length || diff.changed.length || diff.removed.length) this.emit('guests', diff);
      this.logConnected();
      this.updatePolling();
    } catch (e) {
      if (this.opening === backend) this.opening = undefined;
      await backend.close().catch(() => {});
      if (gen !== this.generation) return;
      this.backend = undefined;
      this.becomeUnreachable(e);
    }
  }

  private logConnected(): void {
    const how = this.pushes ? 'events' : 'polling while visible';
    if (!this.outage) return this.opts.log.info(`${this.label}: connected (${how})`);
    const secs = Math.round((Date.now() - this.outage.since) / 100) / 10;
    this.outage = undefined;
    this.opts.log.info(`${this.label}: reachable again after ${secs} s (${how})`);
  }

  /**
   * One warning per outage; each failed retry only at debug. Within an outage a bare reason
   * (no hint) never replaces one that says how to fix it.
   */
  private becomeUnreachable(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    const hint = err instanceof BackendError ? err.hint : undefined;
    const text = `${this.label}: unreachable: ${err.message}${hint ? ` (${hint})` : ''}`;
    const first = !this.outage;
    if (!this.outage || hint || !this.outage.status.hint) {
      const since = this.outage?.since ?? Date.now();
      this.outage = { since, status: { state: 'unreachable', message: err.message, hint, since } };
    }
    this.setStatus(this.outage.status);
    this.takeMembers(undefined);
    if (first) this.opts.log.warn(text);
    else this.opts.log.debug(`${text} (still unreachable, retrying)`);
    if (this._guests.size) {
      const removed = [...this._guests.keys()];
      this._guests = new Map();
      this.emit('guests', { added: [], changed: [], removed } satisfies GuestDiff);
    }
    this.stopPolling();
    this.scheduleReconnect();
  }

  /**
   * Holds (or releases) this connection's own reconnect timer: the model does when the whole host is
   * unreachable, and retries the host instead (one attempt, one ssh question, for all its connections).
   */
  holdReconnect(on: boolean): void {
    this.held = on;
    if (!on) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private scheduleReconnect(): void {
    if (this.disposed || this.reconnectTimer || this.held) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.opts.reconnectMaxMs, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this._status.state === 'unreachable') void this.start();
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private onBackendEvent(gen: number, ev: BackendEvent): void {
    if (gen !== this.generation || this.disposed) return;
    if (ev.type === 'disconnected') {
      const b = this.backend;
      this.backend = undefined;
      this.generation++;
      void b?.close().catch(() => {});
      this.becomeUnreachable(ev.error);
      return;
    }
    if (ev.type === 'members') return this.takeMembers(this.backend);
    this.opts.log.debug(`${this.label}: event ${ev.reason} ${ev.name ?? ev.guestId ?? ''}`);
    if (ev.only && ev.guestId) this.pendingIds.add(ev.guestId);
    else this.pendingRelist = true;
    this.schedule();
  }

  /** Coalesces bursts of events into one relist. */
  scheduleRefresh(): void {
    this.pendingRelist = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      const ids = [...this.pendingIds];
      const relist = this.pendingRelist || this.refreshing !== undefined || !ids.length;
      this.pendingIds.clear();
      this.pendingRelist = false;
      void (relist ? this.refresh() : this.refreshGuests(ids)).catch(() => {});
    }, this.opts.debounceMs);
  }

  /** Re-reads only these guests (get()); a failure falls back to a relist. */
  private async refreshGuests(ids: string[]): Promise<void> {
    const b = this.backend;
    if (!b || this._status.state !== 'connected') return;
    let got: Array<Guest | undefined>;
    try {
      got = await Promise.all(ids.map((id) => b.get(id)));
    } catch {
      return this.refresh();
    }
    if (b !== this.backend) return;
    const next = new Map(this._guests);
    ids.forEach((id, i) => (got[i] ? next.set(id, got[i]!) : next.delete(id)));
    const diff = diffGuests(this._guests, next);
    this._guests = next;
    if (diff.added.length || diff.changed.length || diff.removed.length) this.emit('guests', diff);
  }

  /** Re-reads the guest list now; concurrent calls share one run (and one more after it). */
  async refresh(): Promise<void> {
    if (this._status.state === 'unreachable' || this._status.state === 'idle') {
      this.reconnectDelay = this.opts.reconnectMinMs;
      return this.start();
    }
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const gen = this.generation;
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          await this.relist();
        } while (this.refreshAgain);
      } catch (e) {
        // Already handled (the disconnect event came first, or dispose): its reason stays.
        if (gen !== this.generation || this.disposed) return;
        // A failed list on a live connection means the host went away: reconnect.
        const b = this.backend;
        this.backend = undefined;
        this.generation++;
        await b?.close().catch(() => {});
        this.becomeUnreachable(e);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async relist(): Promise<void> {
    const b = this.backend;
    if (!b) return;
    const list = await b.list();
    if (b !== this.backend) return;
    const next = new Map(list.map((g) => [g.id, g]));
    const diff = diffGuests(this._guests, next);
    this._guests = next;
    this.takeMembers(b);
    if (diff.added.length || diff.changed.length || diff.removed.length) this.emit('guests', diff);
  }

  /** Runs a lifecycle verb and refreshes. Errors carry the host's own message. */
  async perform(guestId: string, verb: Verb): Promise<void> {
    const b = this.requireBackend();
    const g = this._guests.get(guestId);
    this.opts.log.info(`${this.label}: ${verb} ${g?.name ?? guestId}`);
    try {
      await b.perform(guestId, verb);
    } finally {
      await this.refresh().catch(() => {});
    }
  }

  /** Polling backends are polled only while a view shows this connection. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.updatePolling();
  }

  private updatePolling(): void {
    const want = this.visible && !this.pushes && this._status.state === 'connected' && !this.disposed;
    if (want && !this.pollTimer) {
      const tick = async () => {
        await this.refresh().catch(() => {});
        if (this.pollTimer) this.pollTimer = setTimeout(tick, this.opts.pollMs);
      };
      this.pollTimer = setTimeout(tick, this.opts.pollMs);
    } else if (!want) this.stopPolling();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  get polling(): boolean {
    return this.pollTimer !== undefined;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.generation++;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.reconnectTimer);
    this.stopPolling();
    const b = this.backend;
    const opening = this.opening;
    this.backend = undefined;
    this.opening = undefined;
    await Promise.all([b?.close().catch(() => {}), opening?.close().catch(() => {})]);
    this.removeAllListeners();
  }
}
