// Trace overhead: iperf3 throughput from the lab's QEMU guest to the host with the virtio-net TX
// trace running vs without it, in the same run. Each round runs both back to back (alternating which
// goes first, so drift cancels), through the same code path: the baseline runs the trace engine with
// no kprobes and no QEMU trace events. The overhead is the median over rounds of the paired drop in
// throughput, with its 95 % bootstrap confidence interval. Both detail levels are measured; the goal
// is judged on the default (kick-path).
//   node --import tsx bench/trace-overhead.ts [--rounds N] [--seconds S] [--guest labvm] [--netns virtscope-lab] [--configs default,full] [--all]
// --configs default,full (the default) picks what is measured, each against its own baseline runs;
// full-guest and full-qemu split the full level into its guest and QEMU parts; --all runs all.
// --pool a.md,b.md runs nothing: it pools the paired drops of earlier outputs of this bench (their
// tables, in Mbit/s as printed) per configuration, and prints the overhead over all of their rounds.
// Needs the lab (bash scripts/lab.sh up). Goal: overhead < 10 %. Under TCG (no KVM on this machine)
// the figure is that of an emulated CPU, where a kprobe hit costs far more than on hardware.
import { LibvirtBackend } from '../src/core/backends/libvirt';
import { runTrace, TraceDetail } from '../src/core/trace/engine';
import { traceTargetFor } from '../src/core/trace/target';
import { readFileSync } from 'node:fs';
import { arg, median, medianCi, pct } from './util';

const GOAL = 0.1;
const ROUNDS = Number(arg('rounds', '8'));
const SECONDS = Number(arg('seconds', '5'));
const GUEST = arg('guest', 'labvm');
const NETNS = arg('netns', 'virtscope-lab');
const ALL = process.argv.includes('--all');

type Config = { name: string; opts: { noTrace?: boolean; guestProbes?: string[]; qemuEvents?: string[]; detail?: TraceDetail } };

const fail = (m: string): never => {
  throw new Error(m);
};

const BASE = 'without trace';

/** Met when the whole 95 % confidence interval of the paired drop is under the goal. */
function overheadVerdict(rounds: number, [lo, hi]: [number, number]): string {
  return rounds < 5
    ? 'no verdict: fewer than 5 rounds'
    : hi < GOAL
      ? 'met'
      : lo >= GOAL
        ? 'NOT met'
        : `not resolved: the confidence interval straddles ${GOAL * 100} %`;
}

/**
 * The paired drops per configuration in an earlier output of this bench. Its table lists the runs in
 * the order they were measured: per round, one baseline run per configuration, so baseline run
 * round × configurations + k pairs with configuration k's run of that round.
 */
function dropsFromOutput(text: string): Map<string, number[]> {
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| configuration'))
    .map((l) => l.split('|').map((c) => c.trim()))
    .map((c) => ({ name: c[1], runs: c[5].split(',').map(Number) }));
  const base = rows.find((r) => r.name === BASE)?.runs ?? fail(`no "${BASE}" row`);
  const configs = rows.filter((r) => r.name !== BASE);
  return new Map(configs.map((c, k) => [c.name, c.runs.map((t, i) => (base[i * configs.length + k] - t) / base[i * configs.length + k])]));
}

function pool(files: string[]): void {
  const pooled = new Map<string, number[]>();
  for (const f of files) for (const [name, d] of dropsFromOutput(readFileSync(f, 'utf8'))) pooled.set(name, [...(pooled.get(name) ?? []), ...d]);
  console.log(`## Trace overhead pooled over ${files.length} runs of this bench: ${files.join(', ')}\n`);
  console.log('| configuration | rounds | overhead | 95 % CI | goal < 10 % |');
  console.log('|---|---:|---:|---|---|');
  for (const [name, d] of pooled) {
    const ci = medianCi(d);
    console.log(`| ${name} | ${d.length} | ${pct(median(d))} | ${pct(ci[0])} … ${pct(ci[1])} | ${overheadVerdict(d.length, ci)} |`);
  }
}

async function main(): Promise<void> {
  const poolFiles = arg('pool', '');
  if (poolFiles) return pool(poolFiles.split(','));
  const b = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
  await b.connect();
  try {
    const g = (await b.list()).find((x) => x.name === GUEST);
    if (!g) throw new Error(`guest ${GUEST} not found on qemu:///system: bash scripts/lab.sh up`);
    const target = traceTargetFor(b, g);
    const base: Config = { name: BASE, opts: { noTrace: true } };
    const known: Record<string, Config> = {
      default: { name: 'default trace, detail kick-path (1 guest kprobe, vp_notify; no QEMU events)', opts: { detail: 'kick-path' } },
      full: { name: 'full trace (15 guest kprobes + QEMU kicks and interrupts)', opts: { detail: 'full' } },
      'full-guest': { name: 'full: guest kprobes only', opts: { detail: 'full', qemuEvents: [] } },
      'full-qemu': { name: 'full: QEMU trace events only', opts: { detail: 'full', guestProbes: [] } },
    };
    const pick = ALL ? Object.keys(known) : arg('configs', 'default,full').split(',');
    const configs: Config[] = pick.map((k) => known[k] ?? fail(`unknown configuration ${k}: ${Object.keys(known).join(', ')}`));
    const runs = new Map<string, number[]>([base, ...configs].map((c) => [c.name, []]));
    /** per config: the paired drop against the baseline run of the same round */
    const drops = new Map<string, number[]>(configs.map((c) => [c.name, []]));
    let virt = '';
    let hitsPerSec = 0;
    const once = async (c: Config): Promise<number> => {
      const r = await runTrace(target, { durationSec: SECONDS, workload: { kind: 'iperf3' }, hostNetns: NETNS, ...c.opts });
      virt = r.virtType;
      const bps = r.workload.sentBitsPerSecond;
      if (!bps) throw new Error(`iperf3 gave no throughput: ${r.warnings.join('; ')}`);
      runs.get(c.name)!.push(bps);
      const hits = Object.values(r.guestHits).reduce((a, x) => a + x, 0);
      if (c === configs[0]) hitsPerSec = Math.max(hitsPerSec, hits / SECONDS);
      process.stderr.write(`  ${c.name}: ${(bps / 1e6).toFixed(0)} Mbit/s${hits ? ` (${hits} kprobe hits)` : ''}\n`);
      return bps;
    };
    const t0 = Date.now();
    for (let i = 0; i < ROUNDS; i++) {
      process.stderr.write(`round ${i + 1}/${ROUNDS}\n`);
      for (const c of configs) {
        // ABBA: the baseline goes first in even rounds, second in odd ones
        let b0 = 0;
        if (i % 2 === 0) b0 = await once(base);
        const traced = await once(c);
        if (i % 2 === 1) b0 = await once(base);
        drops.get(c.name)!.push((b0 - traced) / b0);
      }
    }
    console.log('');
    console.log(
      `## Trace overhead: ${GUEST} (${virt === 'qemu' ? 'TCG' : virt}), iperf3 guest → host, ${SECONDS} s × ${ROUNDS} rounds (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`,
    );
    console.log(
      'Overhead: median over rounds of (baseline − traced) / baseline, each round measuring both back to back; 95 % bootstrap confidence interval.\n',
    );
    console.log('| configuration | median Mbit/s | overhead | 95 % CI | runs (Mbit/s) |');
    console.log('|---|---:|---:|---|---|');
    const baseRuns = runs.get(base.name)!;
    console.log(`| ${base.name} | ${(median(baseRuns) / 1e6).toFixed(0)} | — | — | ${baseRuns.map((x) => (x / 1e6).toFixed(0)).join(', ')} |`);
    for (const c of configs) {
      const d = drops.get(c.name)!;
      const [lo, hi] = medianCi(d);
      console.log(
        `| ${c.name} | ${(median(runs.get(c.name)!) / 1e6).toFixed(0)} | ${pct(median(d))} | ${pct(lo)} … ${pct(hi)} | ${runs
          .get(c.name)!
          .map((x) => (x / 1e6).toFixed(0))
          .join(', ')} |`,
      );
    }
    const def = drops.get(configs[0].name)!; // the first picked (default: the default level)
    const [lo, hi] = medianCi(def);
    const verdict = overheadVerdict(ROUNDS, [lo, hi]);
    const full = drops.get(known.full.name) ?? [];
    const [flo, fhi] = full.length ? medianCi(full) : [NaN, NaN];
    console.log('');
    console.log(
      `trace overhead (${configs[0].name}): ${pct(median(def))} of throughput, 95 % CI ${pct(lo)} … ${pct(hi)} (goal < ${GOAL * 100} %): ${verdict}; up to ${Math.round(hitsPerSec).toLocaleString('en-US')} kprobe hits/s in the guest${full.length && configs[0] !== known.full ? `; full trace ${pct(median(full))} (CI ${pct(flo)} … ${pct(fhi)})` : ''}`,
    );
    if (virt === 'qemu')
      console.log('note: TCG guest (no KVM here): every kprobe hit runs through the emulated CPU, so this overstates the cost on a KVM host.');
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
