// The OpenVZ/LXC vs KVM comparison table (comparisonTable.ts cites it), row by row, filled from this host: measured now (cgroup files,
// /proc, the sampler, the guest-side view), read from the definition, or taken from the latest
// benchmark report — or "not measurable here", with why. No vscode import.
import * as path from 'node:path';
import { Connection } from '../connection';
import { Guest, formatBytes } from '../model';
import { BenchReport, MetricId, metricDef } from '../bench/types';
import { fmt, slowdown } from '../bench/report';
import type { Host } from '../host/host';
import { hostBasics } from '../host/facts';
import { localHost } from '../host/local';
import { CGROUP_ROOT, cgroupCountersOfPid, CgroupCounters } from './cgroup';
import { capabilitiesOf } from '../capabilities';
import { domainVirtType } from '../domainXml';
import type { GuestSideReading } from './guestSide';
import type { Sampler } from './sampler';
import { ProcTracker } from './observe';

export type Source = 'measured' | 'definition' | 'benchmark' | 'not measurable';

export interface Cell {
  value: string;
  source: Source;
  /** Where exactly (file, field) or why it cannot be measured. */
  detail?: string;
}

export interface Row {
  id: string;
  label: string;
  tableContainer: string;
  tableVm: string;
  container: Cell;
  vm: Cell;
  /** Does the table's statement hold on this host? */
  holds: 'yes' | 'no' | 'partly' | 'unknown';
  why: string;
  /** The row needs a benchmark report (offer to run one). */
  needsBenchmark?: boolean;
}

/** Everything the rows are built from, for one side. */
export interface SideFacts {
  guest: Guest;
  connectionId: string;
  definition?: string;
  hostPid?: number;
  cgroup?: CgroupCounters;
  guestSide?: GuestSideReading;
  guestSideError?: string;
  /** Host-visible processes (container) or QEMU threads (VM). */
  hostProcs?: number;
  vcpuThreads?: number;
  qemuRssBytes?: number;
  bench?: Partial<Record<MetricId, number>>;
}

export interface HostFacts {
  cpus: number;
  memBytes: number;
  kernel: string;
  hwVirt: boolean;
  bench?: Partial<Record<MetricId, number>>;
  reportName?: string;
}

/** Reads the facts of one side now. */
export async function gatherSide(conn: Connection, g: Guest, sampler: Sampler, bench?: BenchReport): Promise<SideFacts> {
  const f: SideFacts = { guest: g, connectionId: conn.config.id };
  try {
    f.definition = (await conn.requireBackend().definition(g.id)).text;
  } catch {
    /* optional */
  }
  // the guest's process on its host: QEMU, the libvirt-LXC controller, a container's init
  const proc = capabilitiesOf(conn.requireBackend(), g).hostProcess;
  f.hostPid = await proc?.pid();
  if (proc && f.hostPid) {
    f.cgroup = await cgroupCountersOfPid(f.hostPid, CGROUP_ROOT, proc.host);
    const t = new ProcTracker(proc.host);
    if (g.kind === 'qemu') {
      const rows = await t.vm(f.hostPid);
      f.hostProcs = rows.filter((r) => r.role === 'main').length;
      f.vcpuThreads = rows.filter((r) => r.role === 'vcpu').length;
      f.qemuRssBytes = rows.find((r) => r.role === 'main')?.rssBytes;
    } else {
      f.hostProcs = (await t.container(f.hostPid)).length;
    }
  }
  const side = sampler.guestSide(conn.config.id, g.id);
  f.guestSide = side?.last;
  f.guestSideError = side && !side.ok ? side.error : undefined;
  if (bench) f.bench = benchOf(bench, conn.config.id, g);
  return f;
}

/**
 * The report's target for this guest: the one its spec recorded for this connection and guest id,
 * else for this connection and guest name (a guest defined anew). A guest of the same name on
 * another connection is not this one. Reports without a spec: matched by name.
 */
export function reportTargetOf(r: BenchReport, connectionId: string, g: Pick<Guest, 'id' | 'name'>): string | undefined {
  const refs = Array.isArray(r.spec?.guests) ? r.spec.guests : undefined;
  const name = refs
    ? (refs.find((x) => x.connectionId === connectionId && x.guestId === g.id) ?? refs.find((x) => x.connectionId === connectionId && x.guestName === g.name))
        ?.guestName
    : g.name;
  return name !== undefined && name !== 'host' && r.environment.targets.some((t) => t.target === name) ? name : undefined;
}

/** The figures a report measured for this guest (undefined: the report did not benchmark it). */
export function benchOf(r: BenchReport, connectionId: string, g: Pick<Guest, 'id' | 'name'>): Partial<Record<MetricId, number>> | undefined {
  const target = reportTargetOf(r, connectionId, g);
  if (target === undefined) return undefined;
  const out: Partial<Record<MetricId, number>> = {};
  for (const m of r.measurements) if (m.target === target && Number.isFinite(m.value)) out[m.metric] = m.value;
  return out;
}

export async function hostFacts(bench?: BenchReport, reportName?: string, host: Host = localHost): Promise<HostFacts> {
  const b = await hostBasics(host);
  const h: HostFacts = { cpus: b.cpus, memBytes: b.memBytes, kernel: `${b.osType} ${b.kernelRelease}`, hwVirt: /\b(vmx|svm)\b/.test(b.cpuinfo), reportName };
  if (bench) {
    h.bench = {};
    for (const m of bench.measurements) if (m.target === 'host') h.bench[m.metric] = m.value;
  }
  return h;
}

/** The newest virtscope-bench JSON report in `dir` (on `host`: the workspace's machine), if any. */
export async function latestReport(dir: string, host: Host = localHost): Promise<{ report: BenchReport; file: string } | undefined> {
  const names = (await host.readdir(dir).catch(() => []))
    .map((e) => e.name)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .reverse();
  for (const n of names) {
    try {
      const r = JSON.parse(await host.readFile(path.join(dir, n))) as BenchReport;
      if (r.format === 'virtscope-bench/1') return { report: r, file: path.join(dir, n) };
    } catch {
      /* not a report */
    }
  }
  return undefined;
}

const xf = (x: number) => `${x.toFixed(2)}×`;

function domType(def?: string): string | undefined {
  return def ? domainVirtType(def) : undefined;
}

function benchCell(side: SideFacts, host: HostFacts, metric: MetricId, label: string): Cell {
  const v = side.bench?.[metric];
  const h = host.bench?.[metric];
  if (v === undefined) return { value: '—', source: 'not measurable', detail: `needs a benchmark report with ${label} (Run Benchmark…)` };
  const s = slowdown(metric, v, h);
  const vsHost = s === undefined ? `${fmt(v)} ${metricDef(metric).unit}` : s >= 1 ? `${xf(s)} slower than the host` : `${xf(1 / s)} faster than the host`;
  return { value: `${vsHost} (${label})`, source: 'benchmark', detail: host.reportName };
}

function benchRatio(c: SideFacts, v: SideFacts, metric: MetricId): number | undefined {
  return slowdown(metric, v.bench?.[metric], c.bench?.[metric]);
}

/** The 12 rows of the container-vs-KVM table and its two claims (networking ~5x, HDD I/O ~4x). */
export function buildRows(c: SideFacts, v: SideFacts, host: HostFacts): Row[] {
  const vt = domType(v.definition);
  const t: DomainFacts = { vt, accel: vt === 'kvm' };
  return [
    ...cpuPerformanceRow(c, v, host, t),
    ...cpuAllocationRow(c, v, host),
    ...ioRows(c, v, host),
    ...memoryOverheadRow(c, v, host, t),
    ...memoryLossRow(c, v),
    ...pageCacheRow(c, v),
    ...resourceControlsRow(c, v),
    ...hostObservabilityRow(c, v),
    ...guestObservabilityRow(c, v, host),
    ...hypervisorRow(c, v, host, t),
    ...guestOsRow(c, v, host),
    ...claimRows(c, v, host, t),
  ];
}

/** The VM's domain type, which several rows read. */
interface DomainFacts {
  readonly vt: string | undefined;
  /** KVM, not TCG */
  readonly accel: boolean;
}

/** 1 CPU performance. */
function cpuPerformanceRow(c: SideFacts, v: SideFacts, host: HostFacts, t: DomainFacts): Row[] {
  const rows: Row[] = [];
  {
    const cc = benchCell(c, host, 'cpu.eventsPerSec', 'sysbench cpu');
    const vc = benchCell(v, host, 'cpu.eventsPerSec', 'sysbench cpu');
    if (vc.source === 'not measurable') vc.value = t.accel ? 'KVM (hardware-assisted)' : `${t.vt ?? '?'}: emulated CPU (TCG), no hardware virtualization`;
    const r = benchRatio(c, v, 'cpu.eventsPerSec');
    rows.push({
      id: 'cpu-perf',
      label: 'CPU Performance',
      tableContainer: 'native',
      tableVm: 'high (with CPU support)',
      container: cc,
      vm: {
        ...vc,
        source: vc.source === 'not measurable' ? 'definition' : vc.source,
        detail: vc.detail ?? `domain type='${t.vt}'; host ${host.hwVirt ? 'has' : 'has no'} vmx/svm`,
      },
      holds: r === undefined ? 'unknown' : t.accel ? (r < 1.25 ? 'yes' : 'no') : 'no',
      why:
        r === undefined
          ? 'run a benchmark to compare'
          : `VM ${xf(r)} slower than the container${t.accel ? '' : ' — no CPU support here (TCG), so "high" cannot hold'}`,
      needsBenchmark: r === undefined,
    });
  }
  return rows;
}

/** 2 CPU allocation. */
function cpuAllocationRow(c: SideFacts, v: SideFacts, host: HostFacts): Row[] {
  const rows: Row[] = [];
  {
    const cg = c.cgroup;
    const quota = cg?.cpuQuotaCores;
    const shares = cg?.cpuShares ?? cg?.cpuWeight;
    const cval = quota
      ? `quota ${quota.toFixed(2)} cores`
      : `no quota (may burst to all ${host.cpus} CPUs)${shares ? `, ${cg?.cpuShares ? 'shares' : 'weight'} ${shares}` : ''}`;
    const pin = /<vcpupin\b[^>]*cpuset=['"]([^'"]+)/.exec(v.definition ?? '')?.[1];
    const vcpus = v.guest.vcpus ?? Number(/<vcpu[^>]*>(\d+)</.exec(v.definition ?? '')?.[1]);
    rows.push({
      id: 'cpu-alloc',
      label: 'CPU Allocation',
      tableContainer: 'flexible (FSS + "bursting")',
      tableVm: 'fixed to VCPU limit',
      container: { value: cval, source: 'measured', detail: cg ? `cgroup ${cg.version} cpu files` : 'cgroup not readable' },
      vm: { value: `${vcpus} vCPU${pin ? `, pinned to ${pin}` : ', not pinned'}`, source: 'definition', detail: '<vcpu>, <cputune>' },
      holds: !quota ? 'yes' : 'partly',
      why: !quota ? 'the container can use every host CPU; the VM never more than its vCPUs' : 'the container has a quota: fixed like a VM',
    });
  }
  return rows;
}

/** 3 I/O throughput, 4 I/O latency. */
function ioRows(c: SideFacts, v: SideFacts, host: HostFacts): Row[] {
  const rows: Row[] = [];
  for (const [id, label, sc, sv, metric, name] of [
    ['io-tput', 'I/O Throughput', 'high (no overhead)', 'low or medium (with virtio)', 'disk.seqread1m', 'fio 1 MiB seq read'],
    ['io-lat', 'I/O Latency', 'low (native)', 'some (I/O proxy overhead)', 'disk.randread4kQd1Lat', 'fio 4k QD1 latency'],
  ] as const) {
    const r = benchRatio(c, v, metric);
    rows.push({
      id,
      label,
      tableContainer: sc,
      tableVm: sv,
      container: benchCell(c, host, metric, name),
      vm: benchCell(v, host, metric, name),
      holds: r === undefined ? 'unknown' : r > 1.1 ? 'yes' : 'no',
      why:
        r === undefined ? 'needs a benchmark report' : id === 'io-lat' ? `VM latency ${xf(r)} that of the container` : `VM ${xf(r)} slower than the container`,
      needsBenchmark: r === undefined,
    });
  }
  return rows;
}

/** 5 memory access overhead. */
function memoryOverheadRow(c: SideFacts, v: SideFacts, host: HostFacts, t: DomainFacts): Row[] {
  const rows: Row[] = [];
  {
    const r = benchRatio(c, v, 'memory.bandwidth');
    rows.push({
      id: 'mem-access',
      label: 'Memory Access Overhead',
      tableContainer: 'none',
      tableVm: 'some (EPT/NPT or shadow page tables)',
      container: benchCell(c, host, 'memory.bandwidth', 'sysbench memory'),
      vm: benchCell(v, host, 'memory.bandwidth', 'sysbench memory'),
      holds: r === undefined ? 'unknown' : r > 1.02 ? 'yes' : 'no',
      why:
        r === undefined
          ? 'needs a benchmark report'
          : `VM memory bandwidth ${xf(r)} slower than the container${t.accel ? '' : ' (TCG: software MMU, not EPT)'}`,
      needsBenchmark: r === undefined,
    });
  }
  return rows;
}

/** 6 memory loss. */
function memoryLossRow(c: SideFacts, v: SideFacts): Row[] {
  const rows: Row[] = [];
  {
    const gs = v.guestSide;
    const guestUsed = gs ? gs.counters.memUsed : undefined;
    const loss = v.qemuRssBytes !== undefined && guestUsed !== undefined ? v.qemuRssBytes - guestUsed : undefined;
    const cOver = c.cgroup?.memUsage !== undefined ? c.cgroup.memUsage - (c.cgroup.memAnon ?? 0) - (c.cgroup.memCache ?? 0) : undefined;
    rows.push({
      id: 'mem-loss',
      label: 'Memory Loss',
      tableContainer: 'none',
      tableVm: 'some (extra kernels; page tables)',
      container:
        cOver !== undefined
          ? {
              value: `${formatBytes(Math.max(0, cOver))} beyond its processes' memory and page cache (kernel objects charged)`,
              source: 'measured',
              detail: 'cgroup usage − anon − cache',
            }
          : { value: '—', source: 'not measurable', detail: 'cgroup memory not readable' },
      vm:
        loss !== undefined
          ? {
              value: `${formatBytes(loss)} = QEMU RSS ${formatBytes(v.qemuRssBytes!)} − guest used ${formatBytes(guestUsed!)}`,
              source: 'measured',
              detail: 'the guest kernel, its page cache and page tables, QEMU itself',
            }
          : {
              value: v.qemuRssBytes ? `QEMU RSS ${formatBytes(v.qemuRssBytes)}` : '—',
              source: v.qemuRssBytes ? 'measured' : 'not measurable',
              detail: v.guestSideError ?? 'needs the guest-side view (qemu-guest-agent)',
            },
      holds: loss !== undefined && cOver !== undefined ? (loss > Math.max(0, cOver) ? 'yes' : 'no') : 'unknown',
      why: loss !== undefined ? 'the VM costs the host more than what its guest uses' : 'needs the guest-side view of the VM',
    });
  }
  return rows;
}

/** 7 memory allocation (page cache). */
function pageCacheRow(c: SideFacts, v: SideFacts): Row[] {
  const rows: Row[] = [];
  {
    const cache = c.cgroup?.memCache;
    const gCache = v.guestSide ? v.guestSide.memTotal - (v.guestSide.counters.memUsed ?? 0) : undefined;
    const cacheMode = /<driver[^>]*\bcache=['"](\w+)['"]/.exec(v.definition ?? '')?.[1] ?? 'default (host page cache used)';
    const double = !/none|directsync/.test(cacheMode);
    rows.push({
      id: 'mem-alloc',
      label: 'Memory Allocation',
      tableContainer: 'flexible (unused memory used for file system cache)',
      tableVm: 'fixed (and possible double-caching)',
      container:
        cache !== undefined
          ? {
              value: `page cache charged to its cgroup: ${formatBytes(cache)}${c.cgroup?.memLimit ? `, limit ${formatBytes(c.cgroup.memLimit)}` : ', no limit: grows into free host memory'}`,
              source: 'measured',
              detail: 'memory.stat cache/file',
            }
          : { value: '—', source: 'not measurable', detail: 'cgroup memory not readable' },
      vm: {
        value: `fixed ${formatBytes(v.guest.memoryBytes ?? 0)}${gCache !== undefined ? `; guest's own cache/free ${formatBytes(gCache)}` : ''}; disk cache mode ${cacheMode}${double ? ' → double caching' : ''}`,
        source: gCache !== undefined ? 'measured' : 'definition',
        detail: '<memory>, <driver cache=…>, guest /proc/meminfo',
      },
      holds: double ? 'yes' : 'partly',
      why: double ? 'the guest caches its disk and the host caches the image file too' : 'cache=none: no double caching, memory still fixed',
    });
  }
  return rows;
}

/** 8 resource controls. */
function resourceControlsRow(c: SideFacts, v: SideFacts): Row[] {
  const rows: Row[] = [];
  {
    const cg = c.cgroup;
    const cc = [
      cg?.cpuQuotaCores && 'cpu quota',
      cg?.cpuShares && `cpu.shares ${cg.cpuShares}`,
      cg?.cpuWeight && `cpu.weight ${cg.cpuWeight}`,
      cg?.memLimit && `memory limit ${formatBytes(cg.memLimit)}`,
    ].filter(Boolean) as string[];
    const d = v.definition ?? '';
    const vc = [
      'vcpu count',
      'memory size',
      /<cputune/.test(d) && 'cputune',
      /<memtune/.test(d) && 'memtune',
      /<blkiotune/.test(d) && 'blkiotune',
      /<iotune/.test(d) && 'disk iotune',
      /<bandwidth/.test(d) && 'net bandwidth',
      v.cgroup && 'host cgroup',
    ].filter(Boolean) as string[];
    rows.push({
      id: 'controls',
      label: 'Resource Controls',
      tableContainer: 'many (depends on OS)',
      tableVm: 'most (OS + hypervisor)',
      container: { value: cc.length ? cc.join(', ') : 'none set (cgroup controllers available)', source: 'measured', detail: 'cgroup files' },
      vm: { value: vc.join(', '), source: 'definition', detail: 'domain XML + cgroup' },
      holds: vc.length >= cc.length ? 'yes' : 'partly',
      why: `${vc.length} controls on the VM (hypervisor + host OS), ${cc.length} set on the container`,
    });
  }
  return rows;
}

/** 9 observability from the host. */
function hostObservabilityRow(c: SideFacts, v: SideFacts): Row[] {
  const rows: Row[] = [];
  rows.push({
    id: 'obs-host',
    label: 'Observability from the host',
    tableContainer: 'highest (see everything)',
    tableVm: 'medium (resource usage, hypervisor statistics, OS inspection of hypervisor)',
    container: { value: `${c.hostProcs ?? 0} processes visible (every one, with command and memory)`, source: 'measured', detail: 'cgroup.procs + /proc' },
    vm: {
      value: `${v.hostProcs ?? 0} process, ${v.vcpuThreads ?? 0} vCPU thread(s): none of the guest's processes`,
      source: 'measured',
      detail: '/proc/<qemu>/task',
    },
    holds: (c.hostProcs ?? 0) > (v.hostProcs ?? 0) || (c.hostProcs ?? 0) > 1 ? 'yes' : 'partly',
    why: 'the host lists every container process; of the VM only QEMU and its threads',
  });
  return rows;
}

/** 10 observability from the guest. */
function guestObservabilityRow(c: SideFacts, v: SideFacts, host: HostFacts): Row[] {
  const rows: Row[] = [];
  {
    const seenC = c.guestSide?.cpus;
    const seenV = v.guestSide?.cpus;
    rows.push({
      id: 'obs-guest',
      label: 'Observability: from the guest',
      tableContainer: 'medium (see everything permitted, incl. some physical resource stats)',
      tableVm: 'low (guest only)',
      container:
        seenC !== undefined
          ? {
              value: `its /proc shows ${seenC} CPUs and ${formatBytes(c.guestSide!.memTotal)} (the host's: ${host.cpus} CPUs, ${formatBytes(host.memBytes)})`,
              source: 'measured',
              detail: 'guest-side /proc/stat, /proc/meminfo',
            }
          : { value: '—', source: 'not measurable', detail: c.guestSideError ?? 'open the guest panel of the container (guest-side view)' },
      vm:
        seenV !== undefined
          ? {
              value: `its /proc shows ${seenV} vCPU and ${formatBytes(v.guestSide!.memTotal)}: its own virtual hardware only`,
              source: 'measured',
              detail: 'qemu-guest-agent',
            }
          : { value: '—', source: 'not measurable', detail: v.guestSideError ?? 'needs qemu-guest-agent' },
      holds: seenC !== undefined && seenV !== undefined ? (seenC === host.cpus && seenV !== host.cpus ? 'yes' : 'partly') : 'unknown',
      why: 'a container without lxcfs sees the physical CPU and memory totals; a VM sees its virtual hardware',
    });
  }
  return rows;
}

/** 11 hypervisor complexity. */
function hypervisorRow(c: SideFacts, v: SideFacts, host: HostFacts, t: DomainFacts): Row[] {
  const rows: Row[] = [];
  rows.push({
    id: 'complexity',
    label: 'Hypervisor Complexity',
    tableContainer: 'low (OS partitions)',
    tableVm: 'medium',
    container: { value: 'kernel namespaces + cgroups; no extra process', source: 'measured', detail: c.cgroup ? `cgroup ${c.cgroup.version}` : undefined },
    vm: {
      value: `a ${t.vt ?? 'qemu'} process (${formatBytes(v.qemuRssBytes ?? 0)} RSS) emulating ${(v.definition?.match(/<(disk|interface|controller|channel|serial|console|video|input|memballoon|rng)\b/g) ?? []).length} devices`,
      source: 'measured',
      detail: 'QEMU RSS + device count in the domain XML',
    },
    holds: 'yes',
    why: 'the VM needs a device model and a second kernel; the container does not',
  });
  return rows;
}

/** 12 different OS guests. */
function guestOsRow(c: SideFacts, v: SideFacts, host: HostFacts): Row[] {
  const rows: Row[] = [];
  {
    const ck = c.guestSide?.kernel;
    const vk = v.guestSide?.kernel;
    rows.push({
      id: 'os',
      label: 'Different OS Guests',
      tableContainer: 'no',
      tableVm: 'yes',
      container: ck
        ? { value: `${ck}${ck === host.kernel ? ' — the host kernel' : ''}`, source: 'measured', detail: 'uname in the container' }
        : { value: `${host.kernel} (shares the host kernel)`, source: 'definition', detail: c.guestSideError },
      vm: vk
        ? { value: `${vk}${v.guestSide?.os ? ` (${v.guestSide.os})` : ''}: its own kernel`, source: 'measured', detail: 'uname via qemu-guest-agent' }
        : { value: '—', source: 'not measurable', detail: v.guestSideError ?? 'needs qemu-guest-agent' },
      holds: !ck || ck === host.kernel ? (vk ? 'yes' : 'partly') : 'no',
      why:
        vk && vk === host.kernel
          ? 'the VM runs its own kernel (here the same version as the host, but any OS would boot)'
          : 'the container runs on the host kernel; the VM boots its own',
    });
  }
  return rows;
}

/** The table's two claims. */
function claimRows(c: SideFacts, v: SideFacts, host: HostFacts, t: DomainFacts): Row[] {
  const rows: Row[] = [];
  for (const [id, label, metric, factor] of [
    ['claim-net', 'Networking (Container vs KVM) approx. 5x slower', 'net.guestToHost', 5],
    ['claim-hdd', 'HDD IO (Container vs KVM) approx. 4x slower', 'disk.randread4kQd32', 4],
  ] as const) {
    const r = benchRatio(c, v, metric);
    rows.push({
      id,
      label,
      tableContainer: '1×',
      tableVm: `${factor}× slower`,
      container: benchCell(c, host, metric, metric),
      vm: benchCell(v, host, metric, metric),
      holds: r === undefined ? 'unknown' : r >= factor * 0.7 && r <= factor * 1.3 ? 'yes' : 'no',
      why: r === undefined ? 'needs a benchmark report' : `VM ${xf(r)} slower than the container here${t.accel ? '' : ' (TCG guest: not KVM figures)'}`,
      needsBenchmark: r === undefined,
    });
  }
  return rows;
}
