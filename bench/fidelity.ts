// Benchmark fidelity: does virtscope report what the tools measure, and does running a tool through
// virtscope change what it measures? Every iperf3 client (guest → host) and every fio run that the
// engine starts is paired with the same argv run directly on the same path — execFile on the host,
// `lxc-attach -n NAME -- argv` in an lxc-tools container — back to back, alternating which goes first.
// Each figure in the engine's report is compared with the same JSON field of the direct run.
//   node --import tsx bench/fidelity.ts [--rounds N] [--net-rounds M] [--seconds S] [--guest labct] [--netns virtscope-lab] [--no-host]
// --no-host leaves out the host as a target (twice the rounds in the same time for the container).
// N rounds run the network and disk suites, then network-only rounds up to M in all (a network round
// is cheap and yields one pair per target; a disk round yields six).
// Needs the lab (bash scripts/lab.sh up). Goal: within 5 %, judged on the 95 % confidence interval of
// the median paired difference, so that the machine's own run-to-run noise is not taken for a result:
// per figure, and pooled per target and suite (the path a tool runs on is the same for all of a
// suite's figures, so a bias it caused would show in all of them).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { LxcBackend } from '../src/core/backends/lxc';
import { runBenchmark } from '../src/core/bench/engine';
import { jsonFrom } from '../src/core/bench/parse';
import { resolveTargets } from '../src/core/bench/resolve';
import { DEFAULT_OPTIONS, readPath } from '../src/core/bench/types';
import { run } from '../src/core/exec';
import { GuestExecutor } from '../src/core/guest/exec';
import { arg, median, medianCi, pct, verdict } from './util';

const GOAL = 0.05;
const ROUNDS = Number(arg('rounds', '10'));
const NET_ROUNDS = Math.max(ROUNDS, Number(arg('net-rounds', '30')));
const SECONDS = Number(arg('seconds', '1'));
const GUEST = arg('guest', 'labct');
const NETNS = arg('netns', 'virtscope-lab');
const HOST = !process.argv.includes('--no-host');

/** The argv in a target, the plain way: on the host as is, in the container through lxc-attach. */
async function direct(target: string, argv: string[]): Promise<string> {
  const [file, ...args] = target === 'host' ? argv : ['lxc-attach', '-n', target, '--', ...argv];
  return (await run(file, args, { timeoutMs: 300_000 })).stdout;
}

/** A one-shot iperf3 server of our own for the direct client (the engine's serves only its client). */
async function withServer<T>(addr: string, ns: string | undefined, fn: (port: number) => Promise<T>): Promise<T> {
  const port = 30000 + Math.floor(Math.random() * 5000);
  const argv = [...(ns ? ['nsenter', `--net=/run/netns/${ns}`, '--'] : []), 'iperf3', '-s', '-1', '-B', addr, '-p', String(port)];
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
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

/** The direct twin of one engine invocation: its JSON. */
async function directTwin(target: string, argv: string[]): Promise<unknown> {
  if (argv[0] === 'iperf3') {
    const addr = argv[argv.indexOf('-c') + 1];
    const out = await withServer(addr, target === 'host' ? undefined : NETNS, (port) =>
      direct(
        target,
        argv.map((a, i) => (argv[i - 1] === '-p' ? String(port) : a)),
      ),
    );
    return jsonFrom('iperf3', out);
  }
  // fio: the same jobs on a file of its own beside the engine's (each run lays out a fresh file)
  const file = `${argv.find((a) => a.startsWith('--filename='))!.slice('--filename='.length)}.direct`;
  try {
    return jsonFrom(
      'fio',
      await direct(
        target,
        argv.map((a) => (a.startsWith('--filename=') ? `--filename=${file}` : a)),
      ),
    );
  } finally {
    await direct(target, ['rm', '-f', '--', file]).catch(() => undefined);
  }
}

interface Twin {
  target: string;
  argv: string[];
  raw: unknown;
  directFirst: boolean;
}

interface Row {
  target: string;
  metric: string;
  unit: string;
  virtscope: number[];
  direct: number[];
}

async function main(): Promise<void> {
  const b = new LxcBackend({ id: 'lxc-tools', type: 'lxc' });
  await b.connect();
  const targets = await resolveTargets([GUEST], [{ id: 'lxc-tools', backend: async () => b }]);
  const options = {
    ...DEFAULT_OPTIONS,
    netSeconds: SECONDS,
    latencySeconds: 1,
    diskSeconds: SECONDS,
    diskSizeMiB: 32,
    hostNetworkNamespace: NETNS,
    includeHost: HOST,
  };
  const rows: Row[] = [];
  const twins: Twin[] = [];
  let pairs = 0;
  /** Pairs every iperf3 client that sends to the host, and every fio run, with its direct twin. */
  const wrap = (target: string, inner: GuestExecutor): GuestExecutor => ({
    description: inner.description,
    exec: async (argv, o) => {
      const paired = (argv[0] === 'iperf3' && argv.includes('-c') && !argv.includes('-R')) || argv[0] === 'fio';
      if (!paired) return inner.exec(argv, o);
      const directFirst = pairs++ % 2 === 1;
      const twin: Twin = { target, argv, raw: undefined, directFirst };
      if (directFirst) twin.raw = await directTwin(target, argv);
      const res = await inner.exec(argv, o);
      if (!directFirst) twin.raw = await directTwin(target, argv);
      twins.push(twin);
      return res;
    },
  });
  const t0 = Date.now();
  for (let round = 0; round < NET_ROUNDS; round++) {
    twins.length = 0;
    const rep = await runBenchmark({ suites: round < ROUNDS ? ['network', 'disk'] : ['network'], guests: targets.map((t) => t.ref), options }, targets, {
      wrap,
    });
    for (const twin of twins) {
      const r = rep.runs.find((x) => x.target === twin.target && x.argv === twin.argv);
      if (!r) throw new Error(`no engine record of ${twin.argv.join(' ')} in ${twin.target}`);
      for (const m of rep.measurements.filter((x) => x.runId === r.id && x.rawPath)) {
        // the report's figure is exactly the number in the tool's own JSON…
        const raw = readPath(r.raw, m.rawPath!) as number;
        if (Math.abs(raw * (m.scale ?? 1) - m.value) > 1e-9 * Math.abs(m.value)) throw new Error(`${m.metric}: report ${m.value} ≠ raw ${raw}`);
        // …and is compared with the same field of the direct run
        const d = (readPath(twin.raw, m.rawPath!) as number) * (m.scale ?? 1);
        let row = rows.find((x) => x.target === twin.target && x.metric === m.metric);
        if (!row) rows.push((row = { target: twin.target, metric: m.metric, unit: m.unit, virtscope: [], direct: [] }));
        row.virtscope.push(m.value);
        row.direct.push(d);
      }
    }
    const errors = rep.notes.filter((n) => n.level === 'error' || n.level === 'missing-tool');
    if (errors.length) throw new Error(errors.map((n) => n.message).join('; '));
    process.stderr.write(`  round ${round + 1}/${NET_ROUNDS}${round < ROUNDS ? '' : ' (network)'} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  await b.close();
  console.log(
    `\n## Benchmark fidelity: virtscope vs the same tool invocation run directly (${ROUNDS} rounds of network + disk, ${NET_ROUNDS} of network, ${SECONDS} s per test, ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
  );
  console.log('Each engine run of iperf3 (guest → host) and fio is paired with the same argv run directly, back to back, alternating which goes first.');
  console.log(
    'Difference: median over pairs of (virtscope − direct) / direct, with its 95 % bootstrap confidence interval. Spread: coefficient of variation of the direct runs alone.\n',
  );
  console.log('| target | figure | virtscope (median) | direct (median) | difference | 95 % CI | spread of direct runs | within 5 % |');
  console.log('|---|---|---:|---:|---:|---|---:|---|');
  const verdicts: string[] = [];
  let worstMid = 0;
  for (const r of rows) {
    const diffs = r.virtscope.map((x, i) => (x - r.direct[i]) / r.direct[i]);
    const mid = median(diffs);
    const ci = medianCi(diffs);
    const mean = r.direct.reduce((a, b) => a + b, 0) / r.direct.length;
    const cv = Math.sqrt(r.direct.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, r.direct.length - 1)) / mean;
    const v = diffs.length < 5 ? 'no verdict: fewer than 5 pairs' : verdict(mid, ci, GOAL);
    verdicts.push(v);
    worstMid = Math.max(worstMid, Math.abs(mid));
    console.log(
      `| ${r.target} | ${r.metric} (${r.unit}) | ${median(r.virtscope).toFixed(2)} | ${median(r.direct).toFixed(2)} | ${pct(mid)} | ${pct(ci[0])} … ${pct(ci[1])} | ${(cv * 100).toFixed(0)} % | ${v} |`,
    );
  }
  // pooled per target and suite
  console.log('\nPooled: every paired difference of a suite in a target (the path is the same for all of them; latencies as their inverse).\n');
  console.log('| target | suite | pairs | difference (median) | 95 % CI | within 5 % |');
  console.log('|---|---|---:|---:|---|---|');
  const pooled: string[] = [];
  for (const target of [...new Set(rows.map((r) => r.target))]) {
    for (const suite of ['net', 'disk']) {
      const mine = rows.filter((r) => r.target === target && r.metric.startsWith(`${suite}.`));
      // as performance: a latency (lower is better) counts as its inverse, so a slower path has the same sign everywhere
      const diffs = mine.flatMap((r) => r.virtscope.map((x, i) => (r.unit === 'µs' ? (r.direct[i] - x) / x : (x - r.direct[i]) / r.direct[i])));
      if (!diffs.length) continue;
      const mid = median(diffs);
      const ci = medianCi(diffs);
      const v = diffs.length < 10 ? 'no verdict: fewer than 10 pairs' : verdict(mid, ci, GOAL);
      pooled.push(v);
      console.log(
        `| ${target} | ${suite === 'net' ? 'network (iperf3)' : `disk (fio, ${mine.length} figures)`} | ${diffs.length} | ${pct(mid)} | ${pct(ci[0])} … ${pct(ci[1])} | ${v} |`,
      );
    }
  }
  const shown = verdicts.filter((v) => v === 'shown').length;
  const outside = verdicts.filter((v) => v === 'NOT within').length;
  console.log(
    `\nfidelity: pooled per target and suite ${pooled.filter((v) => v === 'shown').length} of ${pooled.length} shown within ${GOAL * 100} % (95 % CI inside ±${GOAL * 100} %), ${pooled.filter((v) => v === 'NOT within').length} outside; per figure ${shown} of ${rows.length} shown, ${outside} outside, ${rows.length - shown - outside} not resolved by this machine's noise; worst per-figure median difference ${pct(worstMid)}`,
  );
}

main().catch((e) => {
  console.error(`fidelity: ${(e as Error).message}`);
  process.exit(1);
});
