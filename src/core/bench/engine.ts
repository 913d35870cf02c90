// The benchmark engine: runs the same tools on the host (baseline) and inside each guest, parses their
// JSON, and records every invocation. No vscode import. Every process it starts (host or guest) and
// every file it creates is tracked; cancel or failure stops/removes them in a finally block.
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { capabilitiesOf } from '../capabilities';
import { domainVirtType } from '../domainXml';
import { Backend, BackendError, Guest } from '../model';
import { GuestExecutor, GuestExecResult, GuestExecAborted } from '../guest/exec';
import { Host, HostRunError } from '../host/host';
import { localHost } from '../host/local';
import { hostBasics } from '../host/facts';
import { hostIPv4s, inNetns } from '../host/net';
import { HostServer } from '../host/server';
import {
  hostEndpointFor,
  jsonFrom,
  parseFio,
  parseIperf3,
  parseIpAddrOneline,
  parsePing,
  parseSockperf,
  parseSysbenchCpu,
  parseSysbenchMemory,
} from './parse';
import {
  BenchOptions,
  BenchReport,
  BenchSpec,
  BenchTargetRef,
  DEFAULT_OPTIONS,
  Measurement,
  MetricId,
  Note,
  Suite,
  TargetEnv,
  ToolRun,
} from './types';

export interface ResolvedTarget {
  ref: BenchTargetRef;
  backend: Backend;
  guest: Guest;
}

export interface RunHooks {
  signal?: AbortSignal;
  /** Current step, e.g. "labvm: fio (disk)". */
  progress?: (step: string, done: number, total: number) => void;
  /** Override for tests: how to get an executor for a guest. */
  executor?: (t: ResolvedTarget) => GuestExecutor;
  /** For the fidelity bench: wraps every target's executor, the host's included. */
  wrap?: (target: string, exec: GuestExecutor) => GuestExecutor;
  /** The machine the guests run on: the baseline and the servers run there (default: this machine). */
  host?: Host;
}

export class BenchCancelled extends Error {
  constructor() {
    super('Benchmark cancelled: every process it started was stopped and its temporary files were removed');
    this.name = 'BenchCancelled';
  }
}

/** Install hints for a missing tool. */
export function installHint(tool: string): string {
  const pkg = tool === 'ping' ? 'iputils-ping' : tool;
  return `install with: apt-get install ${pkg} (Debian/Ubuntu), dnf install ${tool === 'ping' ? 'iputils' : tool} (Fedora/RHEL), apk add ${tool === 'ping' ? 'iputils' : tool} (Alpine)`;
}

const NS_RE = /^[A-Za-z0-9_.-]+$/;
const TOOL_OF_SUITE: Record<Suite, string[]> = { network: ['iperf3', 'sockperf'], disk: ['fio'], cpu: ['sysbench'], memory: ['sysbench'] };

/** Programs on the host itself (the baseline), with the guest executors' cancel/timeout errors. */
export function hostExecutorOn(host: Host): GuestExecutor {
  return {
    description: host.label,
    exec: async (argv, opts = {}) => {
      const timeoutMs = opts.timeoutMs ?? 60_000;
      try {
        return await host.run(argv, { timeoutMs, signal: opts.signal, stdin: opts.stdin });
      } catch (e) {
        if (e instanceof HostRunError && (e.reason === 'cancelled' || e.reason === 'timeout')) throw new GuestExecAborted(host.label, argv, e.reason, timeoutMs);
        throw e;
      }
    },
  };
}

/** The guest's executor, asked of its backend. */
function guestExecutor(t: ResolvedTarget): GuestExecutor {
  const exec = capabilitiesOf(t.backend, t.guest).exec;
  if (!exec) throw new BackendError(`cannot run programs inside "${t.guest.name}" through connection "${t.backend.config.id}"`);
  return exec;
}

interface Target {
  name: string;
  kind: Guest['kind'] | 'host';
  exec: GuestExecutor;
  ref?: BenchTargetRef;
  resolved?: ResolvedTarget;
  env: TargetEnv;
}

export async function runBenchmark(spec: BenchSpec, resolved: ResolvedTarget[], hooks: RunHooks = {}): Promise<BenchReport> {
  const opts: BenchOptions = { ...DEFAULT_OPTIONS, ...spec.options };
  const runTag = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const signal = hooks.signal;
  const cleanups: Array<() => Promise<void>> = [];
  const runs: ToolRun[] = [];
  const measurements: Measurement[] = [];
  const notes: Note[] = [];
  const startedAt = new Date().toISOString();
  let runSeq = 0;

  const wrap = hooks.wrap ?? ((_: string, e: GuestExecutor) => e);
  const machine = hooks.host ?? localHost;
  const hostNs = (argv: string[]) => inNetns(opts.hostNetworkNamespace, argv);
  const hostEnv = await hostEnvironment(machine);
  const host: Target = { name: 'host', kind: 'host', exec: wrap('host', hostExecutorOn(machine)), env: hostEnv.env };
  const targets: Target[] = [];
  if (opts.includeHost) targets.push(host);
  for (const r of resolved) {
    const exec = wrap(r.guest.name, (hooks.executor ?? guestExecutor)(r));
    targets.push({
      name: r.guest.name,
      kind: r.guest.kind,
      exec,
      ref: r.ref,
      resolved: r,
      env: { target: r.guest.name, kind: r.guest.kind, connection: r.ref.connectionLabel ?? r.ref.connectionId, virtualization: '?', tools: {}, warnings: [] },
    });
  }

  const steps: Array<{ label: string; fn: () => Promise<void> }> = [];
  const checkCancel = () => {
    if (signal?.aborted) throw new BenchCancelled();
  };

  /** Runs argv in a target, records the invocation. */
  const runTool = async (t: Target, tool: string, argv: string[], timeoutMs: number, parseJson: boolean): Promise<{ run: ToolRun; res: GuestExecResult }> => {
    checkCancel();
    const t0 = Date.now();
    let res: GuestExecResult;
    try {
      res = await t.exec.exec(argv, { timeoutMs, signal });
    } catch (e) {
      if (signal?.aborted || (e instanceof GuestExecAborted && e.reason === 'cancelled')) throw new BenchCancelled();
      throw e;
    }
    let raw: unknown = res.stdout;
    if (parseJson) {
      try {
        raw = jsonFrom(tool, res.stdout);
      } catch (e) {
        if (res.exitCode === 0) throw e;
      }
    }
    const run: ToolRun = { id: `r${++runSeq}`, target: t.name, tool, argv, exitCode: res.exitCode, durationMs: Date.now() - t0, raw };
    if (res.stderr.trim()) run.stderr = res.stderr.slice(0, 4000);
    runs.push(run);
    return { run, res };
  };

  const has = async (t: Target, tool: string): Promise<boolean> => {
    if (t.env.tools[tool] !== undefined) return t.env.tools[tool] !== 'missing';
    const r = await t.exec.exec(['sh', '-c', 'command -v "$1"', 'sh', tool], { timeoutMs: 20_000, signal }).catch(() => undefined);
    const ok = !!r && r.exitCode === 0 && r.stdout.trim() !== '';
    t.env.tools[tool] = ok ? r!.stdout.trim() : 'missing';
    return ok;
  };
  const missing = (t: Target, suite: Suite, tool: string) =>
    notes.some((n) => n.level === 'missing-tool' && n.target === t.name && n.message.startsWith(`missing tool ${tool} `)) ||
    notes.push({ target: t.name, suite, level: 'missing-tool', message: `missing tool ${tool} in ${t.kind === 'host' ? 'the host' : `guest ${t.name}`}: ${installHint(tool)}` });

  const measure = (t: Target, metric: MetricId, run: ToolRun, how: { rawPath: string; scale?: number } | { printed: string; scale?: number }, unit: string) => {
    const scale = how.scale ?? 1;
    const value = 'rawPath' in how ? Number((readNum(run.raw, how.rawPath) ?? NaN) * scale) : parseFloat(how.printed) * scale;
    if (!Number.isFinite(value)) throw new Error(`${run.tool} in ${t.name}: no value at ${'rawPath' in how ? how.rawPath : how.printed}`);
    measurements.push({ target: t.name, kind: t.kind, metric, value, unit, runId: run.id, ...how, scale });
  };

  // ---- environment + per-target plan
  for (const t of targets) {
    steps.push({
      label: `${t.name}: environment`,
      fn: async () => {
        if (t.kind !== 'host') await guestEnvironment(t, opts, signal);
        for (const w of t.env.warnings) notes.push({ target: t.name, level: 'warning', message: w });
      },
    });
    for (const suite of spec.suites) {
      steps.push({
        label: `${t.name}: ${suite}`,
        fn: async () => {
          try {
            if (suite === 'network') await networkSuite(t);
            else if (suite === 'disk') await diskSuite(t);
            else await sysbenchSuite(t, suite);
          } catch (e) {
            if (e instanceof BenchCancelled) throw e;
            notes.push({ target: t.name, suite, level: 'error', message: `${suite} failed in ${t.name}: ${(e as Error).message}` });
          }
        },
      });
    }
  }

  // ---- network
  const networkSuite = async (t: Target) => {
    let serverAddr = '127.0.0.1';
    let inHostNs = (argv: string[]) => argv;
    if (t.kind !== 'host') {
      if (!t.env.hostEndpoint) {
        notes.push({
          target: t.name,
          suite: 'network',
          level: 'info',
          message: `${t.name}: no network interface to the host${t.kind === 'container' ? ' (only loopback: NetworkMode none?)' : ''}; network suite skipped`,
        });
        return;
      }
      serverAddr = t.env.hostEndpoint;
      inHostNs = hostNs;
    }
    if (!(await has(t, 'iperf3'))) missing(t, 'network', 'iperf3');
    else {
      for (const [metric, reverse] of [
        ['net.guestToHost', false],
        ['net.hostToGuest', true],
      ] as Array<[MetricId, boolean]>) {
        const port = 20000 + Math.floor(Math.random() * 10000);
        const server = new HostServer(machine, inHostNs(['iperf3', '-s', '-1', '-B', serverAddr, '-p', String(port)]));
        cleanups.push(async () => void (await server.stop()));
        await server.start(port, signal);
        try {
          const argv = ['iperf3', '-c', serverAddr, '-p', String(port), '-t', String(opts.netSeconds), '-J', '--title', `virtscope-${runTag}`];
          if (reverse) argv.push('-R');
          const { run } = await runTool(t, 'iperf3', argv, (opts.netSeconds + 30) * 1000, true);
          parseIperf3(run.raw);
          measure(t, metric, run, { rawPath: 'end.sum_received.bits_per_second', scale: 1e-9 }, 'Gbit/s');
        } finally {
          await server.stop();
        }
      }
    }
    // TCP request/response: sockperf needs both ends
    if (!(await has(t, 'sockperf'))) missing(t, 'network', 'sockperf');
    else if (!(await has(host, 'sockperf'))) missing(host, 'network', 'sockperf');
    else {
      const port = 20000 + Math.floor(Math.random() * 10000);
      const server = new HostServer(machine, inHostNs(['sockperf', 'sr', '--tcp', '-i', serverAddr, '-p', String(port)]));
      cleanups.push(async () => void (await server.stop()));
      await server.start(port, signal);
      try {
        const argv = ['sockperf', 'ping-pong', '--tcp', '-i', serverAddr, '-p', String(port), '-t', String(opts.latencySeconds), '--full-rtt'];
        const { run } = await runTool(t, 'sockperf', argv, (opts.latencySeconds + 30) * 1000, false);
        const text = String(run.raw) + (run.stderr ?? '');
        run.raw = text;
        const p = /Summary: Round trip is\s+([0-9.]+)\s+usec/.exec(text.replace(/\x1b\[[0-9;]*m/g, ''));
        parseSockperf(text);
        measure(t, 'net.tcpRtt', run, { printed: p![1] }, 'µs');
      } finally {
        await server.stop();
      }
    }
    // ICMP round trip, sent by the host (inside the lab namespace for guests)
    if (!(await has(host, 'ping'))) missing(host, 'network', 'ping');
    else {
      const count = Math.max(10, opts.latencySeconds * 50);
      const argv = inHostNs(['ping', '-c', String(count), '-i', '0.02', '-q', t.kind === 'host' ? '127.0.0.1' : serverAddrOfGuest(t)]);
      const { run } = await runTool(host, 'ping', argv, (count * 0.02 + 30) * 1000, false);
      run.target = t.name;
      const p = /(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = [0-9.]+\/([0-9.]+)\//.exec(String(run.raw));
      parsePing(String(run.raw));
      measure(t, 'net.icmpRtt', run, { printed: p![1], scale: 1000 }, 'µs');
    }
  };
  const serverAddrOfGuest = (t: Target) => t.env.address!;

  // ---- disk
  const diskSuite = async (t: Target) => {
    if (!(await has(t, 'fio'))) return missing(t, 'disk', 'fio');
    let dir: string | undefined;
    let device: string | undefined;
    if (t.kind === 'host') {
      dir = opts.hostDiskPath ?? os.tmpdir();
    } else if (t.ref?.diskPath) {
      const r = await t.exec.exec(['sh', '-c', 'if [ -b "$1" ]; then echo block; elif [ -d "$1" ]; then echo dir; else echo none; fi', 'sh', t.ref.diskPath], {
        timeoutMs: 20_000,
        signal,
      });
      const what = r.stdout.trim();
      if (what === 'block') device = t.ref.diskPath;
      else if (what === 'dir') dir = t.ref.diskPath;
      else throw new Error(`disk path ${t.ref.diskPath} is neither a directory nor a block device in ${t.name}`);
    } else {
      const r = await t.exec.exec(['sh', '-c', 'for d in /var/tmp /tmp /root /; do if [ -d "$d" ] && [ -w "$d" ]; then echo "$d"; exit 0; fi; done; exit 1'], {
        timeoutMs: 20_000,
        signal,
      });
      dir = r.stdout.trim() || '/tmp';
    }
    const fsType = await t.exec
      .exec(['stat', '-f', '-c', '%T', device ? '/' : dir!], { timeoutMs: 20_000, signal })
      .then((r) => r.stdout.trim())
      .catch(() => '');
    t.env.diskTarget = device ?? dir;
    t.env.diskFs = device ? 'block device' : fsType;
    if (!device && /tmpfs|ramfs/.test(fsType)) {
      notes.push({
        target: t.name,
        suite: 'disk',
        level: 'warning',
        message: `${t.name}: the fio file is in ${dir} on ${fsType} (RAM), not on the guest's disk: disk figures measure memory. Set a disk path on the guest's disk.`,
      });
    }
    const file = device ?? (t.kind === 'host' ? path.join(dir!, `virtscope-bench-${runTag}.fio`) : `${dir!.replace(/\/$/, '')}/virtscope-bench-${runTag}.fio`);
    if (!device) {
      cleanups.push(async () => {
        if (t.kind === 'host') await machine.rm(file, { force: true });
        else await t.exec.exec(['rm', '-f', '--', file], { timeoutMs: 20_000 }).catch(() => undefined);
      });
    }
    const writes = !device || !!t.ref?.rawDeviceWrites;
    if (!writes) {
      notes.push({ target: t.name, suite: 'disk', level: 'info', message: `${t.name}: ${device} is a block device: write jobs skipped (set rawDeviceWrites to run them; they destroy its contents)` });
    }
    const argv = fioArgv(file, opts, runTag, writes, true);
    let { run } = await runTool(t, 'fio', argv, (6 * (opts.diskSeconds + 5) + 60) * 1000, true);
    if (run.exitCode !== 0 && /direct|O_DIRECT|Invalid argument/i.test(`${run.stderr ?? ''}${typeof run.raw === 'string' ? run.raw : ''}`)) {
      notes.push({ target: t.name, suite: 'disk', level: 'warning', message: `${t.name}: direct I/O (O_DIRECT) is not supported on ${t.env.diskTarget} (${fsType}); ran buffered (direct=0)` });
      ({ run } = await runTool(t, 'fio', fioArgv(file, opts, runTag, writes, false), (6 * (opts.diskSeconds + 5) + 60) * 1000, true));
    }
    if (run.exitCode !== 0 || typeof run.raw !== 'object') throw new Error(`fio exited with ${run.exitCode}: ${(run.stderr ?? String(run.raw)).trim().slice(0, 400)}`);
    const jobs = parseFio(run.raw);
    const idx = (n: string) => jobs.findIndex((j) => j.name === n);
    const put = (metric: MetricId, job: string, field: string, scale: number, unit: string) => {
      const i = idx(job);
      if (i >= 0) measure(t, metric, run, { rawPath: `jobs[${i}].${field}`, scale }, unit);
    };
    put('disk.randread4kQd1', 'randread-4k-qd1', 'read.iops', 1, 'IOPS');
    put('disk.randread4kQd1Lat', 'randread-4k-qd1', 'read.clat_ns.mean', 1e-3, 'µs');
    put('disk.randread4kQd32', 'randread-4k-qd32', 'read.iops', 1, 'IOPS');
    put('disk.randwrite4kQd1', 'randwrite-4k-qd1', 'write.iops', 1, 'IOPS');
    put('disk.randwrite4kQd32', 'randwrite-4k-qd32', 'write.iops', 1, 'IOPS');
    put('disk.seqread1m', 'seqread-1m', 'read.bw_bytes', 1 / 1048576, 'MiB/s');
    put('disk.seqwrite1m', 'seqwrite-1m', 'write.bw_bytes', 1 / 1048576, 'MiB/s');
  };

  // ---- cpu / memory (sysbench has no JSON output: its summary line is matched strictly)
  const sysbenchSuite = async (t: Target, suite: 'cpu' | 'memory') => {
    if (!(await has(t, 'sysbench'))) return missing(t, suite, 'sysbench');
    const argv = ['sysbench', suite, `--time=${opts.cpuSeconds}`, '--threads=1', 'run'];
    const { run } = await runTool(t, 'sysbench', argv, (opts.cpuSeconds + 30) * 1000, false);
    const text = String(run.raw);
    if (suite === 'cpu') {
      parseSysbenchCpu(text);
      measure(t, 'cpu.eventsPerSec', run, { printed: /events per second:\s+([0-9.]+)/.exec(text)![1] }, 'events/s');
    } else {
      parseSysbenchMemory(text);
      measure(t, 'memory.bandwidth', run, { printed: /MiB transferred \(([0-9.]+) MiB\/sec\)/.exec(text)![1] }, 'MiB/s');
    }
  };

  // ---- guest environment: kernel, CPU, virtualization type, address and host endpoint
  const guestEnvironment = async (t: Target, o: BenchOptions, sig?: AbortSignal) => {
    const r = t.resolved!;
    const run1 = (argv: string[]) => t.exec.exec(argv, { timeoutMs: 20_000, signal: sig }).catch(() => undefined);
    t.env.kernel = (await run1(['uname', '-r']))?.stdout.trim();
    const cpuinfo = (await run1(['cat', '/proc/cpuinfo']))?.stdout ?? '';
    t.env.cpuModel = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim();
    t.env.cpus = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || undefined;
    if (t.kind === 'qemu') {
      const def = await r.backend.definition(r.guest.id).catch(() => undefined);
      const vt = def ? domainVirtType(def.text) : undefined;
      t.env.virtualization = vt === 'kvm' ? 'kvm' : vt === 'qemu' ? 'qemu (TCG emulation)' : vt ?? 'unknown';
      if (vt === 'qemu') t.env.warnings.push(`${t.name}: this guest runs under TCG emulation, not KVM: VM figures are not representative of KVM`);
    } else {
      t.env.virtualization = 'container (shares the host kernel)';
    }
    const addrs = parseIpAddrOneline((await run1(['ip', '-o', '-4', 'addr', 'show']))?.stdout ?? '');
    const hostAddrs = await hostAddresses(o);
    const ep = hostEndpointFor(addrs, hostAddrs);
    if (ep) {
      t.env.address = ep.guest.address;
      t.env.hostEndpoint = ep.host.address;
    } else if (addrs.length) {
      t.env.address = addrs[0].address;
      t.env.warnings.push(
        `${t.name}: no host address in the subnet of ${addrs.map((a) => `${a.address}/${a.prefix}`).join(', ')}` +
          (o.hostNetworkNamespace ? ` (in network namespace ${o.hostNetworkNamespace})` : ' (set virtscope.benchmark.hostNetworkNamespace if the guests are in another network namespace)'),
      );
    }
  };

  const hostAddresses = (o: BenchOptions) => hostIPv4s(machine, { netns: o.hostNetworkNamespace }).catch(() => []);

  // ---- run
  try {
    const total = steps.length;
    for (let i = 0; i < steps.length; i++) {
      checkCancel();
      hooks.progress?.(steps[i].label, i, total);
      await steps[i].fn();
    }
    checkCancel();
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
  }
  // tool versions for the environment section (tools that were found)
  for (const t of targets) {
    for (const tool of new Set(spec.suites.flatMap((s) => TOOL_OF_SUITE[s]))) {
      if (t.env.tools[tool] && t.env.tools[tool] !== 'missing') {
        const r = await t.exec.exec([tool, '--version'], { timeoutMs: 10_000 }).catch(() => undefined);
        const v = (r?.stdout || r?.stderr || '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim());
        if (v) t.env.tools[tool] = v.replace(/^sockperf: /, '').trim();
      }
    }
  }
  const names = resolved.map((r) => r.guest.name);
  return {
    format: 'virtscope-bench/1',
    id: runTag,
    title: `${spec.suites.join(', ')} on ${[opts.includeHost ? 'host' : '', ...names].filter(Boolean).join(', ')}`,
    startedAt,
    finishedAt: new Date().toISOString(),
    spec: { ...spec, options: opts },
    environment: { host: { ...host.env, memoryBytes: hostEnv.memoryBytes }, targets: targets.filter((t) => t.kind !== 'host').map((t) => t.env) },
    measurements,
    runs,
    notes,
  };
}

function readNum(obj: unknown, p: string): number | undefined {
  let cur: any = obj;
  for (const part of p.replace(/\[(\d+)\]/g, '.$1').split('.')) cur = cur?.[part];
  return typeof cur === 'number' ? cur : undefined;
}

/** fio argv: six jobs run one after another (stonewall) on one file, JSON output. */
export function fioArgv(file: string, o: Pick<BenchOptions, 'diskSeconds' | 'diskSizeMiB'>, tag: string, writes: boolean, direct: boolean): string[] {
  const argv = [
    'fio',
    '--output-format=json',
    `--filename=${file}`,
    `--size=${o.diskSizeMiB}M`,
    '--ioengine=libaio',
    `--direct=${direct ? 1 : 0}`,
    `--runtime=${o.diskSeconds}`,
    '--time_based',
    '--randrepeat=0',
    '--norandommap',
    `--description=virtscope-${tag}`,
  ];
  const job = (name: string, rw: string, bs: string, qd: number) => argv.push(`--name=${name}`, `--rw=${rw}`, `--bs=${bs}`, `--iodepth=${qd}`, '--stonewall');
  if (writes) job('seqwrite-1m', 'write', '1m', 8); // first: lays the file out with real blocks
  job('randread-4k-qd1', 'randread', '4k', 1);
  job('randread-4k-qd32', 'randread', '4k', 32);
  if (writes) {
    job('randwrite-4k-qd1', 'randwrite', '4k', 1);
    job('randwrite-4k-qd32', 'randwrite', '4k', 32);
  }
  job('seqread-1m', 'read', '1m', 8);
  return argv;
}

async function hostEnvironment(host: Host): Promise<{ env: TargetEnv; memoryBytes: number }> {
  const b = await hostBasics(host);
  const flags = /^flags\s*:\s*(.*)$/m.exec(b.cpuinfo)?.[1]?.split(/\s+/) ?? [];
  const hw = flags.includes('vmx') ? 'vmx (Intel VT-x)' : flags.includes('svm') ? 'svm (AMD-V)' : 'none';
  const kvm = await host.exists('/dev/kvm');
  const warnings: string[] = [];
  if (hw === 'none') warnings.push(`host: the CPU exposes no vmx/svm${kvm ? ' (/dev/kvm exists but cannot run ordinary guests with hardware virtualization)' : ''}: QEMU guests here run under TCG emulation`);
  const env: TargetEnv = {
    target: 'host',
    kind: 'host',
    virtualization: `host (hardware virtualization: ${hw}; /dev/kvm ${kvm ? 'present' : 'absent'})`,
    kernel: b.kernelRelease,
    cpuModel: b.cpuModel,
    cpus: b.cpus,
    tools: {},
    warnings,
  };
  return { env, memoryBytes: b.memBytes };
}
