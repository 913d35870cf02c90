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
  'vcpu0', 'vcpu1', 'vcpu2', 'vcpu3', 'vcpu4', 'vcpu5', 'vcpu6', 'vcpu7', // % of one core, per vCPU
  'memUsed', 'memAlloc', // bytes
  'diskRd', 'diskWr', 'diskRdOps', 'diskWrOps', // bytes/s, ops/s
  'netRx', 'netTx', 'netRxPkts', 'netTxPkts', // bytes/s, packets/s
  'psiCpu', 'psiMem', 'psiIo', // some avg10, %
] as const;

/** Series read inside the guest (its own /proc). */
export const GUEST_KEYS = [
  'gCpu', 'gMemUsed', 'gMemTotal', 'gLoad1',
  'gDiskRd', 'gDiskWr', 'gDiskRdOps', 'gDiskWrOps',
  'gNetRx', 'gNetTx', 'gNetRxPkts', 'gNetTxPkts',
  'gPsiCpu', 'gPsiMem', 'gPsiIo',
] as const;

export type HostKey = (typeof HOST_KEYS)[number];
/** The per-vCPU keys of HOST_KEYS, by vCPU index. */
const VCPU_KEYS = HOST_KEYS.filter((k) => k.startsWith('vcpu'));
export type GuestKey = (typeof GUEST_KEYS)[number];
export type Point = Partial<Record<string, number>>;

/** (cur − prev) / dt, or undefined when either is missing or the counter went back (reset, restart). */
export function rate(prev: number | undefined, cur: number | undefined, dtSec: number): number | undefined {
  if (prev === undefined || cur === undefined || !(dtSec > 0)) return undefined;
  const d = cur - prev;
  return d < 0 ? undefined : d / dtSec;
}

/**
 * One point of host-side series from two readings `dtSec` apart. `hostCpus` is the host's CPU count:
 * a guest using one full core on a 2-CPU host shows cpu = 50 % and, with 1 vCPU, cpuAlloc = 100 %.
 */
export function derive(prev: Counters | undefined, cur: Counters, dtSec: number, hostCpus: number): Point {
  const p: Point = { memUsed: cur.memUsed, memAlloc: cur.memAlloc };
  if (cur.hostCpu && prev?.hostCpu) {
    const busy = cur.hostCpu.busy - prev.hostCpu.busy;
    const total = cur.hostCpu.total - prev.hostCpu.total;
    if (total > 0 && busy >= 0) p.cpu = (100 * busy) / total;
  } else {
    const cores = rate(prev?.cpuNs, cur.cpuNs, dtSec);
    if (cores !== undefined) {
      const c = cores / 1e9; // cores in use
      p.cpu = (100 * c) / Math.max(1, hostCpus);
      p.cpuAlloc = (100 * c) / Math.max(1e-9, cur.cpuCap ?? hostCpus);
    }
  }
  if (cur.vcpuNs && prev?.vcpuNs) {
    for (let i = 0; i < Math.min(VCPU_KEYS.length, cur.vcpuNs.length); i++) {
      const r = rate(prev.vcpuNs[i], cur.vcpuNs[i], dtSec);
      if (r !== undefined) p[VCPU_KEYS[i]] = r / 1e7; // ns/s → % of one core
    }
  }
  if (cur.io && prev?.io) {
    p.diskRd = rate(prev.io.rdBytes, cur.io.rdBytes, dtSec);
    p.diskWr = rate(prev.io.wrBytes, cur.io.wrBytes, dtSec);
    p.diskRdOps = rate(prev.io.rdOps, cur.io.rdOps, dtSec);
    p.diskWrOps = rate(prev.io.wrOps, cur.io.wrOps, dtSec);
  }
  if (cur.net && prev?.net) {
    p.netRx = rate(prev.net.rxBytes, cur.net.rxBytes, dtSec);
    p.netTx = rate(prev.net.txBytes, cur.net.txBytes, dtSec);
    p.netRxPkts = rate(prev.net.rxPkts, cur.net.rxPkts, dtSec);
    p.netTxPkts = rate(prev.net.txPkts, cur.net.txPkts, dtSec);
  }
  if (cur.psi) {
    p.psiCpu = cur.psi.cpu;
    p.psiMem = cur.psi.memory;
    p.psiIo = cur.psi.io;
  }
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
 */
export class Ring {
  /** Row r: float64 time at byte r × rowBytes (4-aligned, hence the DataView), float32 values after it. */
  private readonly time: DataView;
  private readonly v: Float32Array;
  /** float32 slots per row: 2 for the time, then one per key. */
  private readonly stride: number;
  private head = 0;
  private count = 0;
  private readonly index = new Map<string, number>();

  constructor(
    readonly keys: readonly string[],
    readonly capacity: number,
  ) {
    this.stride = 2 + keys.length;
    const buf = new ArrayBuffer(ringBytes(keys.length, capacity));
    this.time = new DataView(buf);
    this.v = new Float32Array(buf);
    keys.forEach((k, i) => this.index.set(k, i));
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return ringBytes(this.keys.length, this.capacity);
  }

  private tAt(row: number): number {
    return this.time.getFloat64(row * this.stride * 4, true);
  }

  push(t: number, p: Point): void {
    const base = this.head * this.stride;
    this.time.setFloat64(base * 4, t, true);
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      const x = p[keys[i]];
      this.v[base + 2 + i] = x === undefined || !Number.isFinite(x) ? NaN : x;
    }
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.count < this.capacity) this.count++;
  }

  last(): { t: number; p: Point } | undefined {
    if (!this.count) return undefined;
    const i = (this.head - 1 + this.capacity) % this.capacity;
    const base = i * this.stride + 2;
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
      const base = j * this.stride + 2;
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

/** Bytes one ring holds: capacity × (8 bytes of time + 4 bytes per key). */
export function ringBytes(keys: number, capacity: number): number {
  return capacity * (8 + 4 * keys);
}

/** History points kept per guest: one hour at 1 s; a longer interval keeps a longer span. */
export const HISTORY_POINTS = 3600;
