// Parsers for the text the sampler reads: the host's /proc files, cgroup v1 and v2 files, PSI, df,
// and the engine's stats JSON. Pure functions (unit-tested on recorded outputs, test/fixtures/metrics).
import type { EngineStats } from '../capabilities';

export type { EngineStats };

/** /proc/stat "cpu" lines: jiffies per field. `total` = all fields but guest/guest_nice (already in user/nice). */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export interface ProcStat {
  readonly all: CpuTimes;
  readonly perCpu: CpuTimes[];
}

// The host's /proc files are parsed on every sampler tick: the parsers below walk the text by
// character codes (no split, regex or per-field strings), the cost that counts at 1 Hz.

const SPACE = 32;
const TAB = 9;
const isBlank = (c: number) => c === SPACE || c === TAB;

/** End of the line that starts at `at` (the index of its '\n', or the text's length). */
function lineEnd(text: string, at: number): number {
  const e = text.indexOf('\n', at);
  return e < 0 ? text.length : e;
}

/** Fields of `text[at, end)` from field `from` on (0-based, blank-separated) as numbers into `out`; returns their count. */
function numbersOf(text: string, at: number, end: number, from: number, out: number[], max = out.length): number {
  let field = 0;
  let n = 0;
  let i = at;
  while (i < end && n < max) {
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i >= end) break;
    const start = i;
    while (i < end && !isBlank(text.charCodeAt(i))) i++;
    if (field++ >= from) out[n++] = toNumber(text, start, i);
  }
  return n;
}

/** Number(text.slice(a, b)) for plain decimal digits without making the string; NaN otherwise. */
function toNumber(text: string, a: number, b: number): number {
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number(text.slice(a, b));
    v = v * 10 + d;
  }
  return v;
}

/** The first blank-separated field of `text[at, end)`. */
function firstField(text: string, at: number, end: number): string {
  let i = at;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  const start = i;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  return text.slice(start, i);
}

const cpuFields: number[] = new Array(8);

function cpuTimes(text: string, at: number, end: number): CpuTimes {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const f = cpuFields.fill(0);
  numbersOf(text, at, end, 1, f);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

export function parseProcStat(text: string): ProcStat {
  let all: CpuTimes = { busy: 0, total: 0 };
  const perCpu: CpuTimes[] = [];
  for (let at = 0; at < text.length;) {
    const end = lineEnd(text, at);
    if (text.startsWith('cpu', at)) {
      const t = cpuTimes(text, at, end);
      if (at + 3 === end || isBlank(text.charCodeAt(at + 3))) all = t;
      else perCpu.push(t);
    }
    at = end + 1;
  }
  return { all, perCpu };
}

/** /proc/meminfo in bytes (kB lines × 1024), keyed by the file's own names. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * (/kB/.test(line) ? 1024 : 1);
  }
  return out;
}

export interface MemSummary {
  total: number;
  used: number;
  available: number;
  cached: number;
}

/** A /proc/meminfo field in bytes ("Name:   123 kB"), or undefined when the file has no such line. */
function meminfoField(text: string, name: string): number | undefined {
  let at = text.startsWith(name) && text.charCodeAt(name.length) === 58 /* : */ ? 0 : -1;
  if (at < 0) {
    const i = text.indexOf(`\n${name}:`);
    if (i < 0) return undefined;
    at = i + 1;
  }
  const end = lineEnd(text, at);
  const v: number[] = [NaN];
  numbersOf(text, at + name.length + 1, end, 0, v, 1);
  if (!Number.isFinite(v[0])) return undefined;
  const kb = text.indexOf('kB', at);
  return kb >= 0 && kb < end ? v[0] * 1024 : v[0];
}

/**
 * memSummary(parseMeminfo(text)) reading only the five fields it needs (the sampler does this
 * every tick; the whole-file record is for callers that want other fields).
 */
export function meminfoSummary(text: string): MemSummary {
  const mi: Record<string, number> = {};
  for (const k of ['MemTotal', 'MemAvailable', 'MemFree', 'Cached', 'Buffers']) {
    const v = meminfoField(text, k);
    if (v !== undefined) mi[k] = v;
  }
  return memSummary(mi);
}

export function memSummary(mi: Record<string, number>): MemSummary {
  const total = mi.MemTotal ?? 0;
  const available = mi.MemAvailable ?? (mi.MemFree ?? 0) + (mi.Cached ?? 0) + (mi.Buffers ?? 0);
  return { total, available, used: total - available, cached: (mi.Cached ?? 0) + (mi.Buffers ?? 0) };
}

/** PSI (/proc/pressure/* or cgroup v2 *.pressure): "some" and "full" avg10/avg60/avg300 (%) and total (µs). */
export interface Psi {
  some: { avg10: number; avg60: number; avg300: number; total: number };
  full?: { avg10: number; avg60: number; avg300: number; total: number };
}

export function parsePsi(text: string): Psi | undefined {
  let some: Psi['some'] | undefined;
  let full: Psi['full'];
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s+avg10=([\d.]+)\s+avg60=([\d.]+)\s+avg300=([\d.]+)\s+total=(\d+)/.exec(line.trim());
    if (!m) continue;
    const v = { avg10: +m[2], avg60: +m[3], avg300: +m[4], total: +m[5] };
    if (m[1] === 'some') some = v;
    else full = v;
  }
  return some ? { some, full } : undefined;
}

export interface IoCounters {
  rdBytes: number;
  wrBytes: number;
  rdOps: number;
  wrOps: number;
}

/**
 * /proc/diskstats summed over whole disks. `isDisk(name)` tells whole disks from partitions and
 * virtual devices (the caller checks /sys/block); sectors are 512 bytes whatever the device's size.
 */
/** The 8 counters after the name (reads … writes' ms): a line with fewer is not a device line. */
const diskFields: number[] = new Array(8);

export function parseDiskstats(text: string, isDisk: (name: string) => boolean): IoCounters & { devices: string[] } {
  const out = { rdBytes: 0, wrBytes: 0, rdOps: 0, wrOps: 0, devices: [] as string[] };
  const f = diskFields;
  for (let at = 0; at < text.length;) {
    const end = lineEnd(text, at);
    // major minor name | reads merged sectors ms | writes merged sectors ms | …
    if (numbersOf(text, at, end, 3, f) === f.length) {
      let i = at;
      for (let k = 0; k < 2; k++) {
        while (i < end && isBlank(text.charCodeAt(i))) i++;
        while (i < end && !isBlank(text.charCodeAt(i))) i++;
      }
      const name = firstField(text, i, end);
      if (isDisk(name)) {
        out.devices.push(name);
        out.rdOps += f[0];
        out.rdBytes += f[2] * 512;
        out.wrOps += f[4];
        out.wrBytes += f[6] * 512;
      }
    }
    at = end + 1;
  }
  return out;
}

/** Default whole-disk test when /sys/block is not at hand (guest side): no partitions, loop, ram, dm. */
export function looksLikeWholeDisk(name: string): boolean {
  if (/^(loop|ram|zram|dm-|sr|md|fd)/.test(name)) return false;
  if (/^nvme\d+n\d+$/.test(name) || /^mmcblk\d+$/.test(name)) return true;
  if (/^nvme|^mmcblk/.test(name)) return false;
  return !/\d$/.test(name);
}

export interface NetCounters {
  rxBytes: number;
  txBytes: number;
  rxPkts: number;
  txPkts: number;
}

/** Counters of one interface in /proc/net/dev. */
export interface NetDevCounters {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly txBytes: number;
  readonly txPackets: number;
}

/** /proc/net/dev → counters by interface (lines that are not all numbers are skipped). */
export function netDevByInterface(text: string): Map<string, NetDevCounters> {
  const out = new Map<string, NetDevCounters>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out.set(m[1], { rxBytes: f[0], rxPackets: f[1], txBytes: f[8], txPackets: f[9] });
  }
  return out;
}

/** /proc/net/dev summed over interfaces (lo excluded unless `includeLo`). */
export function parseNetDev(text: string, includeLo = false): NetCounters & { interfaces: string[] } {
  const out = { rxBytes: 0, txBytes: 0, rxPkts: 0, txPkts: 0, interfaces: [] as string[] };
  for (const [name, c] of netDevByInterface(text)) {
    if (name === 'lo' && !includeLo) continue;
    out.interfaces.push(name);
    out.rxBytes += c.rxBytes;
    out.rxPkts += c.rxPackets;
    out.txBytes += c.txBytes;
    out.txPkts += c.txPackets;
  }
  return out;
}

export function parseLoadavg(text: string): [number, number, number] | undefined {
  const f = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return f.length === 3 && f.every(Number.isFinite) ? (f as [number, number, number]) : undefined;
}

/** "key value" files: memory.stat, cpu.stat (v2), cpuacct.stat. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** cgroup v1 blkio.throttle.io_service_bytes / io_serviced: sum of Read and Write over devices. */
export function parseBlkioV1(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    if (f[1] === 'Read') read += Number(f[2]);
    else if (f[1] === 'Write') write += Number(f[2]);
  }
  return { read, write };
}

/** cgroup v2 io.stat: "MAJ:MIN rbytes=… wbytes=… rios=… wios=…" summed. */
export function parseIoStatV2(text: string): IoCounters {
  const out = { rdBytes: 0, wrBytes: 0, rdOps: 0, wrOps: 0 };
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/(rbytes|wbytes|rios|wios)=(\d+)/g)) {
      const v = Number(m[2]);
      if (m[1] === 'rbytes') out.rdBytes += v;
      else if (m[1] === 'wbytes') out.wrBytes += v;
      else if (m[1] === 'rios') out.rdOps += v;
      else out.wrOps += v;
    }
  }
  return out;
}

/** /proc/PID/cgroup: v1 controller → path, and the v2 ("0::") path. */
export interface ProcCgroup {
  v1: Record<string, string>;
  v2?: string;
}

export function parseProcCgroup(text: string): ProcCgroup {
  const v1: Record<string, string> = {};
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3];
    else for (const c of m[2].split(',')) if (c) v1[c] = m[3];
  }
  return { v1, v2 };
}

export interface FsUse {
  mount: string;
  source: string;
  sizeBytes: number;
  usedBytes: number;
}

/** `df -kP` (POSIX format, 1024-byte blocks). Pseudo filesystems (tmpfs, devtmpfs, overlay kept) are dropped when `realOnly`. */
export function parseDf(text: string, realOnly = true): FsUse[] {
  const out: FsUse[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [source, size, used] = f;
    const mount = f.slice(5).join(' ');
    if (realOnly && /^(tmpfs|devtmpfs|udev|none|shm|cgroup|proc|sysfs)$/.test(source)) continue;
    out.push({ mount, source, sizeBytes: Number(size) * 1024, usedBytes: Number(used) * 1024 });
  }
  return out;
}

/** The sections of a guest-side script's output, split on "@@name" lines. */
export function splitSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur = '';
  let buf: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) {
      if (cur) out[cur] = buf.join('\n');
      cur = m[1];
      buf = [];
    } else buf.push(line);
  }
  if (cur) out[cur] = buf.join('\n');
  return out;
}

// ---- Docker/Podman stats ------------------------------------------------------------------

function opSum(list: Array<{ op: string; value: number }> | null | undefined, op: string): number {
  let s = 0;
  for (const e of list ?? []) if (e.op.toLowerCase() === op) s += e.value;
  return s;
}

/** Counters from one `stats?stream=false` answer. Memory "used" excludes page cache as `docker stats` does. */
export function engineCounters(s: EngineStats): {
  cpuNs: number;
  memUsed: number;
  memLimit?: number;
  cache: number;
  io: IoCounters;
  net: NetCounters;
  pids?: number;
} {
  const ms = s.memory_stats ?? {};
  const st = ms.stats ?? {};
  const cache = st.inactive_file ?? st.total_inactive_file ?? st.cache ?? 0;
  const net = { rxBytes: 0, txBytes: 0, rxPkts: 0, txPkts: 0 };
  for (const n of Object.values(s.networks ?? {})) {
    net.rxBytes += n.rx_bytes ?? 0;
    net.txBytes += n.tx_bytes ?? 0;
    net.rxPkts += n.rx_packets ?? 0;
    net.txPkts += n.tx_packets ?? 0;
  }
  const b = s.blkio_stats ?? {};
  return {
    cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memUsed: Math.max(0, (ms.usage ?? 0) - cache),
    // engines report the host's memory as the limit when none is set
    memLimit: ms.limit,
    cache,
    io: {
      rdBytes: opSum(b.io_service_bytes_recursive, 'read'),
      wrBytes: opSum(b.io_service_bytes_recursive, 'write'),
      rdOps: opSum(b.io_serviced_recursive, 'read'),
      wrOps: opSum(b.io_serviced_recursive, 'write'),
    },
    net,
    pids: s.pids_stats?.current,
  };
}
