// Benchmark fidelity: does virtscope report what the tools measure? For the host and an lxc-tools
// guest, the engine's network (iperf3 guest → host) and disk (fio) figures are compared with the same
// iperf3/fio argv (taken from the engine's own record) run directly — execFile on the host,
// `lxc-attach -n NAME -- argv` in the container — on the same path, alternating, in the same run.
//   node --import tsx bench/fidelity.ts [--rounds N] [--seconds S] [--guest labct] [--netns virtscope-lab]
// Needs the lab (bash scripts/lab.sh up). Goal: medians within 5 %.
import { spawn } from 'node:child_process';
import { LxcBackend } from '../src/core/backends/lxc';
import { runBenchmark, ResolvedTarget } from '../src/core/bench/engine';
import { jsonFrom, parseFio, parseIperf3 } from '../src/core/bench/parse';
import { resolveTargets } from '../src/core/bench/resolve';
import { BenchReport, DEFAULT_OPTIONS, MetricId, readPath } from '../src/core/bench/types';
import { run } from '../src/core/exec';
import { arg, median } from './util';

const GOAL = 0.05;
const ROUNDS = Number(arg('rounds', '3'));
const SECONDS = Number(arg('seconds', '1'));
const GUEST = arg('guest', 'labct');
const NETNS = arg('netns', 'virtscope-lab');

/** The argv in a target, the plain way: on the host as is, in the container through lxc-attach. */
async function direct(target: string, argv: string[]): Promise<string> {
  const [file, ...args] = target === 'host' ? argv : ['lxc-attach', '-n', target, '--', ...argv];
  return (await run(file, args, { timeoutMs: 300_000 })).stdout;
}

/** A one-shot iperf3 server, like the engine's, for the direct client. */
async function withServer<T>(addr: string, ns: string | undefined, fn: (port: number) => Promise<T>): Promise<T> {
  const port = 30000 + Math.floor(Math.random() * 5000);
  const argv = [...(ns ? ['nsenter', `--net=/run/netns/${ns}`, '--'] : []), 'iperf3', '-s', '-1', '-B', addr, '-p', String(port)];
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const { readFile } = await import('node:fs/promises');
  for (let i = 0; i < 300; i++) {
    const tcp = await readFile(`/proc/${child.pid}/net/tcp`, 'utf8').catch(() => '');
    if (tcp.split('\n').some((l) => l.split(/\s+/)[2]?.endsWith(`:${hex}`) && l.split(/\s+/)[4] === '0A')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    return await fn(port);
  } finally {
    child.kill('SIGKILL');
  }
}

interface Row {
  target: string;
  metric: MetricId;
  label: string;
  virtscope: number[];
  direct: number[];
}

async function main(): Promise<void> {
  const b = new LxcBackend({ id: 'lxc-tools', type: 'lxc' });
  await b.connect();
  const targets: ResolvedTarget[] = await resolveTargets([GUEST], [{ id: 'lxc-tools', backend: async () => b }]);
  const options = { ...DEFAULT_OPTIONS, netSeconds: SECONDS, diskSeconds: SECONDS, diskSizeMiB: 32, hostNetworkNamespace: NETNS };
  const rows: Row[] = [];
  const row = (target: string, metric: MetricId, label: string) => {
    let r = rows.find((x) => x.target === target && x.metric === metric);
    if (!r) rows.push((r = { target, metric, label, virtscope: [], direct: [] }));
    return r;
  };
  const value = (rep: BenchReport, target: string, metric: MetricId) => rep.measurements.find((m) => m.target === target && m.metric === metric);
  const t0 = Date.now();
  const directNet = async (target: string, argv: string[]) => {
    const addr = argv[argv.indexOf('-c') + 1];
    const out = await withServer(addr, target === 'host' ? undefined : NETNS, (port) => direct(target, argv.map((a, i) => (argv[i - 1] === '-p' ? String(port) : a))));
    return parseIperf3(jsonFrom('iperf3', out)).receivedBps / 1e9;
  };
  const directDisk = async (target: string, argv: string[]) => {
    const file = argv.find((a) => a.startsWith('--filename='))!.slice('--filename='.length);
    try {
      return parseFio(jsonFrom('fio', await direct(target, argv)));
    } finally {
      await direct(target, ['rm', '-f', '--', file]).catch(() => undefined);
    }
  };
  const FIO: Array<[MetricId, string, string, (j: ReturnType<typeof parseFio>[number]) => number]> = [
    ['disk.randread4kQd1', 'randread-4k-qd1', 'fio 4k random read QD1, IOPS', (j) => j.readIops],
    ['disk.randwrite4kQd32', 'randwrite-4k-qd32', 'fio 4k random write QD32, IOPS', (j) => j.writeIops],
    ['disk.seqread1m', 'seqread-1m', 'fio 1 MiB sequential read, MiB/s', (j) => j.readBw / 1048576],
  ];
  const netArgv = new Map<string, string[]>();
  const diskArgv = new Map<string, string[]>();
  const directNetVals = new Map<string, number>();
  const directDiskVals = new Map<string, ReturnType<typeof parseFio>>();
  for (let round = 0; round < ROUNDS; round++) {
    // odd rounds run the direct invocation first (with the previous round's argv): order effects cancel out
    const directFirst = round % 2 === 1;
    // network: guest → host throughput (host baseline: loopback)
    if (directFirst) for (const target of ['host', GUEST]) directNetVals.set(target, await directNet(target, netArgv.get(target)!));
    const net = await runBenchmark({ suites: ['network'], guests: targets.map((t) => t.ref), options: { ...options, latencySeconds: 1 } }, targets);
    for (const target of ['host', GUEST]) {
      const m = value(net, target, 'net.guestToHost');
      if (!m) throw new Error(`no network figure for ${target}: ${JSON.stringify(net.notes)}`);
      netArgv.set(target, net.runs.find((r) => r.id === m.runId)!.argv);
      if (!directFirst) directNetVals.set(target, await directNet(target, netArgv.get(target)!));
      const r = row(target, 'net.guestToHost', 'iperf3 TCP throughput guest → host, Gbit/s');
      r.virtscope.push(m.value);
      r.direct.push(directNetVals.get(target)!);
    }
    // disk: the same fio invocation (six jobs) on the same file path
    if (directFirst) for (const target of ['host', GUEST]) directDiskVals.set(target, await directDisk(target, diskArgv.get(target)!));
    const disk = await runBenchmark({ suites: ['disk'], guests: targets.map((t) => t.ref), options }, targets);
    for (const target of ['host', GUEST]) {
      const m = value(disk, target, 'disk.randread4kQd1');
      if (!m) throw new Error(`no disk figure for ${target}: ${JSON.stringify(disk.notes)}`);
      const runRec = disk.runs.find((r) => r.id === m.runId)!;
      diskArgv.set(target, runRec.argv);
      if (!directFirst) directDiskVals.set(target, await directDisk(target, runRec.argv));
      const jobs = directDiskVals.get(target)!;
      for (const [metric, job, label, get] of FIO) {
        const vm = value(disk, target, metric)!;
        // the engine's figure is exactly the number in its own raw fio JSON
        const raw = readPath(runRec.raw, vm.rawPath!) as number;
        if (Math.abs(raw * (vm.scale ?? 1) - vm.value) > 1e-9 * Math.abs(vm.value)) throw new Error(`${metric}: report ${vm.value} ≠ raw ${raw}`);
        const r = row(target, metric, label);
        r.virtscope.push(vm.value);
        r.direct.push(get(jobs.find((j) => j.name === job)!));
      }
    }
  }
  await b.close();
  console.log(`\n## Benchmark fidelity: virtscope vs the same tool invocation run directly (${ROUNDS} rounds, ${SECONDS} s per test, ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  console.log('Difference: median over rounds of (virtscope − direct) / direct, each round measuring both back to back on the same path.\n');
  console.log('| target | figure | virtscope (median) | direct (median) | difference (paired median) | spread of direct runs | goal ≤ 5 % |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  let worst = 0;
  for (const r of rows) {
    const v = median(r.virtscope);
    const d = median(r.direct);
    const diff = median(r.virtscope.map((x, i) => (x - r.direct[i]) / r.direct[i]));
    const spread = (Math.max(...r.direct) - Math.min(...r.direct)) / d;
    worst = Math.max(worst, Math.abs(diff));
    console.log(`| ${r.target} | ${r.label} | ${v.toFixed(2)} | ${d.toFixed(2)} | ${(diff * 100).toFixed(1)} % | ${(spread * 100).toFixed(0)} % | ${Math.abs(diff) <= GOAL ? 'yes' : 'no'} |`);
  }
  console.log('\nA difference smaller than the spread of the direct runs themselves is noise of this (shared) machine, not overhead.');
  console.log(`\nfidelity: worst difference ${(worst * 100).toFixed(1)} % (goal ${GOAL * 100} %; per-round values: ${JSON.stringify(rows.map((r) => [r.target, r.metric, r.virtscope.map((x) => +x.toFixed(2)), r.direct.map((x) => +x.toFixed(2))]))})`);
}

main().catch((e) => {
  console.error(`fidelity: ${(e as Error).message}`);
  process.exit(1);
});
