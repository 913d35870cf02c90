// Benchmarks in VS Code: "Run Benchmark…" (guest, several selected guests, a connection, or the host),
// "Compare Benchmark Reports…", "Re-run Benchmark…", and the `virtscope` task type (tasks.json).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ResolvedTarget } from '../core/bench/engine';
import { readReport, renderComparison, writeReport } from '../core/bench/report';
import type { TargetSpec } from '../core/bench/resolve';
import { ALL_SUITES, BenchOptions, BenchReport, BenchSpec, DEFAULT_OPTIONS, Suite } from '../core/bench/types';
import { LOCAL_HOST_ID } from '../core/hosts';
import type { GuestRef, Inventory } from '../core/inventory';
import type { ConnectionNode, GuestNode } from '../views/guestTree';
import { Connections } from './connections';
import { Config } from './config';
import type * as BenchFeature from './lazy/bench';
import { pickGuests as pickFromModel } from './pickers';
import { reportsDir } from './trace';
import { vscodeUi } from './vscodeUi';

/** The engine loads on the first benchmark, not at activation (the build makes it dist/bench.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, by design
const feature = (): typeof BenchFeature => require('./lazy/bench');

export const TASK_TYPE = 'virtscope';

export interface BenchDeps {
  config: Config;
  connections: Connections;
  model: Inventory;
  log: vscode.LogOutputChannel;
  /** Where reports go without a workspace folder. */
  fallbackDir: string;
}

/** Options that skip the questions (tests, keybindings, tasks). */
export interface BenchCommandOptions {
  suites?: Suite[];
  /** Seconds per test (network direction, fio job, sysbench run). */
  seconds?: number;
  includeHost?: boolean;
  /** Open the Markdown report (default true). */
  open?: boolean;
}

export interface BenchTaskDefinition extends vscode.TaskDefinition {
  type: 'virtscope';
  /** Guest names, or "connectionId/name". Empty: host only. */
  guests?: string[];
  suites?: Suite[];
  seconds?: number;
  includeHost?: boolean;
}

/** Runs in progress: aborted (their processes killed, files removed) when the extension is deactivated. */
const active = new Set<AbortController>();

const SUITE_LABEL: Record<Suite, string> = {
  network: 'Network — iperf3 throughput both directions, sockperf/ping round trip',
  disk: 'Disk — fio 4k random read/write QD1 and QD32, 1 MiB sequential',
  cpu: 'CPU — sysbench cpu',
  memory: 'Memory — sysbench memory',
};

/** Every connection, with the remote host it is on (none: this machine). */
function backendsOf(connections: Connections) {
  return connections.all.map((c) => {
    const h = connections.model.hostOf(c);
    return { id: c.config.id, label: c.label, backend: async () => c.requireBackend(), host: h && h.id !== LOCAL_HOST_ID ? h.host : undefined };
  });
}

/** `virtscope.hostNetworkNamespace` names a namespace of this machine: a remote host's guests are reached from its own. */
function forTheirHost(options: BenchOptions, targets: readonly ResolvedTarget[]): BenchOptions {
  return targets.some((t) => t.host) ? { ...options, hostNetworkNamespace: undefined } : options;
}

/** Options from settings, plus per-call overrides. */
function optionsFrom(config: Config, o: BenchCommandOptions = {}): BenchOptions {
  const c = config.benchmark;
  const seconds = o.seconds ?? c.seconds;
  return {
    ...DEFAULT_OPTIONS,
    netSeconds: seconds,
    latencySeconds: Math.max(1, Math.min(seconds, 5)),
    diskSeconds: seconds,
    cpuSeconds: seconds,
    diskSizeMiB: c.diskSizeMiB,
    hostNetworkNamespace: config.hostNetworkNamespace,
    includeHost: o.includeHost ?? true,
  };
}

/** Per-guest disk paths from settings (`virtscope.benchmark.diskPaths`: { "labvm": "/dev/vda" }). */
function withDiskPaths(config: Config, specs: TargetSpec[]): TargetSpec[] {
  const { diskPaths: paths, allowRawDeviceWrites: raw } = config.benchmark;
  return specs.map((s) => {
    const o =
      typeof s === 'string'
        ? { guestName: s.includes('/') ? s.slice(s.indexOf('/') + 1) : s, connectionId: s.includes('/') ? s.slice(0, s.indexOf('/')) : undefined }
        : s;
    const p = paths[o.guestName];
    return p ? { ...o, diskPath: p, rawDeviceWrites: raw } : o;
  });
}

/** Runs a benchmark with a cancellable notification; writes and (optionally) opens the report. */
async function runWithProgress(deps: BenchDeps, spec: BenchSpec, targets: ResolvedTarget[], open: boolean): Promise<string | undefined> {
  const names = ['host', ...targets.map((t) => t.guest.name)].filter((n) => n !== 'host' || spec.options.includeHost);
  try {
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Benchmark ${names.join(', ')}`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        active.add(ac);
        token.onCancellationRequested(() => ac.abort());
        let last = 0;
        return feature()
          .runBenchmark(spec, targets, {
            signal: ac.signal,
            progress: (step, done, total) => {
              deps.log.info(`benchmark: ${step}`);
              const pct = (done / total) * 100;
              progress.report({ message: `${step} (${done + 1}/${total})`, increment: pct - last });
              last = pct;
            },
          })
          .finally(() => active.delete(ac));
      },
    );
    return await saveAndOpen(deps, report, open);
  } catch (e) {
    if (e instanceof feature().BenchCancelled) {
      deps.log.info(`benchmark cancelled: ${e.message}`);
      void vscode.window.showInformationMessage(e.message);
      return undefined;
    }
    const msg = (e as Error).message;
    deps.log.error(`benchmark failed: ${msg}`);
    void vscode.window.showErrorMessage(`Benchmark failed: ${msg}`);
    return undefined;
  }
}

async function saveAndOpen(deps: BenchDeps, report: BenchReport, open: boolean): Promise<string> {
  const dir = reportsDir(deps.fallbackDir);
  const out = await writeReport(report, dir);
  deps.log.info(`benchmark report: ${out.md} (raw data ${out.json})`);
  for (const n of report.notes) deps.log.info(`benchmark ${n.level}: ${n.message}`);
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showInformationMessage(`No folder is open: the benchmark report was saved in ${dir}.`);
  }
  if (open) await vscode.window.showTextDocument(vscode.Uri.file(out.md), { preview: false });
  return out.md;
}

async function askSuites(title: string): Promise<Suite[] | undefined> {
  const picks = await vscode.window.showQuickPick(
    ALL_SUITES.map((s) => ({ label: s, description: SUITE_LABEL[s], picked: true, suite: s })),
    { title, canPickMany: true, placeHolder: 'Suites to run (the host baseline runs the same)' },
  );
  return picks?.length ? picks.map((p) => p.suite) : undefined;
}

async function pickGuests(deps: BenchDeps): Promise<GuestRef[] | undefined> {
  return pickFromModel(vscodeUi, deps.model, {
    title: 'Run Benchmark: guests',
    placeHolder: 'Pick running guests (none: the host only)',
    filter: (g) => g.state === 'running',
    none: 'Run Benchmark: no guest is running.',
  });
}

export async function runCommand(deps: BenchDeps, clicked?: unknown, selected?: unknown, options?: BenchCommandOptions): Promise<string | undefined> {
  // tree: (clicked, selection[]); palette: nothing; tests: (node, [nodes], options)
  const fromTree = (Array.isArray(selected) && selected.length ? selected : clicked ? [clicked] : []) as Array<GuestNode | ConnectionNode>;
  let nodes: GuestRef[] = [];
  for (const n of fromTree) {
    if (n?.kind === 'guest') nodes.push(n);
    else if (n?.kind === 'connection') nodes.push(...deps.model.guests((g, c) => c === n.conn && g.state === 'running'));
  }
  if (!fromTree.length) {
    const p = await pickGuests(deps);
    if (!p) return undefined;
    nodes = p;
  }
  const notRunning = nodes.filter((n) => n.guest?.state !== 'running');
  if (notRunning.length) {
    void vscode.window.showWarningMessage(`Not running, skipped: ${notRunning.map((n) => n.guest?.name ?? n.guestId).join(', ')}`);
    nodes = nodes.filter((n) => n.guest?.state === 'running');
  }
  const suites = options?.suites ?? (await askSuites(`Run Benchmark on ${['host', ...nodes.map((n) => n.guest!.name)].join(', ')}`));
  if (!suites) return undefined;
  const specs = withDiskPaths(
    deps.config,
    nodes.map((n) => ({ connectionId: n.conn.config.id, guestId: n.guest!.id, guestName: n.guest!.name })),
  );
  let targets: ResolvedTarget[];
  try {
    targets = await feature().resolveTargets(specs, backendsOf(deps.connections));
  } catch (e) {
    void vscode.window.showErrorMessage((e as Error).message);
    return undefined;
  }
  const spec: BenchSpec = { suites, guests: targets.map((t) => t.ref), options: forTheirHost(optionsFrom(deps.config, options), targets) };
  return runWithProgress(deps, spec, targets, options?.open !== false);
}

async function pickReportFiles(title: string, many: boolean): Promise<vscode.Uri[] | undefined> {
  const ws = vscode.workspace.workspaceFolders?.[0];
  return vscode.window.showOpenDialog({
    title,
    canSelectMany: many,
    filters: { 'virtscope benchmark report': ['json'] },
    defaultUri: ws ? vscode.Uri.joinPath(ws.uri, '.virtscope', 'reports') : undefined,
  });
}

/** A report's JSON from a .json or its .md (the JSON lies beside it). */
function jsonOf(u: vscode.Uri): string {
  return u.fsPath.replace(/\.md$/, '.json');
}

export async function compareCommand(deps: BenchDeps, a?: vscode.Uri, b?: vscode.Uri): Promise<vscode.TextDocument | undefined> {
  let files = a && b ? [a, b] : undefined;
  if (!files) {
    files = await pickReportFiles('Compare Benchmark Reports: pick two reports (.json)', true);
    if (!files) return undefined;
    if (files.length !== 2) {
      void vscode.window.showWarningMessage('Pick exactly two benchmark reports (.json).');
      return undefined;
    }
  }
  try {
    const [ra, rb] = await Promise.all(files.map((f) => readReport(jsonOf(f))));
    const [na, nb] = files.map((f) => path.basename(f.fsPath).replace(/\.(json|md)$/, ''));
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: renderComparison(ra, rb, na, nb) });
    await vscode.window.showTextDocument(doc, { preview: false });
    return doc;
  } catch (e) {
    void vscode.window.showErrorMessage(`Compare reports: ${(e as Error).message}`);
    deps.log.error(`compare reports: ${(e as Error).message}`);
    return undefined;
  }
}

export async function rerunCommand(deps: BenchDeps, uri?: vscode.Uri, options?: { open?: boolean }): Promise<string | undefined> {
  let u = uri instanceof vscode.Uri ? uri : undefined;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (!u && active && /\.virtscope[/\\]reports[/\\].*\.(md|json)$/.test(active.fsPath)) u = active;
  if (!u) u = (await pickReportFiles('Re-run Benchmark: pick a report (.json)', false))?.[0];
  if (!u) return undefined;
  let old: BenchReport;
  let targets: ResolvedTarget[];
  try {
    old = await readReport(jsonOf(u));
    targets = await feature().resolveTargets(old.spec.guests, backendsOf(deps.connections));
  } catch (e) {
    void vscode.window.showErrorMessage(`Re-run benchmark: ${(e as Error).message}`);
    return undefined;
  }
  const spec: BenchSpec = {
    ...old.spec,
    guests: targets.map((t) => t.ref),
    options: forTheirHost({ ...old.spec.options, hostNetworkNamespace: deps.config.hostNetworkNamespace ?? old.spec.options.hostNetworkNamespace }, targets),
  };
  return runWithProgress(deps, spec, targets, options?.open !== false);
}

/** tasks.json: { "type": "virtscope", "guests": ["labvm"], "suites": ["network", "disk"] } */
class BenchTerminal implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly done = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.done.event;
  private readonly ac = new AbortController();

  constructor(
    private readonly def: BenchTaskDefinition,
    private readonly deps: BenchDeps,
  ) {}

  private line(s: string): void {
    this.write.fire(s.replace(/\r?\n/g, '\r\n') + '\r\n');
  }

  open(): void {
    active.add(this.ac);
    void this.run()
      .then((code) => this.done.fire(code))
      .finally(() => active.delete(this.ac));
  }

  close(): void {
    this.ac.abort();
  }

  private async run(): Promise<number> {
    const suites = (this.def.suites?.length ? this.def.suites : [...ALL_SUITES]).filter((s): s is Suite => ALL_SUITES.includes(s));
    try {
      const targets = await feature().resolveTargets(withDiskPaths(this.deps.config, this.def.guests ?? []), backendsOf(this.deps.connections));
      const spec: BenchSpec = {
        suites,
        guests: targets.map((t) => t.ref),
        options: forTheirHost(optionsFrom(this.deps.config, { seconds: this.def.seconds, includeHost: this.def.includeHost }), targets),
      };
      this.line(`virtscope benchmark: ${suites.join(', ')} on ${['host', ...targets.map((t) => t.guest.name)].join(', ')}`);
      const report = await feature().runBenchmark(spec, targets, { signal: this.ac.signal, progress: (step, i, n) => this.line(`[${i + 1}/${n}] ${step}`) });
      for (const n of report.notes) this.line(`${n.level}: ${n.message}`);
      const md = await saveAndOpen(this.deps, report, true);
      this.line(`report: ${md}`);
      this.line(`raw data: ${md.replace(/\.md$/, '.json')}`);
      return 0;
    } catch (e) {
      this.line(e instanceof feature().BenchCancelled ? e.message : `error: ${(e as Error).message}`);
      return 1;
    }
  }
}

function benchTask(def: BenchTaskDefinition, scope: vscode.TaskScope | vscode.WorkspaceFolder, name: string, deps: BenchDeps): vscode.Task {
  return new vscode.Task(def, scope, name, TASK_TYPE, new vscode.CustomExecution(async (resolved) => new BenchTerminal(resolved as BenchTaskDefinition, deps)));
}

/** The task provider, and aborting runs in progress on deactivation (the commands: registry.ts). */
export function registerBenchTasks(deps: BenchDeps): vscode.Disposable[] {
  return [
    { dispose: () => active.forEach((ac) => ac.abort()) },
    vscode.tasks.registerTaskProvider(TASK_TYPE, {
      provideTasks: () => [
        benchTask({ type: TASK_TYPE, guests: [], suites: [...ALL_SUITES] }, vscode.TaskScope.Workspace, 'benchmark the host (all suites)', deps),
      ],
      resolveTask: (task) => {
        const def = task.definition as BenchTaskDefinition;
        if (def.type !== TASK_TYPE) return undefined;
        return benchTask(def, task.scope ?? vscode.TaskScope.Workspace, task.name, deps);
      },
    }),
  ];
}
