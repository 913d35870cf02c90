// The benchmark's suites, each a function over the run's context and one target: network (iperf3
// both ways, sockperf TCP round trip, ping), disk (fio), cpu and memory (sysbench), and the guest
// environment they depend on (kernel, CPU, virtualization, the address the host reaches it at).
import * as path from 'node:path';
import { domainVirtType } from '../domainXml';
import { hostIPv4s } from '../host/net';
import { HostServer } from '../host/server';
import { hostEndpointFor, parseFio, parseIperf3, parseIpAddrOneline, parsePing, parseSockperf, parseSysbenchCpu, parseSysbenchMemory } from './parse';
import { RunContext, Target } from './run';
import { BenchOptions, MetricId, ToolRun } from './types';

const randomPort = () => 20000 + Math.floor(Math.random() * 10000);

/** Where the host-side ends of the network tests run for `t`: loopback for the host, its endpoint for a guest. */
interface NetSide {
  serverAddr: string;
  /** The host network namespace the host-side ends run in (none: the host's own). */
  netns?: string;
  wrap: (argv: string[]) => string[];
}

export async function networkSuite(ctx: RunContext, t: Target): Promise<void> {
  let side: NetSide = { serverAddr: '127.0.0.1', wrap: (argv) => argv };
  if (t.kind !== 'host') {
    if (!t.env.hostEndpoint) {
      ctx.note(
        t,
        'network',
        'info',
        `${t.name}: no network interface to the host${t.kind === 'container' ? ' (only loopback: NetworkMode none?)' : ''}; network suite skipped`,
      );
      return;
    }
    side = { serverAddr: t.env.hostEndpoint, netns: ctx.opts.hostNetworkNamespace, wrap: (argv) => ctx.inHostNs(argv) };
  }
  if (!(await ctx.has(t, 'iperf3'))) ctx.missing(t, 'network', 'iperf3');
  else {
    await iperfRun(ctx, t, side, 'net.guestToHost', false);
    await iperfRun(ctx, t, side, 'net.hostToGuest', true);
  }
  // TCP request/response: sockperf needs both ends
  if (!(await ctx.has(t, 'sockperf'))) ctx.missing(t, 'network', 'sockperf');
  else if (!(await ctx.has(ctx.host, 'sockperf'))) ctx.missing(ctx.host, 'network', 'sockperf');
  else await sockperfRun(ctx, t, side);
  // ICMP round trip, sent by the host (inside the lab namespace for guests)
  if (!(await ctx.has(ctx.host, 'ping'))) ctx.missing(ctx.host, 'network', 'ping');
  else await pingRun(ctx, t, side);
}

/** Runs `client` in `t` against a host server started for it; the server is stopped afterwards, also on failure. */
async function withHostServer(ctx: RunContext, side: NetSide, argv: string[], port: number, client: () => Promise<void>): Promise<void> {
  const server = new HostServer(ctx.machine, side.wrap(argv), side.netns);
  ctx.cleanups.push(async () => void (await server.stop()));
  await server.start(port, ctx.signal);
  try {
    await client();
  } finally {
    await server.stop();
  }
}

async function iperfRun(ctx: RunContext, t: Target, side: NetSide, metric: MetricId, reverse: boolean): Promise<void> {
  const { opts, runTag } = ctx;
  const port = randomPort();
  await withHostServer(ctx, side, ['iperf3', '-s', '-1', '-B', side.serverAddr, '-p', String(port)], port, async () => {
    const argv = ['iperf3', '-c', side.serverAddr, '-p', String(port), '-t', String(opts.netSeconds), '-J', '--title', `virtscope-${runTag}`];
    if (reverse) argv.push('-R');
    const { run } = await ctx.runTool(t, 'iperf3', argv, (opts.netSeconds + 30) * 1000, true);
    parseIperf3(run.raw);
    ctx.measure(t, metric, run, { rawPath: 'end.sum_received.bits_per_second', scale: 1e-9 }, 'Gbit/s');
  });
}

async function sockperfRun(ctx: RunContext, t: Target, side: NetSide): Promise<void> {
  const { opts } = ctx;
  const port = randomPort();
  await withHostServer(ctx, side, ['sockperf', 'sr', '--tcp', '-i', side.serverAddr, '-p', String(port)], port, async () => {
    const argv = ['sockperf', 'ping-pong', '--tcp', '-i', side.serverAddr, '-p', String(port), '-t', String(opts.latencySeconds), '--full-rtt'];
    const { run } = await ctx.runTool(t, 'sockperf', argv, (opts.latencySeconds + 30) * 1000, false);
    const text = String(run.raw) + (run.stderr ?? '');
    run.raw = text;
    const p = /Summary: Round trip is\s+([0-9.]+)\s+usec/.exec(text.replace(/\x1b\[[0-9;]*m/g, ''));
    parseSockperf(text);
    ctx.measure(t, 'net.tcpRtt', run, { printed: p![1] }, 'µs');
  });
}

async function pingRun(ctx: RunContext, t: Target, side: NetSide): Promise<void> {
  const count = Math.max(10, ctx.opts.latencySeconds * 50);
  const argv = side.wrap(['ping', '-c', String(count), '-i', '0.02', '-q', t.kind === 'host' ? '127.0.0.1' : t.env.address!]);
  const { run } = await ctx.runTool(ctx.host, 'ping', argv, (count * 0.02 + 30) * 1000, false);
  run.target = t.name;
  const p = /(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = [0-9.]+\/([0-9.]+)\//.exec(String(run.raw));
  parsePing(String(run.raw));
  ctx.measure(t, 'net.icmpRtt', run, { printed: p![1], scale: 1000 }, 'µs');
}

/** A private directory in the machine's own temporary directory (that machine's, not this one's), removed when the run ends. */
async function hostScratchDir(ctx: RunContext): Promise<string> {
  const dir = await ctx.machine.mkdtemp('virtscope-bench-');
  ctx.cleanups.push(() => ctx.machine.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Where fio writes in `t`: a block device (given), or a file in a directory (given, or the first writable one). */
async function diskLocation(ctx: RunContext, t: Target): Promise<{ dir?: string; device?: string }> {
  const signal = ctx.signal;
  if (t.kind === 'host') return { dir: ctx.opts.hostDiskPath ?? (await hostScratchDir(ctx)) };
  if (t.ref?.diskPath) {
    const r = await t.exec.exec(['sh', '-c', 'if [ -b "$1" ]; then echo block; elif [ -d "$1" ]; then echo dir; else echo none; fi', 'sh', t.ref.diskPath], {
      timeoutMs: 20_000,
      signal,
    });
    const what = r.stdout.trim();
    if (what === 'block') return { device: t.ref.diskPath };
    if (what === 'dir') return { dir: t.ref.diskPath };
    throw new Error(`disk path ${t.ref.diskPath} is neither a directory nor a block device in ${t.name}`);
  }
  const r = await t.exec.exec(['sh', '-c', 'for d in /var/tmp /tmp /root /; do if [ -d "$d" ] && [ -w "$d" ]; then echo "$d"; exit 0; fi; done; exit 1'], {
    timeoutMs: 20_000,
    signal,
  });
  return { dir: r.stdout.trim() || '/tmp' };
}

export async function diskSuite(ctx: RunContext, t: Target): Promise<void> {
  if (!(await ctx.has(t, 'fio'))) return ctx.missing(t, 'disk', 'fio');
  const { opts, runTag } = ctx;
  const { dir, device } = await diskLocation(ctx, t);
  const fsType = await t.exec
    .exec(['stat', '-f', '-c', '%T', device ? '/' : dir!], { timeoutMs: 20_000, signal: ctx.signal })
    .then((r) => r.stdout.trim())
    .catch(() => '');
  t.env.diskTarget = device ?? dir;
  t.env.diskFs = device ? 'block device' : fsType;
  if (!device && /tmpfs|ramfs/.test(fsType)) {
    ctx.note(
      t,
      'disk',
      'warning',
      `${t.name}: the fio file is in ${dir} on ${fsType} (RAM), not on the guest's disk: disk figures measure memory. Set a disk path on the guest's disk.`,
    );
  }
  const file = device ?? path.posix.join(dir!, `virtscope-bench-${runTag}.fio`);
  if (!device) {
    ctx.cleanups.push(async () => {
      if (t.kind === 'host') await ctx.machine.rm(file, { force: true });
      else await t.exec.exec(['rm', '-f', '--', file], { timeoutMs: 20_000 }).catch(() => undefined);
    });
  }
  const writes = !device || !!t.ref?.rawDeviceWrites;
  if (!writes)
    ctx.note(t, 'disk', 'info', `${t.name}: ${device} is a block device: write jobs skipped (set rawDeviceWrites to run them; they destroy its contents)`);
  const timeoutMs = (6 * (opts.diskSeconds + 5) + 60) * 1000;
  let { run } = await ctx.runTool(t, 'fio', fioArgv(file, opts, runTag, writes, true), timeoutMs, true);
  if (run.exitCode !== 0 && /direct|O_DIRECT|Invalid argument/i.test(`${run.stderr ?? ''}${typeof run.raw === 'string' ? run.raw : ''}`)) {
    ctx.note(t, 'disk', 'warning', `${t.name}: direct I/O (O_DIRECT) is not supported on ${t.env.diskTarget} (${fsType}); ran buffered (direct=0)`);
    ({ run } = await ctx.runTool(t, 'fio', fioArgv(file, opts, runTag, writes, false), timeoutMs, true));
  }
  if (run.exitCode !== 0 || typeof run.raw !== 'object')
    throw new Error(`fio exited with ${run.exitCode}: ${(run.stderr ?? String(run.raw)).trim().slice(0, 400)}`);
  fioFigures(ctx, t, run);
}

/** The figures of fio's six jobs (those that ran). */
function fioFigures(ctx: RunContext, t: Target, run: ToolRun): void {
  const jobs = parseFio(run.raw);
  const put = (metric: MetricId, job: string, field: string, scale: number, unit: string) => {
    const i = jobs.findIndex((j) => j.name === job);
    if (i >= 0) ctx.measure(t, metric, run, { rawPath: `jobs[${i}].${field}`, scale }, unit);
  };
  put('disk.randread4kQd1', 'randread-4k-qd1', 'read.iops', 1, 'IOPS');
  put('disk.randread4kQd1Lat', 'randread-4k-qd1', 'read.clat_ns.mean', 1e-3, 'µs');
  put('disk.randread4kQd32', 'randread-4k-qd32', 'read.iops', 1, 'IOPS');
  put('disk.randwrite4kQd1', 'randwrite-4k-qd1', 'write.iops', 1, 'IOPS');
  put('disk.randwrite4kQd32', 'randwrite-4k-qd32', 'write.iops', 1, 'IOPS');
  put('disk.seqread1m', 'seqread-1m', 'read.bw_bytes', 1 / 1048576, 'MiB/s');
  put('disk.seqwrite1m', 'seqwrite-1m', 'write.bw_bytes', 1 / 1048576, 'MiB/s');
}

/** cpu / memory (sysbench has no JSON output: its summary line is matched strictly). */
export async function sysbenchSuite(ctx: RunContext, t: Target, suite: 'cpu' | 'memory'): Promise<void> {
  if (!(await ctx.has(t, 'sysbench'))) return ctx.missing(t, suite, 'sysbench');
  const secs = ctx.opts.cpuSeconds;
  const { run } = await ctx.runTool(t, 'sysbench', ['sysbench', suite, `--time=${secs}`, '--threads=1', 'run'], (secs + 30) * 1000, false);
  const text = String(run.raw);
  if (suite === 'cpu') {
    parseSysbenchCpu(text);
    ctx.measure(t, 'cpu.eventsPerSec', run, { printed: /events per second:\s+([0-9.]+)/.exec(text)![1] }, 'events/s');
  } else {
    parseSysbenchMemory(text);
    ctx.measure(t, 'memory.bandwidth', run, { printed: /MiB transferred \(([0-9.]+) MiB\/sec\)/.exec(text)![1] }, 'MiB/s');
  }
}

/** A guest's kernel, CPU, virtualization type, and the address pair the network suite uses. */
export async function guestEnvironment(ctx: RunContext, t: Target): Promise<void> {
  const run1 = (argv: string[]) => t.exec.exec(argv, { timeoutMs: 20_000, signal: ctx.signal }).catch(() => undefined);
  t.env.kernel = (await run1(['uname', '-r']))?.stdout.trim();
  const cpuinfo = (await run1(['cat', '/proc/cpuinfo']))?.stdout ?? '';
  t.env.cpuModel = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim();
  t.env.cpus = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || undefined;
  await virtualizationOf(t);
  const addrs = parseIpAddrOneline((await run1(['ip', '-o', '-4', 'addr', 'show']))?.stdout ?? '');
  const hostAddrs = await hostIPv4s(ctx.machine, { netns: ctx.opts.hostNetworkNamespace }).catch(() => []);
  const ep = hostEndpointFor(addrs, hostAddrs);
  if (ep) {
    t.env.address = ep.guest.address;
    t.env.hostEndpoint = ep.host.address;
    if (ep.shared)
      t.env.warnings.push(
        `${t.name}: shares the host's network stack (it has the host's address ${ep.host.address}): its network figures cross no virtual network device`,
      );
  } else if (addrs.length) {
    t.env.address = addrs[0].address;
    t.env.warnings.push(`${t.name}: no host address in the subnet of ${addrs.map((a) => `${a.address}/${a.prefix}`).join(', ')}` + netnsAdvice(ctx.opts));
  }
}

function netnsAdvice(o: BenchOptions): string {
  return o.hostNetworkNamespace
    ? ` (in network namespace ${o.hostNetworkNamespace})`
    : ' (set virtscope.hostNetworkNamespace if the guests are in another network namespace)';
}

/** KVM, TCG or container, from the domain XML's type. */
async function virtualizationOf(t: Target): Promise<void> {
  if (t.kind !== 'qemu') {
    t.env.virtualization = 'container (shares the host kernel)';
    return;
  }
  const r = t.resolved!;
  const def = await r.backend.definition(r.guest.id).catch(() => undefined);
  const vt = def ? domainVirtType(def.text) : undefined;
  t.env.virtualization = vt === 'kvm' ? 'kvm' : vt === 'qemu' ? 'qemu (TCG emulation)' : (vt ?? 'unknown');
  if (vt === 'qemu') t.env.warnings.push(`${t.name}: this guest runs under TCG emulation, not KVM: VM figures are not representative of KVM`);
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
