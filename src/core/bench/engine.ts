// The benchmark engine: runs the same tools on the host (baseline) and inside each guest, parses their
// JSON, and records every invocation. No vscode import. Every process it starts (host or guest) and
// every file it creates is tracked; cancel or failure stops/removes them in a finally block. The
// suites are in suites.ts, the run's shared state in run.ts.
import { randomBytes } from 'node:crypto';
import { capabilitiesOf } from '../capabilities';
import { BackendError } from '../model';
import { GuestExecutor, hostExecutorOn } from '../guest/exec';
import { Host } from '../host/host';
import { localHost } from '../host/local';
import { hostBasics } from '../host/facts';
import { BenchCancelled, ResolvedTarget, RunContext, Target } from './run';
import { diskSuite, guestEnvironment, networkSuite, sysbenchSuite } from './suites';
import { BenchOptions, BenchReport, BenchSpec, DEFAULT_OPTIONS, Suite, TargetEnv } from './types';

export { BenchCancelled, installHint } from './run';
export type { ResolvedTarget } from './run';
export { fioArgv } from './suites';

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

const TOOL_OF_SUITE: Record<Suite, string[]> = { network: ['iperf3', 'sockperf'], disk: ['fio'], cpu: ['sysbench'], memory: ['sysbench'] };

/** The guest's executor, asked of its backend. */
function guestExecutor(t: ResolvedTarget): GuestExecutor {
  const exec = capabilitiesOf(t.backend, t.guest).exec;
  if (!exec) throw new BackendError(`cannot run programs inside "${t.guest.name}" through connection "${t.backend.config.id}"`);
  return exec;
}

function guestTargets(resolved: readonly ResolvedTarget[], hooks: RunHooks, wrap: (target: string, e: GuestExecutor) => GuestExecutor): Target[] {
  return resolved.map((r) => ({
    name: r.guest.name,
    kind: r.guest.kind,
    exec: wrap(r.guest.name, (hooks.executor ?? guestExecutor)(r)),
    ref: r.ref,
    resolved: r,
    env: { target: r.guest.name, kind: r.guest.kind, connection: r.ref.connectionLabel ?? r.ref.connectionId, virtualization: '?', tools: {}, warnings: [] },
  }));
}

interface Step {
  label: string;
  fn: () => Promise<void>;
}

/** Per target: its environment, then each suite; a suite that fails is noted and the run goes on. */
function plan(ctx: RunContext, targets: readonly Target[], suites: readonly Suite[]): Step[] {
  const steps: Step[] = [];
  for (const t of targets) {
    steps.push({
      label: `${t.name}: environment`,
      fn: async () => {
        if (t.kind !== 'host') await guestEnvironment(ctx, t);
        for (const w of t.env.warnings) ctx.note(t, undefined, 'warning', w);
      },
    });
    for (const suite of suites) steps.push({ label: `${t.name}: ${suite}`, fn: () => runSuite(ctx, t, suite) });
  }
  return steps;
}

async function runSuite(ctx: RunContext, t: Target, suite: Suite): Promise<void> {
  try {
    if (suite === 'network') await networkSuite(ctx, t);
    else if (suite === 'disk') await diskSuite(ctx, t);
    else await sysbenchSuite(ctx, t, suite);
  } catch (e) {
    if (e instanceof BenchCancelled) throw e;
    ctx.note(t, suite, 'error', `${suite} failed in ${t.name}: ${(e as Error).message}`);
  }
}

async function runSteps(ctx: RunContext, steps: readonly Step[], progress: RunHooks['progress']): Promise<void> {
  try {
    for (let i = 0; i < steps.length; i++) {
      ctx.checkCancel();
      progress?.(steps[i].label, i, steps.length);
      await steps[i].fn();
    }
    ctx.checkCancel();
  } finally {
    await ctx.cleanUp();
  }
}

/** Tool versions for the environment section (tools that were found). */
async function toolVersions(targets: readonly Target[], suites: readonly Suite[]): Promise<void> {
  for (const t of targets) {
    for (const tool of new Set(suites.flatMap((s) => TOOL_OF_SUITE[s]))) {
      if (!t.env.tools[tool] || t.env.tools[tool] === 'missing') continue;
      const r = await t.exec.exec([tool, '--version'], { timeoutMs: 10_000 }).catch(() => undefined);
      const v = (r?.stdout || r?.stderr || '')
        .replace(/\x1b\[[0-9;]*m/g, '')
        .split('\n')
        .find((l) => l.trim());
      if (v) t.env.tools[tool] = v.replace(/^sockperf: /, '').trim();
    }
  }
}

export async function runBenchmark(spec: BenchSpec, resolved: ResolvedTarget[], hooks: RunHooks = {}): Promise<BenchReport> {
  const opts: BenchOptions = { ...DEFAULT_OPTIONS, ...spec.options };
  const runTag = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const wrap = hooks.wrap ?? ((_: string, e: GuestExecutor) => e);
  const machine = hooks.host ?? machineOf(resolved);
  const hostEnv = await hostEnvironment(machine);
  const host: Target = { name: 'host', kind: 'host', exec: wrap('host', hostExecutorOn(machine)), env: hostEnv.env };
  const targets: Target[] = [...(opts.includeHost ? [host] : []), ...guestTargets(resolved, hooks, wrap)];
  const ctx = new RunContext(opts, runTag, machine, host, hooks.signal);
  await runSteps(ctx, plan(ctx, targets, spec.suites), hooks.progress);
  await toolVersions(targets, spec.suites);
  const names = resolved.map((r) => r.guest.name);
  return {
    format: 'virtscope-bench/1',
    id: runTag,
    title: `${spec.suites.join(', ')} on ${[opts.includeHost ? 'host' : '', ...names].filter(Boolean).join(', ')}${machine === localHost ? '' : ` (${machine.label})`}`,
    startedAt,
    finishedAt: new Date().toISOString(),
    spec: { ...spec, options: opts },
    environment: {
      host: { ...host.env, memoryBytes: hostEnv.memoryBytes, machine: machine.label, hostname: hostEnv.hostname },
      targets: targets.filter((t) => t.kind !== 'host').map((t) => t.env),
    },
    measurements: ctx.measurements,
    runs: ctx.runs,
    notes: ctx.notes,
  };
}

/** The one machine the guests run on: a run measures one host's guests against that host's baseline. */
export function machineOf(resolved: readonly ResolvedTarget[]): Host {
  const hosts = [...new Set(resolved.map((r) => r.host ?? localHost))];
  if (hosts.length > 1) {
    const on = hosts.map(
      (h) =>
        `${resolved
          .filter((r) => (r.host ?? localHost) === h)
          .map((r) => r.guest.name)
          .join(', ')} on ${h.label}`,
    );
    throw new Error(
      `Cannot benchmark guests of different hosts in one run (${on.join('; ')}): each host's guests are measured against that host's own baseline; run one benchmark per host`,
    );
  }
  return hosts[0] ?? localHost;
}

async function hostEnvironment(host: Host): Promise<{ env: TargetEnv; memoryBytes: number; hostname?: string }> {
  const b = await hostBasics(host);
  const flags = /^flags\s*:\s*(.*)$/m.exec(b.cpuinfo)?.[1]?.split(/\s+/) ?? [];
  const hw = flags.includes('vmx') ? 'vmx (Intel VT-x)' : flags.includes('svm') ? 'svm (AMD-V)' : 'none';
  const kvm = await host.exists('/dev/kvm');
  const warnings: string[] = [];
  if (hw === 'none')
    warnings.push(
      `host: the CPU exposes no vmx/svm${kvm ? ' (/dev/kvm exists but cannot run ordinary guests with hardware virtualization)' : ''}: QEMU guests here run under TCG emulation`,
    );
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
  const hostname = (await host.readFile('/proc/sys/kernel/hostname').catch(() => '')).trim() || undefined;
  return { env, memoryBytes: b.memBytes, hostname };
}
