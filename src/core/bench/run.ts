// One benchmark run's state, shared by its suites: the targets, every tool invocation and figure it
// records, the cleanups it owes, and cancellation.
import type { GuestExecutor, GuestExecResult } from '../guest/exec';
import { GuestExecAborted } from '../guest/exec';
import type { Host } from '../host/host';
import { inNetns } from '../host/net';
import { Backend, Guest } from '../model';
import { jsonFrom } from './parse';
import { BenchOptions, BenchTargetRef, Measurement, MetricId, Note, Suite, TargetEnv, ToolRun } from './types';

export interface ResolvedTarget {
  ref: BenchTargetRef;
  backend: Backend;
  guest: Guest;
  /** The machine the guest runs on (its host baseline and servers run there); default this machine. */
  host?: Host;
}

/** The host (baseline) or a guest, as the suites run tools in it. */
export interface Target {
  name: string;
  kind: Guest['kind'] | 'host';
  exec: GuestExecutor;
  ref?: BenchTargetRef;
  resolved?: ResolvedTarget;
  env: TargetEnv;
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

export type Measure = { rawPath: string; scale?: number } | { printed: string; scale?: number };

export class RunContext {
  readonly runs: ToolRun[] = [];
  readonly measurements: Measurement[] = [];
  readonly notes: Note[] = [];
  /** Undone in reverse order when the run ends, however it ends. */
  readonly cleanups: Array<() => Promise<void>> = [];
  private runSeq = 0;

  constructor(
    readonly opts: BenchOptions,
    /** Names the run's files and iperf3 titles. */
    readonly runTag: string,
    /** The machine the guests run on. */
    readonly machine: Host,
    /** The baseline target (also the side that runs servers and ping). */
    readonly host: Target,
    readonly signal?: AbortSignal,
  ) {}

  /** argv inside the host network namespace the guests are reached from (if one is set). */
  inHostNs(argv: string[]): string[] {
    return inNetns(this.opts.hostNetworkNamespace, argv);
  }

  checkCancel(): void {
    if (this.signal?.aborted) throw new BenchCancelled();
  }

  /** Runs argv in a target and records the invocation. */
  async runTool(t: Target, tool: string, argv: string[], timeoutMs: number, parseJson: boolean): Promise<{ run: ToolRun; res: GuestExecResult }> {
    this.checkCancel();
    const t0 = Date.now();
    let res: GuestExecResult;
    try {
      res = await t.exec.exec(argv, { timeoutMs, signal: this.signal });
    } catch (e) {
      if (this.signal?.aborted || (e instanceof GuestExecAborted && e.reason === 'cancelled')) throw new BenchCancelled();
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
    const run: ToolRun = { id: `r${++this.runSeq}`, target: t.name, tool, argv, exitCode: res.exitCode, durationMs: Date.now() - t0, raw };
    if (res.stderr.trim()) run.stderr = res.stderr.slice(0, 4000);
    this.runs.push(run);
    return { run, res };
  }

  /** Is `tool` on the target's PATH (asked once per target)? */
  async has(t: Target, tool: string): Promise<boolean> {
    if (t.env.tools[tool] !== undefined) return t.env.tools[tool] !== 'missing';
    const r = await t.exec.exec(['sh', '-c', 'command -v "$1"', 'sh', tool], { timeoutMs: 20_000, signal: this.signal }).catch(() => undefined);
    const ok = !!r && r.exitCode === 0 && r.stdout.trim() !== '';
    t.env.tools[tool] = ok ? r!.stdout.trim() : 'missing';
    return ok;
  }

  /** Notes a missing tool once per target. */
  missing(t: Target, suite: Suite, tool: string): void {
    if (this.notes.some((n) => n.level === 'missing-tool' && n.target === t.name && n.message.startsWith(`missing tool ${tool} `))) return;
    this.notes.push({
      target: t.name,
      suite,
      level: 'missing-tool',
      message: `missing tool ${tool} in ${t.kind === 'host' ? 'the host' : `guest ${t.name}`}: ${installHint(tool)}`,
    });
  }

  /** Records a figure taken from a run's JSON (rawPath) or its printed text. */
  measure(t: Target, metric: MetricId, run: ToolRun, how: Measure, unit: string): void {
    const scale = how.scale ?? 1;
    const value = 'rawPath' in how ? Number((readNum(run.raw, how.rawPath) ?? NaN) * scale) : parseFloat(how.printed) * scale;
    if (!Number.isFinite(value)) throw new Error(`${run.tool} in ${t.name}: no value at ${'rawPath' in how ? how.rawPath : how.printed}`);
    this.measurements.push({ target: t.name, kind: t.kind, metric, value, unit, runId: run.id, ...how, scale });
  }

  note(t: Target, suite: Suite | undefined, level: Note['level'], message: string): void {
    this.notes.push({ target: t.name, ...(suite ? { suite } : {}), level, message });
  }

  /** Runs every cleanup (newest first); one failing does not stop the others. */
  async cleanUp(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
  }
}

function readNum(obj: unknown, p: string): number | undefined {
  let cur: any = obj;
  for (const part of p.replace(/\[(\d+)\]/g, '.$1').split('.')) cur = cur?.[part];
  return typeof cur === 'number' ? cur : undefined;
}
