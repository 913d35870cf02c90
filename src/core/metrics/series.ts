// Counters → rates, and the in-memory history (a ring buffer per guest with a fixed bound).
import { IoCounters, NetCounters } from './parse';

/** What a collector reads for one guest (or the host) at one instant: cumulative counters and gauges. */
export interface Counters {
  /** CPU time consumed, ns (cumulative). */
  cpuNs?: number;
  /** Per-vCPU time, ns (cumulative), QEMU only. */
  vcpuNs?: number[];
  /** CPUs the guest may use: vCPUs, the cgroup quota in cores, or the host's CPUs. */
  cpuCap?: number;
  /** Host CPU jiffies (host only: busy/total per tick give the host's own %). */
  hostCpu?: { busy: number; total: number };
  memUsed?: number;
  memAlloc?: number;
  io?: IoCounters;
  net?: NetCounters;
  /** PSI "some" avg10 (%), where the kernel/cgroup has it. */
  psi?: { cpu?: number; memory?: number; io?: number };
}

/** Host-side series of a guest (the same keys describe the host itself). */
export const HOST_KEYS = [
  'cpu', // % of the host (all host CPUs = 100 %)
  'cpuAlloc', // % of the guest's own CPUs (vCPUs / quota)
  'vcpu0',
  'vcpu1',
  'vcpu2',
  'vcpu3',
  'vcpu4',
  'vcpu5',
  'vcpu6',
  'vcpu7', // % of one core, per vCPU
  'memUsed',
  'memAlloc', // bytes
  'diskRd',
  'diskWr',
  'diskRdOps',
  'diskWrOps', // bytes/s, ops/s
  'netRx',
  'netTx',
  'netRxPkts',
  'netTxPkts', // bytes/s, packets/s
  'psiCpu',
  'psiMem',
  'psiIo', // some avg10, %
] as const;

/** Series read inside the guest (its own /proc). */
export const GUEST_KEYS = [
  'gCpu',
  'gMemUsed',
  'gMemTotal',
  'gLoad1',
  'gDiskRd',
  'gDiskWr',
  'gDiskRdOps',
  'gDiskWrOps',
  'gNetRx',
  'gNetTx',
  'gNetRxPkts',
  'gNetTxPkts',
  'gPsiCpu',
  'gPsiMem',
  'gPsiIo',
] as const;

export type HostKey = (typeof HOST_KEYS)[number];
/** Where each HOST_KEYS key sits in a row (see deriveRow). */
const AT = Object.fromEntries(HOST_KEYS.map((k, i) => [k, i])) as Record<HostKey, number>;
/** Row index of vCPU 0's key; vCPU i is at VCPU0 + i, up to VCPU_MAX of them. */
const VCPU0 = AT.vcpu0;
const VCPU_MAX = HOST_KEYS.filter((k) => k.startsWith('vcpu')).length;
export type GuestKey = (typeof GUEST_KEYS)[number];
export type Point = Partial<Record<string, number>>;

/** rateN() with undefined for "no value". */
export function rate(prev: number | undefined, cur: number | undefined, dtSec: number): number | undefined {
  const r = rateN(prev, cur, dtSec);
  return Number.isNaN(r) ? undefined : r;
}

/** A row of host-side series: one float64 per HOST_KEYS key, NaN where there is no value. */
export function newRow(): Float64Array {
  return new Float64Array(HOST_KEYS.length).fill(NaN);
}

/** (cur − prev) / dt, or NaN when either is missing or the counter went back (reset, restart). */
function rateN(prev: number | undefined, cur: number | undefined, dtSec: number): number {
  if (prev === undefined || cur === undefined || !(dtSec > 0)) return NaN;
  const d = cur - prev;
  return d < 0 ? NaN : d / dtSec;
}

/**
 * One point of host-side series from two readings `dtSec` apart, written into `row` (HOST_KEYS
 * order, NaN where there is no value) and returned. `hostCpus` is the host's CPU count: a guest
 * using one full core on a 2-CPU host shows cpu = 50 % and, with 1 vCPU, cpuAlloc = 100 %.
 * The sampler reuses one row for every guest: no object per guest per tick, no lookups by name.
 */
export function deriveRow(row: Float64Array, prev: Counters | undefined, cur: Counters, dtSec: number, hostCpus: number): Float64Array {
  row.fill(NaN);
  row[AT.memUsed] = cur.memUsed ?? NaN;
  row[AT.memAlloc] = cur.memAlloc ?? NaN;
  if (cur.hostCpu && prev?.hostCpu) {
    const busy = cur.hostCpu.busy - prev.hostCpu.busy;
    const total = cur.hostCpu.total - prev.hostCpu.total;
    if (total > 0 && busy >= 0) row[AT.cpu] = (100 * busy) / total;
  } else {
    const cores = rateN(prev?.cpuNs, cur.cpuNs, dtSec) / 1e9; // cores in use
    row[AT.cpu] = (100 * cores) / Math.max(1, hostCpus);
    row[AT.cpuAlloc] = (100 * cores) / Math.max(1e-9, cur.cpuCap ?? hostCpus);
  }
  if (cur.vcpuNs && prev?.vcpuNs) {
    const n = Math.min(VCPU_MAX, cur.vcpuNs.length);
    for (let i = 0; i < n; i++) row[VCPU0 + i] = rateN(prev.vcpuNs[i], cur.vcpuNs[i], dtSec) / 1e7; // ns/s → % of one core
  }
  if (cur.io && prev?.io) {
    row[AT.diskRd] = rateN(prev.io.rdBytes, cur.io.rdBytes, dtSec);
    row[AT.diskWr] = rateN(prev.io.wrBytes, cur.io.wrBytes, dtSec);
    row[AT.diskRdOps] = rateN(prev.io.rdOps, cur.io.rdOps, dtSec);
    row[AT.diskWrOps] = rateN(prev.io.wrOps, cur.io.wrOps, dtSec);
  }
  if (cur.net && prev?.net) {
    row[AT.netRx] = rateN(prev.net.rxBytes, cur.net.rxBytes, dtSec);
    row[AT.netTx] = rateN(prev.net.txBytes, cur.net.txBytes, dtSec);
    row[AT.netRxPkts] = rateN(prev.net.rxPkts, cur.net.rxPkts, dtSec);
    row[AT.netTxPkts] = rateN(prev.net.txPkts, cur.net.txPkts, dtSec);
  }
  if (cur.psi) {
    row[AT.psiCpu] = cur.psi.cpu ?? NaN;
    row[AT.psiMem] = cur.psi.memory ?? NaN;
    row[AT.psiIo] = cur.psi.io ?? NaN;
  }
  return row;
}

/** Sets a row's memAlloc (the host's own row: its total memory). */
export function setRowMemAlloc(row: Float64Array, bytes: number): void {
  row[AT.memAlloc] = bytes;
}

/** The same point as a Point (keys with a value only): for the guest side and tests. */
export function derive(prev: Counters | undefined, cur: Counters, dtSec: number, hostCpus: number): Point {
  const row = deriveRow(newRow(), prev, cur, dtSec, hostCpus);
  const p: Point = {};
  for (let i = 0; i < row.length; i++) if (!Number.isNaN(row[i])) p[HOST_KEYS[i]] = row[i];
  return p;
}

/** Columns for a chart: timestamps (ms) and one array per key, null where a value is missing. */
export interface Columns {
  t: number[];
  series: Record<string, Array<number | null>>;
}

/**
 * Fixed-size history: `capacity` points of a fixed key set. Timestamps are float64, values float32
 * (7 significant digits are plenty for a chart), so one ring costs capacity × (8 + 4 × keys) bytes
 * and never grows. See ringBytes().
 *
 * One buffer, one row per point (time, then the values): a push writes one contiguous row, so a tick
 * over 100 guests dirties ~100 pages, not one page per key per guest. That matters after every
 * fork (an execFile anywhere in the process): each first write to a page then costs a fault.
 * Rings taken from a RingPool go further: they share a buffer row by row (see RingBlock).
 */
export class Ring {
  /** Row r: float64 time at float32 index r × pitch + offset (4-aligned, hence the DataView), float32 values after it. */
  private readonly time: DataView;
  private readonly v: Float32Array;
  /** float32 slots per row: 2 for the time, then one per key. */
  private readonly stride: number;
  /** float32 slots from one row of this ring to the next (stride, or a block's whole row). */
  private readonly pitch: number;
  /** This ring's first float32 slot in the buffer. */
  private readonly offset: number;
  private head = 0;
  private count = 0;
  private readonly index = new Map<string, number>();

  /** `shared`: a slot of a RingBlock's buffer instead of a buffer of its own. */
  constructor(
    readonly keys: readonly string[],
    readonly capacity: number,
    shared?: { block: RingBlock; slot: number },
  ) {
    this.stride = 2 + keys.length;
    const buf = shared ? shared.block.buffer : new ArrayBuffer(ringBytes(keys.length, capacity));
    this.pitch = shared ? this.stride * shared.block.slots : this.stride;
    this.offset = shared ? this.stride * shared.slot : 0;
    this.time = new DataView(buf);
    this.v = new Float32Array(buf);
    keys.forEach((k, i) => this.index.set(k, i));
  }

  /** Starts the (empty) ring at row `head`: rings of a block that start where the others are write side by side. */
  alignTo(head: number): void {
    if (this.count === 0) this.head = head % this.capacity;
  }

  get headRow(): number {
    return this.head;
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return ringBytes(this.keys.length, this.capacity);
  }

  private tAt(row: number): number {
    return this.time.getFloat64((row * this.pitch + this.offset) * 4, true);
  }

  push(t: number, p: Point): void {
    const base = this.head * this.pitch + this.offset;
    this.time.setFloat64(base * 4, t, true);
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const x = p[keys[i]];
      this.v[base + 2 + i] = x === undefined || !Number.isFinite(x) ? NaN : x;
    }
    this.advance();
  }

  /** push() of a row in this ring's key order (deriveRow's for HOST_KEYS): values by index, not by name. */
  pushRow(t: number, row: ArrayLike<number>): void {
    const base = this.head * this.pitch + this.offset + 2;
    this.time.setFloat64((base - 2) * 4, t, true);
    const v = this.v;
    for (let i = 0; i < this.keys.length; i++) {
      const x = row[i];
      v[base + i] = x - x === 0 ? x : NaN; // finite values only: x − x is NaN for ±Infinity and NaN
    }
    this.advance();
  }

  private advance(): void {
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.count < this.capacity) this.count++;
  }

  last(): { t: number; p: Point } | undefined {
    if (!this.count) return undefined;
    const i = (this.head - 1 + this.capacity) % this.capacity;
    const base = i * this.pitch + this.offset + 2;
    const p: Point = {};
    this.keys.forEach((k, j) => {
      const x = this.v[base + j];
      if (!Number.isNaN(x)) p[k] = x;
    });
    return { t: this.tAt(i), p };
  }

  /** Points with t ≥ since (ms), oldest first; only `keys` when given. */
  columns(since = -Infinity, keys: readonly string[] = this.keys): Columns {
    const t: number[] = [];
    const idx = keys.map((k) => this.index.get(k)).filter((i): i is number => i !== undefined);
    const cols = idx.map(() => [] as Array<number | null>);
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let n = 0; n < this.count; n++) {
      const j = (start + n) % this.capacity;
      const tj = this.tAt(j);
      if (tj < since) continue;
      t.push(tj);
      const base = j * this.pitch + this.offset + 2;
      for (let c = 0; c < idx.length; c++) {
        const x = this.v[base + idx[c]];
        cols[c].push(Number.isNaN(x) ? null : x);
      }
    }
    const series: Record<string, Array<number | null>> = {};
    idx.forEach((i, c) => (series[this.keys[i]] = cols[c]));
    return { t, series };
  }
}

/**
 * `slots` rings in one buffer, interleaved row by row: row r of every ring in the block is one
 * contiguous run (slots × row bytes). A tick that pushes a point to each of 100 guests then writes
 * ~13 pages instead of 100 — after a fork each first write to a page is a fault, and VS Code's
 * extension host forks for every execFile.
 */
export class RingBlock {
  readonly buffer: ArrayBuffer;
  private readonly free: number[] = [];

  constructor(
    readonly keys: readonly string[],
    readonly capacity: number,
    readonly slots: number,
  ) {
    this.buffer = new ArrayBuffer(ringBytes(keys.length, capacity) * slots);
    for (let i = slots - 1; i >= 0; i--) this.free.push(i);
  }

  get used(): number {
    return this.slots - this.free.length;
  }

  /** A new empty ring in a free slot, or undefined when the block is full. */
  take(): { ring: Ring; slot: number } | undefined {
    const slot = this.free.pop();
    return slot === undefined ? undefined : { ring: new Ring(this.keys, this.capacity, { block: this, slot }), slot };
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}

/**
 * Rings of one key set from blocks of 1, 2, 4, then `maxSlots` slots (a host with few guests keeps
 * little slack; at most maxSlots − 1 empty slots per pool). A new ring starts at the row where the
 * pool's last push was, so the rings of a block stay side by side.
 */
export class RingPool {
  private readonly blocks: RingBlock[] = [];
  private readonly owner = new Map<Ring, { block: RingBlock; slot: number }>();
  private head = 0;

  constructor(
    readonly keys: readonly string[],
    readonly capacity: number,
    private readonly maxSlots = 8,
  ) {}

  take(): Ring {
    let got: { ring: Ring; slot: number } | undefined;
    let block: RingBlock | undefined;
    for (const b of this.blocks) if (!got && (got = b.take())) block = b;
    if (!got || !block) {
      block = new RingBlock(this.keys, this.capacity, Math.min(this.maxSlots, 2 ** this.blocks.length));
      this.blocks.push(block);
      got = block.take()!;
    }
    this.owner.set(got.ring, { block, slot: got.slot });
    got.ring.alignTo(this.head);
    return got.ring;
  }

  /** Remembers where rows are being written now (call after a round of pushes). */
  pushed(ring: Ring): void {
    this.head = ring.headRow;
  }

  /** Gives a ring's slot back; a block left empty is dropped (its memory goes with it). */
  release(ring: Ring): void {
    const o = this.owner.get(ring);
    if (!o) return;
    this.owner.delete(ring);
    o.block.release(o.slot);
    if (o.block.used === 0) this.blocks.splice(this.blocks.indexOf(o.block), 1);
  }

  /** Buffers held (bytes), empty slots included. */
  get bytes(): number {
    return this.blocks.reduce((n, b) => n + b.buffer.byteLength, 0);
  }
}

/** Bytes one ring holds: capacity × (8 bytes of time + 4 bytes per key). */
export function ringBytes(keys: number, capacity: number): number {
  return capacity * (8 + 4 * keys);
}

/** History points kept per guest: one hour at 1 s; a longer interval keeps a longer span. */
export const HISTORY_POINTS = 3600;
