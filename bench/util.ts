// Shared by the bench scripts: command-line options, timed rounds, the median and friends, a process's CPU time.
import * as fs from 'node:fs';

/** `--name value` from the command line, or the default. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** Wall times (ms) of `rounds` calls of `fn`, after one untimed warm-up call unless `warm` is false. */
export async function timeRounds(rounds: number, fn: () => Promise<unknown>, warm = true): Promise<number[]> {
  if (warm) await fn();
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Median (mean of the middle two for an even count); NaN for no values. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : NaN;
}

/** 95th percentile (the value at rank floor(0.95 n) of the sorted values); NaN for no values. */
export const p95 = (xs: readonly number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] : NaN);

/** A seeded PRNG (mulberry32), so a bench's bootstrap is the same for the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 95 % bootstrap confidence interval of the median of xs (percentile method, 2,000 resamples). */
export function medianCi(xs: readonly number[], resamples = 2000): [number, number] {
  if (xs.length < 2) return [NaN, NaN];
  const rnd = prng(0x5eed + xs.length);
  const meds: number[] = [];
  const pick = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) pick[i] = xs[Math.floor(rnd() * xs.length)];
    meds.push(median(pick));
  }
  meds.sort((a, b) => a - b);
  return [meds[Math.floor(0.025 * resamples)], meds[Math.ceil(0.975 * resamples) - 1]];
}

/** Whether a relative difference is within ±goal, judged on its confidence interval. */
export function verdict(mid: number, [lo, hi]: [number, number], goal: number): 'shown' | 'not shown: noise wider than the goal' | 'NOT within' {
  if (lo >= -goal && hi <= goal) return 'shown';
  if (lo > goal || hi < -goal || Number.isNaN(mid)) return 'NOT within';
  return 'not shown: noise wider than the goal';
}

/** "+1.2 %" */
export const pct = (x: number, digits = 1): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(digits)} %`;

/** CPU time (ns) of every thread of a process, from /proc/PID/task/TID/schedstat. */
export function processCpuNs(pid: number): number {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* a thread that ended */
    }
  }
  return ns;
}
