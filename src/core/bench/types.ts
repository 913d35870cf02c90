// Benchmark spec (what to run; recorded in every report so it can be re-run) and report data.
import type { GuestKind } from '../model';

export type Suite = 'network' | 'disk' | 'cpu' | 'memory';
export const ALL_SUITES: readonly Suite[] = ['network', 'disk', 'cpu', 'memory'];

export interface BenchTargetRef {
  /** virtscope connection id (settings `virtscope.connections[].id`). */
  connectionId: string;
  connectionLabel?: string;
  guestId: string;
  guestName: string;
  kind: GuestKind;
  /** Directory (a test file is created there) or block device inside the guest for the disk suite. */
  diskPath?: string;
  /** When diskPath is a block device: also run the write jobs (destroys its contents). */
  rawDeviceWrites?: boolean;
}

export interface BenchOptions {
  /** Seconds per iperf3 direction. */
  netSeconds: number;
  /** Seconds of sockperf ping-pong (ping sends 50 requests per second for as long). */
  latencySeconds: number;
  /** Seconds per fio job (six jobs). */
  diskSeconds: number;
  /** fio file size, MiB. */
  diskSizeMiB: number;
  /** Seconds per sysbench run. */
  cpuSeconds: number;
  /** Name under /run/netns: host-side network endpoints for guests are started inside it. */
  hostNetworkNamespace?: string;
  /** Host directory for the host's fio file (default: the OS temp directory). */
  hostDiskPath?: string;
  /** Measure the host as baseline (default true). */
  includeHost: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  netSeconds: 5,
  latencySeconds: 3,
  diskSeconds: 5,
  diskSizeMiB: 64,
  cpuSeconds: 5,
  includeHost: true,
};

export interface BenchSpec {
  suites: Suite[];
  guests: BenchTargetRef[];
  options: BenchOptions;
}

export type MetricId =
  | 'net.guestToHost'
  | 'net.hostToGuest'
  | 'net.tcpRtt'
  | 'net.icmpRtt'
  | 'disk.randread4kQd1'
  | 'disk.randwrite4kQd1'
  | 'disk.randread4kQd32'
  | 'disk.randwrite4kQd32'
  | 'disk.seqread1m'
  | 'disk.seqwrite1m'
  | 'disk.randread4kQd1Lat'
  | 'cpu.eventsPerSec'
  | 'memory.bandwidth';

export interface MetricDef {
  id: MetricId;
  suite: Suite;
  label: string;
  unit: string;
  higherIsBetter: boolean;
}

export const METRICS: readonly MetricDef[] = [
  { id: 'net.guestToHost', suite: 'network', label: 'TCP throughput guest → host (iperf3)', unit: 'Gbit/s', higherIsBetter: true },
  { id: 'net.hostToGuest', suite: 'network', label: 'TCP throughput host → guest (iperf3 -R)', unit: 'Gbit/s', higherIsBetter: true },
  { id: 'net.tcpRtt', suite: 'network', label: 'TCP request/response round trip (sockperf ping-pong)', unit: 'µs', higherIsBetter: false },
  { id: 'net.icmpRtt', suite: 'network', label: 'ICMP echo round trip (ping)', unit: 'µs', higherIsBetter: false },
  { id: 'disk.randread4kQd1', suite: 'disk', label: '4k random read, QD1 (fio)', unit: 'IOPS', higherIsBetter: true },
  { id: 'disk.randwrite4kQd1', suite: 'disk', label: '4k random write, QD1 (fio)', unit: 'IOPS', higherIsBetter: true },
  { id: 'disk.randread4kQd32', suite: 'disk', label: '4k random read, QD32 (fio)', unit: 'IOPS', higherIsBetter: true },
  { id: 'disk.randwrite4kQd32', suite: 'disk', label: '4k random write, QD32 (fio)', unit: 'IOPS', higherIsBetter: true },
  { id: 'disk.seqread1m', suite: 'disk', label: '1 MiB sequential read (fio)', unit: 'MiB/s', higherIsBetter: true },
  { id: 'disk.seqwrite1m', suite: 'disk', label: '1 MiB sequential write (fio)', unit: 'MiB/s', higherIsBetter: true },
  { id: 'disk.randread4kQd1Lat', suite: 'disk', label: '4k random read QD1 completion latency (fio clat mean)', unit: 'µs', higherIsBetter: false },
  { id: 'cpu.eventsPerSec', suite: 'cpu', label: 'CPU, 1 thread (sysbench cpu, primes ≤ 10000)', unit: 'events/s', higherIsBetter: true },
  { id: 'memory.bandwidth', suite: 'memory', label: 'Memory write, 1 thread, 1 KiB blocks (sysbench memory)', unit: 'MiB/s', higherIsBetter: true },
];

export function metricDef(id: MetricId): MetricDef {
  return METRICS.find((m) => m.id === id)!;
}

/** One tool invocation: its argv and what it printed (parsed JSON, or text for tools without JSON). */
export interface ToolRun {
  id: string;
  target: string;
  tool: string;
  argv: string[];
  exitCode: number;
  durationMs: number;
  /** Parsed JSON (iperf3 -J, fio json) or the text output (sockperf, ping, sysbench). */
  raw: unknown;
  stderr?: string;
}

export interface Measurement {
  target: string;
  kind: GuestKind | 'host';
  metric: MetricId;
  value: number;
  unit: string;
  runId: string;
  /** JSON tools: dotted path into ToolRun.raw; value = number at path × scale. */
  rawPath?: string;
  scale?: number;
  /** Text tools: the number exactly as printed; value = parseFloat(printed) × scale. */
  printed?: string;
}

export interface TargetEnv {
  target: string;
  kind: GuestKind | 'host';
  connection?: string;
  /** kvm, qemu (TCG), container (shares the host kernel), host */
  virtualization: string;
  kernel?: string;
  cpuModel?: string;
  cpus?: number;
  address?: string;
  hostEndpoint?: string;
  diskTarget?: string;
  diskFs?: string;
  tools: Record<string, string>;
  warnings: string[];
}

export interface Note {
  target: string;
  suite?: Suite;
  level: 'missing-tool' | 'warning' | 'error' | 'info';
  message: string;
}

export interface BenchReport {
  format: 'virtscope-bench/1';
  id: string;
  title: string;
  startedAt: string;
  finishedAt: string;
  spec: BenchSpec;
  environment: {
    /** `machine`: the host's name in virtscope ("this machine", a `virtscope.hosts` label); `hostname`: its own. */
    host: TargetEnv & { memoryBytes: number; machine?: string; hostname?: string };
    targets: TargetEnv[];
  };
  measurements: Measurement[];
  runs: ToolRun[];
  notes: Note[];
}

/** Reads a dotted path (a.b[0].c or a.b.0.c) from parsed JSON. */
export function readPath(obj: unknown, p: string): unknown {
  let cur: any = obj;
  for (const part of p
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter(Boolean)) {
    if (cur == null) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Recomputes a measurement from the tool output it came from (what the tests check). */
export function valueFromRun(m: Measurement, run: ToolRun): number | undefined {
  if (m.rawPath !== undefined) {
    const v = readPath(run.raw, m.rawPath);
    return typeof v === 'number' ? v * (m.scale ?? 1) : undefined;
  }
  if (m.printed !== undefined && typeof run.raw === 'string' && run.raw.includes(m.printed)) return parseFloat(m.printed) * (m.scale ?? 1);
  return undefined;
}
