// "Trace virtio-net TX Path…": asks for duration and workload, runs the trace with cancellable
// progress, writes the report under .virtscope/reports/ and opens it.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LOCAL_HOST_ID } from '../core/hosts';
import type { GuestRef, Inventory } from '../core/inventory';
import { Guest } from '../core/model';
import type { Workload } from '../core/trace/engine';
import type * as TraceFeature from './lazy/trace';
import { Config } from './config';
import { pickGuest } from './pickers';
import { vscodeUi } from './vscodeUi';

/** Options that skip the questions (tests, keybindings with args). */
export interface TraceCommandOptions {
  durationSec?: number;
  workload?: 'iperf3' | 'external';
  hostIp?: string;
  /** Open the report (default true). */
  open?: boolean;
}

export interface TraceDeps {
  config: Config;
  model: Inventory;
  log: vscode.LogOutputChannel;
  /** Where reports go without a workspace folder. */
  fallbackDir: string;
}

/** The engine and report load on the first trace, not at activation (the build makes them dist/trace.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, by design
const feature = (): typeof TraceFeature => require('./lazy/trace');

export function reportsDir(fallback: string): string {
  const ws = vscode.workspace.workspaceFolders?.[0];
  return ws ? path.join(ws.uri.fsPath, '.virtscope', 'reports') : path.join(fallback, 'reports');
}

function pickQemuGuest(model: Inventory): Promise<GuestRef | undefined> {
  return pickGuest(vscodeUi, model, {
    title: 'Trace virtio-net TX Path',
    placeHolder: 'Pick a running QEMU guest',
    filter: (g) => g.kind === 'qemu' && g.state === 'running',
    none: 'Trace virtio-net TX path: no running QEMU guest.',
  });
}

/** `on` names a remote guest's host (" on kvm2"), empty for this machine. */
async function ask(g: Guest, netns: string | undefined, on: string): Promise<{ durationSec: number; workload: 'iperf3' | 'external' } | undefined> {
  const wl = await vscode.window.showQuickPick(
    [
      {
        label: 'iperf3 from the guest to the host',
        description: 'built-in workload',
        detail: `Runs an iperf3 server on the host address of ${g.name}'s bridge${on}${netns ? ` (network namespace ${netns})` : ''} and iperf3 -c in the guest.`,
        value: 'iperf3' as const,
      },
      {
        label: 'My own traffic',
        description: 'nothing is started',
        detail: 'Counts whatever the guest sends during the trace: start your workload yourself.',
        value: 'external' as const,
      },
    ],
    { title: `Trace virtio-net TX path of ${g.name}${on}: workload` },
  );
  if (!wl) return undefined;
  const d = await vscode.window.showInputBox({
    title: `Trace virtio-net TX path of ${g.name}${on}: duration`,
    prompt: 'Seconds to trace (the workload runs this long)',
    value: '10',
    validateInput: (v) => (/^\d+$/.test(v.trim()) && +v >= 1 && +v <= 600 ? undefined : 'A whole number of seconds, 1–600'),
  });
  if (!d) return undefined;
  return { durationSec: Number(d), workload: wl.value };
}

/** The command's handler (registry.ts): the report's path, or undefined when cancelled or failed. */
export async function traceCommand(deps: TraceDeps, node?: GuestRef, options?: TraceCommandOptions): Promise<string | undefined> {
  if (node && typeof (node as Partial<GuestRef>).guestId !== 'string') node = undefined; // a host or connection node
  if (Array.isArray(options)) options = undefined; // a multi-select tree passes the selection second
  deps.log.info(`trace: command run ${node ? `on ${node.guest?.name ?? node.guestId}` : 'without a tree node: asking for the guest'}`);
  node ??= await pickQemuGuest(deps.model);
  const g = node?.guest;
  if (!node || !g) return undefined;
  const host = deps.model.hostOf(node.conn);
  const on = host?.remote ? ` on ${host.label}` : '';
  try {
    const backend = node.conn.requireBackend();
    const { hostAddressForGuest, runTrace, traceTargetFor, writeTraceReport } = feature();
    const target = traceTargetFor(backend, g);
    // the setting names a namespace of this machine; a remote guest's QEMU is reached from its own host
    const netns = deps.model.hostOf(node.conn)?.id === LOCAL_HOST_ID ? deps.config.hostNetworkNamespace : undefined;
    const choice = options?.durationSec ? { durationSec: options.durationSec, workload: options.workload ?? 'iperf3' } : await ask(g, netns, on);
    if (!choice) return undefined;
    let workload: Workload = { kind: 'external' };
    if (choice.workload === 'iperf3') {
      let hostIp = options?.hostIp;
      if (!hostIp) {
        const a = await hostAddressForGuest(await target.domainXml(), netns, target.host);
        hostIp = a.ip;
        if (!hostIp) {
          hostIp = await vscode.window.showInputBox({
            title: `Host address for ${g.name}${on}`,
            prompt: `${a.why?.replace(/\.+$/, '')}. Which host address can the guest reach? (an iperf3 server is started there${on}${netns ? ` in network namespace ${netns}` : ''})`,
            validateInput: (v) => (/^[\d.]+$|^[0-9a-f:]+$/i.test(v.trim()) ? undefined : 'An IPv4 or IPv6 address'),
          });
          if (!hostIp) return undefined;
        }
      }
      workload = { kind: 'iperf3', hostIp: hostIp.trim() };
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tracing virtio-net TX of ${g.name}${on}`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        return runTrace(target, {
          durationSec: choice.durationSec,
          workload,
          hostNetns: netns,
          detail: deps.config.traceDetail,
          signal: ac.signal,
          progress: (m) => {
            deps.log.info(`trace ${g.name}: ${m}`);
            progress.report({ message: m });
          },
        });
      },
    );
    for (const c of result.cleanup) deps.log.info(`trace ${g.name}: ${c}`);
    for (const w of result.warnings) deps.log.warn(`trace ${g.name}: ${w}`);
    const out = await writeTraceReport(result, reportsDir(deps.fallbackDir));
    deps.log.info(`trace ${g.name}: report ${out.markdown}`);
    if (options?.open !== false) {
      const uri = vscode.Uri.file(out.markdown);
      await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, async () => {
        await vscode.window.showTextDocument(uri);
      });
    }
    return out.markdown;
  } catch (e) {
    if (e instanceof feature().TraceCancelled) {
      void vscode.window.showInformationMessage(`Trace of ${g.name}${on} cancelled; probes, trace events and the workload were stopped.`);
      return undefined;
    }
    const msg = (e as Error).message;
    deps.log.error(`trace ${g.name}: ${msg}`);
    const hint = (e as { hint?: string }).hint;
    void vscode.window.showErrorMessage(`Trace of ${g.name}${on} failed: ${msg}${hint ? ` — ${hint}` : ''}`);
    return undefined;
  }
}
