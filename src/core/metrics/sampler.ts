// The sampler: one collection per connection per tick (collect.ts) plus the host's /proc
// (hostReader.ts), turned into rates and kept in fixed-size rings, and the guest-side view of the
// guests a panel asks for (guestSide.ts). It runs only while someone holds a subscription (a visible
// panel) and stops when the last one is released.
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import { requireCapability } from '../capabilities';
import { Connection } from '../connection';
import { GuestExecAborted } from '../guest/exec';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { KeptFiles, keptFiles, ProcFiles } from '../host/procFiles';
import { ReadBatch } from '../host/readBatch';
import { collectConnection, HostProcesses } from './collect';
import { deriveGuestSide, GuestSideState, readGuestSide } from './guestSide';
import { readHost } from './hostReader';
import { Counters, deriveRow, GUEST_KEYS, HISTORY_POINTS, HOST_KEYS, newRow, Ring, ringBytes, RingPool, setRowMemAlloc } from './series';

export const HOST_ID = '@host';

/** Bytes of history one guest costs per hour at 1 s (host-side + guest-side rings). */
export const BYTES_PER_GUEST_HOUR = ringBytes(HOST_KEYS.length, HISTORY_POINTS) + ringBytes(GUEST_KEYS.length, HISTORY_POINTS);

export interface SamplerOptions {
  intervalMs: number;
  /** The machine whose own counters are the host rows (default: this machine). */
  host?: Host;
  /** Connections by id (the extension's live set). */
  connection: (id: string) => Connection | undefined;
  /** Guest-side reads happen at most this often (they run a program in the guest). */
  guestSideMinMs?: number;
  /** A guest-side read that takes longer is killed (a hung agent or engine must not stop the view). */
  guestSideTimeoutMs?: number;
  log?: { warn(m: string): void; debug(m: string): void };
}

export interface Subscription {
  readonly connectionId?: string;
  /** Also read the guest-side view of this guest. */
  readonly guestSide?: string;
}

interface GuestHistory {
  ring: Ring;
  prev?: Counters;
  prevT?: number;
  name: string;
  lastSeen: number;
}

/** A tick ended: its start time and the connections it collected. */
export interface TickEvent {
  readonly t: number;
  readonly connections: readonly string[];
}

export interface SamplerEvents {
  tick: [event: TickEvent];
}

/** History: host() / guest(conn, id) rings; guestSide(conn, id) for the guest-side view. */
export class Sampler extends EventEmitter<SamplerEvents> {
  private subs = new Map<number, Subscription>();
  private nextSub = 1;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inTick = false;
  private readonly hostRing = new Ring(HOST_KEYS, HISTORY_POINTS);
  private readonly hostMachine: Host;
  /** The host's /proc files, open while the sampler runs. */
  private readonly procFiles: KeptFiles;
  private hostPrev: Counters | undefined;
  private hostPrevT = 0;
  /** The row every guest's point is derived into before it is copied to its ring. */
  private readonly row = newRow();
  /** Host-side histories: connection id → guest id → history. */
  private readonly guests = new Map<string, Map<string, GuestHistory>>();
  /** Their rings, per connection id: side by side, so a tick writes few pages (see RingBlock). */
  private readonly pools = new Map<string, RingPool>();
  private readonly sides = new Map<string, GuestSideState>();
  /** Host processes of guests, per connection id. */
  private readonly procs = new Map<string, HostProcesses>();
  /** Errors of the last tick per connection id. */
  readonly errors = new Map<string, string>();
  hostCpus = os.cpus().length;
  hostMemTotal = os.totalmem();
  ticks = 0;
  /** CPU time (user+system, µs) the last tick cost this process, and its wall time (ms). */
  lastTickCpuUs = 0;
  lastTickMs = 0;

  constructor(private opts: SamplerOptions) {
    super();
    this.hostMachine = opts.host ?? localHost;
    this.procFiles = keptFiles(this.hostMachine);
  }

  get active(): boolean {
    return this.running;
  }

  get intervalMs(): number {
    return this.opts.intervalMs;
  }

  setInterval(ms: number): void {
    this.opts = { ...this.opts, intervalMs: Math.max(250, ms) };
  }

  /** Hold a subscription while a consumer is visible; the returned function releases it. */
  subscribe(s: Subscription): () => void {
    const id = this.nextSub++;
    this.subs.set(id, s);
    if (!this.running) this.start();
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.subs.size === 0) this.stop();
    };
  }

  get subscribers(): number {
    return this.subs.size;
  }

  private start(): void {
    this.running = true;
    void this.tick();
  }

  private stop(): void {
    this.running = false;
    this.procFiles.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Chained timeouts, never overlapping: a slow tick delays the next one instead of piling up. A tick
   * called from outside (tests, the bench) replaces the pending one, which would otherwise be lost
   * and never cleared.
   */
  private schedule(startedAt: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const wait = Math.max(50, this.opts.intervalMs - (Date.now() - startedAt));
    this.timer = setTimeout(() => void this.tick(), wait);
  }

  /** One collection: the host and every subscribed connection. Exposed for tests and the bench. */
  async tick(): Promise<void> {
    if (this.inTick) return;
    this.inTick = true;
    const started = Date.now();
    const cpu0 = process.cpuUsage();
    const ids = new Set<string>();
    const sideFor: Array<[string, string]> = [];
    for (const s of this.subs.values()) {
      if (s.connectionId) ids.add(s.connectionId);
      if (s.connectionId && s.guestSide) sideFor.push([s.connectionId, s.guestSide]);
    }
    // the files of a tick, per host, are read together (one SSH channel per remote host and round)
    const reads = new ReadBatch();
    try {
      await Promise.all([this.sampleHost(reads), ...[...ids].map((id) => this.sampleConnection(id, reads))]);
      for (const [c, g] of sideFor) this.maybeGuestSide(c, g);
    } finally {
      this.ticks++;
      const cpu = process.cpuUsage(cpu0);
      this.lastTickCpuUs = cpu.user + cpu.system;
      this.lastTickMs = Date.now() - started;
      this.inTick = false;
      if (!this.running) this.procFiles.close(); // a tick called with no subscription holds no files
      this.emit('tick', { t: started, connections: [...ids] });
      this.schedule(started);
    }
  }

  private async sampleHost(reads: ReadBatch): Promise<void> {
    try {
      // this machine's files stay open between ticks; another host's join the tick's batch
      const files = this.procFiles instanceof ProcFiles ? this.procFiles : keptFiles(reads.of(this.hostMachine));
      const h = await readHost(files, this.hostMachine);
      const t = Date.now();
      this.hostCpus = h.cpus;
      this.hostMemTotal = h.memTotal;
      if (this.hostPrev) {
        const row = deriveRow(this.row, this.hostPrev, h, (t - this.hostPrevT) / 1000, h.cpus);
        setRowMemAlloc(row, h.memTotal);
        this.hostRing.pushRow(t, row);
      }
      this.hostPrev = h;
      this.hostPrevT = t;
    } catch (e) {
      this.errors.set(HOST_ID, (e as Error).message);
    }
  }

  private async sampleConnection(id: string, reads: ReadBatch): Promise<void> {
    const conn = this.opts.connection(id);
    if (conn?.status.state === 'idle') void conn.start(); // a panel restored before the tree was shown
    if (!conn || conn.status.state !== 'connected') return;
    try {
      let procs = this.procs.get(id);
      if (!procs) this.procs.set(id, (procs = new HostProcesses()));
      const readings = await collectConnection(conn, this.hostCpus, procs, reads);
      const t = Date.now();
      let histories = this.guests.get(id);
      if (!histories) this.guests.set(id, (histories = new Map()));
      let pool = this.pools.get(id);
      if (!pool) this.pools.set(id, (pool = new RingPool(HOST_KEYS, HISTORY_POINTS)));
      let last: Ring | undefined;
      for (const r of readings) {
        let h = histories.get(r.guestId);
        if (!h) histories.set(r.guestId, (h = { ring: pool.take(), name: r.name, lastSeen: t }));
        if (h.prev) h.ring.pushRow(t, deriveRow(this.row, h.prev, r.counters, h.prevT ? (t - h.prevT) / 1000 : 0, this.hostCpus));
        h.prev = r.counters;
        h.prevT = t;
        h.lastSeen = t;
        last = h.ring;
      }
      if (last) pool.pushed(last);
      this.errors.delete(id);
      procs.prune(conn);
      // forget guests not seen for an hour (their rings are the only growth)
      const p = pool;
      histories.forEach((h, k, m) => {
        if (t - h.lastSeen <= 3_600_000) return;
        m.delete(k);
        p.release(h.ring);
      });
    } catch (e) {
      this.errors.set(id, (e as Error).message);
      this.opts.log?.debug(`metrics: ${id}: ${(e as Error).message}`);
    }
  }

  /** Starts a guest-side read of the guest when it is due (at most one at a time per guest). */
  private maybeGuestSide(connectionId: string, guestId: string): void {
    const key = `${connectionId}\0${guestId}`;
    let st = this.sides.get(key);
    if (!st) this.sides.set(key, (st = { ok: false, ring: new Ring(GUEST_KEYS, HISTORY_POINTS), busy: false, nextAt: 0 }));
    const now = Date.now();
    if (st.busy || now < st.nextAt) return;
    const conn = this.opts.connection(connectionId);
    const guest = conn?.guest(guestId);
    if (!conn || !guest || conn.status.state !== 'connected') return;
    if (guest.state !== 'running') {
      st.ok = false;
      st.error = `${guest.name} is ${guest.state}: the guest-side view needs a running guest.`;
      st.hint = undefined;
      return;
    }
    st.busy = true;
    st.nextAt = now + Math.max(this.opts.intervalMs, this.opts.guestSideMinMs ?? 2000);
    void this.readSide(st, conn, guest.id, guest.name);
  }

  private async readSide(s: GuestSideState, conn: Connection, guestId: string, name: string): Promise<void> {
    try {
      const guest = conn.guest(guestId);
      if (!guest) throw new Error(`${name} is gone`);
      const exec = requireCapability(conn.requireBackend(), guest, 'exec');
      s.via = exec.description;
      const reading = await readGuestSide(exec, name, this.opts.guestSideTimeoutMs ?? 15_000);
      const p = deriveGuestSide(s.last, reading);
      if (s.last) s.ring.push(reading.t, p);
      s.last = reading;
      s.ok = true;
      s.error = s.hint = undefined;
    } catch (e) {
      s.ok = false;
      s.error = (e as Error).message;
      s.hint = (e as { hint?: string }).hint;
      // an absent agent answers quickly: do not hammer it; after a timeout the wait was long enough
      if (!(e instanceof GuestExecAborted)) s.nextAt = Date.now() + 10_000;
    } finally {
      s.busy = false;
    }
  }

  host(): Ring {
    return this.hostRing;
  }

  guest(connectionId: string, guestId: string): Ring | undefined {
    return this.guests.get(connectionId)?.get(guestId)?.ring;
  }

  /** The latest raw counters of a guest (for the comparison panel). */
  counters(connectionId: string, guestId: string): Counters | undefined {
    return this.guests.get(connectionId)?.get(guestId)?.prev;
  }

  guestSide(connectionId: string, guestId: string): GuestSideState | undefined {
    return this.sides.get(`${connectionId}\0${guestId}`);
  }

  dispose(): void {
    this.subs.clear();
    this.stop();
    this.removeAllListeners();
  }
}
