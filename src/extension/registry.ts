// Every command, in one table: id (commandIds.ts) → handler factory over the extension's context,
// registered in one loop. The Record over CommandId makes the compiler refuse a missing or unknown id.
import * as vscode from 'vscode';
import { Verb } from '../core/model';
import { GuestTreeProvider, GuestNode, HostNode } from '../views/guestTree';
import { BenchCommandOptions, BenchDeps, compareCommand, rerunCommand, runCommand } from './bench';
import { CMD, CommandId } from './commandIds';
import { addConnection, CommandsDeps, connectionHelp, inspect, refresh, removeConnection, runVerb } from './commands';
import { AnyNode, editDefinition, EditingDeps, GuestFileSystem, newGuest } from './editing';
import { addHost, HostsDeps, reconnectHost, removeHost } from './hosts';
import { hostOverview, Metrics, metricsState, showMetrics } from './metrics';
import { cloneGuest, createVolume, deleteVolume, downloadVolume, networkVerb, poolVerb, uploadVolume } from './hostObjects';
import { editObjectDefinition, newObjectDefinition } from './objectDefinitions';
import { createSnapshot, deleteSnapshot, inspectSnapshot, revertSnapshot } from './snapshots';
import { traceCommand, TraceCommandOptions, TraceDeps } from './trace';
import { openConsole } from './console';
import { openShell } from './shell';
import { showGuestLog } from './logs';
import { openGraphicalConsole } from './graphics';
import { addLxd, evacuateMember, launchInstance, LxdDeps, moveInstance, restoreMember, toggleGrouping } from './lxd';
import { memberOverview, OverviewDocuments } from './memberOverview';

/** What the commands work with: made once in activate(). */
export type Ctx = CommandsDeps &
  BenchDeps &
  TraceDeps &
  EditingDeps &
  HostsDeps &
  LxdDeps & {
    tree: GuestTreeProvider;
    metrics: Metrics;
    editing: GuestFileSystem;
    /** The Member Overview documents (virtual, read-only). */
    overviews: OverviewDocuments;
    /** Where dist/ is (the graphical console's webview script). */
    extensionUri: vscode.Uri;
  };

// VS Code passes whatever the caller gave
type Handler = (...args: any[]) => unknown;
type CommandFactory = (ctx: Ctx) => Handler;

/** Verbs act on the clicked node or the tree's whole selection (VS Code passes both). */
const verb =
  (v: Verb): CommandFactory =>
  (ctx) =>
  (clicked?: unknown, selected?: unknown) =>
    runVerb(ctx, v, clicked, selected);

/** Only a node of the expected kind counts; anything else (a selection array, a Uri) means "ask". */
const guestNode = (n: unknown): GuestNode | undefined => ((n as AnyNode | undefined)?.kind === 'guest' ? (n as GuestNode) : undefined);
const hostNode = (n: unknown): HostNode | undefined => ((n as AnyNode | undefined)?.kind === 'host' ? (n as HostNode) : undefined);

export const COMMANDS: Record<CommandId, CommandFactory> = {
  [CMD.start]: verb('start'),
  [CMD.shutdown]: verb('shutdown'),
  [CMD.reboot]: verb('reboot'),
  [CMD.suspend]: verb('suspend'),
  [CMD.resume]: verb('resume'),
  [CMD.forceOff]: verb('forceOff'),
  [CMD.delete]: verb('delete'),
  [CMD.inspect]: (ctx) => (node?: unknown) => inspect(ctx, guestNode(node)),
  [CMD.refresh]: (ctx) => (node?: AnyNode) =>
    refresh(ctx, node?.kind === 'host' || node?.kind === 'connection' || node?.kind === 'guest' || node?.kind === 'cluster' ? node : undefined),
  [CMD.connectionAdd]: (ctx) => () => addConnection(ctx),
  [CMD.connectionRemove]: (ctx) => (node?: AnyNode) => removeConnection(ctx, node?.kind === 'connection' ? node : undefined),
  [CMD.connectionHelp]: (ctx) => (node?: AnyNode) =>
    connectionHelp(ctx, node?.kind === 'connection' || node?.kind === 'message' || node?.kind === 'cluster' ? node : undefined),
  [CMD.hostAdd]: (ctx) => () => addHost(ctx),
  [CMD.hostRemove]: (ctx) => (node?: unknown) => removeHost(ctx, hostNode(node)),
  [CMD.hostReconnect]: (ctx) => (node?: unknown) => reconnectHost(ctx, hostNode(node)),
  [CMD.showLog]: (ctx) => () => ctx.log.show(),
  [CMD.metricsShow]: (ctx) => (node?: unknown) => showMetrics(ctx.metrics, ctx.model, node),
  [CMD.metricsHost]: (ctx) => (node?: unknown) => hostOverview(ctx.metrics, ctx.model, node),
  [CMD.metricsObserve]: (ctx) => () => ctx.metrics.panels.show({ view: 'observe' }),
  [CMD.metricsCompare]: (ctx) => () => ctx.metrics.panels.show({ view: 'compare' }),
  [CMD.metricsState]: (ctx) => () => metricsState(ctx.metrics),
  [CMD.benchRun]: (ctx) => (clicked?: unknown, selected?: unknown, options?: BenchCommandOptions) => runCommand(ctx, clicked, selected, options),
  [CMD.benchCompare]: (ctx) => (a?: vscode.Uri, b?: vscode.Uri) => compareCommand(ctx, a, b),
  [CMD.benchRerun]: (ctx) => (uri?: vscode.Uri, options?: { open?: boolean }) => rerunCommand(ctx, uri, options),
  [CMD.editDefinition]: (ctx) => (node?: unknown) => editDefinition(ctx.editing, ctx, guestNode(node)),
  [CMD.newGuest]: (ctx) => (node?: AnyNode) => newGuest(ctx.editing, ctx, node),
  [CMD.traceTx]: (ctx) => (node?: GuestNode, options?: TraceCommandOptions) => traceCommand(ctx, node, options),
  [CMD.snapshotCreate]: (ctx) => (node?: unknown) => createSnapshot(ctx, node),
  [CMD.snapshotRevert]: (ctx) => (node?: unknown) => revertSnapshot(ctx, node),
  [CMD.snapshotDelete]: (ctx) => (node?: unknown) => deleteSnapshot(ctx, node),
  [CMD.snapshotInspect]: (ctx) => (node?: unknown) => inspectSnapshot(ctx, node),
  [CMD.poolStart]: (ctx) => (node?: unknown) => poolVerb(ctx, 'start', node),
  [CMD.poolStop]: (ctx) => (node?: unknown) => poolVerb(ctx, 'stop', node),
  [CMD.poolAutostart]: (ctx) => (node?: unknown) => poolVerb(ctx, 'autostart', node),
  [CMD.poolDelete]: (ctx) => (node?: unknown) => poolVerb(ctx, 'delete', node),
  [CMD.poolNew]: (ctx) => (node?: unknown) => newObjectDefinition(ctx.editing, ctx, 'pool', node),
  [CMD.poolEdit]: (ctx) => (node?: unknown) => editObjectDefinition(ctx.editing, ctx, 'pool', node),
  [CMD.volumeCreate]: (ctx) => (node?: unknown) => createVolume(ctx, node),
  [CMD.volumeDelete]: (ctx) => (node?: unknown) => deleteVolume(ctx, node),
  [CMD.volumeUpload]: (ctx) => (node?: unknown) => uploadVolume(ctx, node),
  [CMD.volumeDownload]: (ctx) => (node?: unknown) => downloadVolume(ctx, node),
  [CMD.networkStart]: (ctx) => (node?: unknown) => networkVerb(ctx, 'start', node),
  [CMD.networkStop]: (ctx) => (node?: unknown) => networkVerb(ctx, 'stop', node),
  [CMD.networkAutostart]: (ctx) => (node?: unknown) => networkVerb(ctx, 'autostart', node),
  [CMD.networkDelete]: (ctx) => (node?: unknown) => networkVerb(ctx, 'delete', node),
  [CMD.networkNew]: (ctx) => (node?: unknown) => newObjectDefinition(ctx.editing, ctx, 'network', node),
  [CMD.networkEdit]: (ctx) => (node?: unknown) => editObjectDefinition(ctx.editing, ctx, 'network', node),
  [CMD.cloneGuest]: (ctx) => (node?: unknown) => cloneGuest(ctx, node),
  [CMD.openConsole]: (ctx) => (node?: unknown) => openConsole(ctx, guestNode(node)),
  [CMD.openShell]: (ctx) => (node?: unknown) => openShell(ctx, guestNode(node)),
  [CMD.showGuestLog]: (ctx) => (node?: unknown) => showGuestLog(ctx, guestNode(node)),
  [CMD.openGraphicalConsole]: (ctx) => (node?: unknown) => openGraphicalConsole(ctx, guestNode(node)),
  [CMD.lxdAdd]: (ctx) => () => addLxd(ctx),
  [CMD.lxdToggleGrouping]: (ctx) => () => toggleGrouping(ctx),
  [CMD.lxdLaunch]: (ctx) => (node?: unknown) => launchInstance(ctx, node),
  [CMD.lxdMove]: (ctx) => (node?: unknown) => moveInstance(ctx, node),
  [CMD.lxdEvacuate]: (ctx) => (node?: unknown) => evacuateMember(ctx, node),
  [CMD.lxdRestore]: (ctx) => (node?: unknown) => restoreMember(ctx, node),
  [CMD.lxdOverview]: (ctx) => (node?: unknown) => memberOverview(ctx, ctx.overviews, node),
};

/** Registers every command of the table. */
export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return (Object.keys(COMMANDS) as CommandId[]).map((id) => vscode.commands.registerCommand(id, COMMANDS[id](ctx)));
}
