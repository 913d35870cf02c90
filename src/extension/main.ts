// Activation: one LogOutputChannel, the connections from settings, the Guests tree, the features'
// services, and every command from one table (registry.ts).
import * as vscode from 'vscode';
import { GuestTreeProvider, Node } from '../views/guestTree';
import { Config } from './config';
import { Inventory } from '../core/inventory';
import { Connections } from './connections';
import { vscodeAskpass } from './hosts';
import { DEF_SCHEME, DefinitionProvider } from './definitions';
import { createEditing } from './editing';
import { registerBenchTasks } from './bench';
import { createMetrics } from './metrics';
import { OverviewDocuments } from './memberOverview';
import { Ctx, registerCommands } from './registry';
import { GuestLogs } from './logs';
import { closeAllSessions } from './terminal';
import { LxdSecrets } from './lxd';

export interface VirtscopeApi {
  /** For tests: the model (hosts → connections → guests), the connections by id, and the tree. */
  readonly model: Inventory;
  readonly connections: Connections;
  readonly tree: GuestTreeProvider;
}

export function activate(context: vscode.ExtensionContext): VirtscopeApi {
  const t0 = Date.now();
  const log = vscode.window.createOutputChannel('virtscope', { log: true });
  const config = new Config();
  // the model first, then the tree that renders it, then the view that shows it (and opens the model)
  const lxdSecrets = new LxdSecrets(context.secrets);
  const connections = new Connections(config, log, vscodeAskpass(log), (cfg) => lxdSecrets.get(cfg));
  const model = connections.model;
  const tree = new GuestTreeProvider(model);
  const view = vscode.window.createTreeView<Node>('virtscope.guests', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  model.setVisible(view.visible);
  const definitions = new DefinitionProvider(connections);
  const fallbackDir = context.globalStorageUri.fsPath;
  context.subscriptions.push(
    log,
    config,
    connections,
    tree,
    view,
    view.onDidChangeVisibility((e) => model.setVisible(e.visible)),
    vscode.workspace.registerTextDocumentContentProvider(DEF_SCHEME, definitions),
  );
  const base = { config, connections, model, tree, log, definitions, fallbackDir, lxdSecrets };
  const logs = new GuestLogs(connections, log);
  context.subscriptions.push(logs);
  const overviews = new OverviewDocuments();
  context.subscriptions.push(overviews.register());
  const ctx: Ctx = {
    ...base,
    extensionUri: context.extensionUri,
    editing: createEditing(context, base),
    metrics: createMetrics({ ...base, context }),
    overviews,
  };
  context.subscriptions.push(...registerBenchTasks(ctx), ...registerCommands(ctx));
  log.info(`virtscope activated in ${Date.now() - t0} ms (${model.hosts.length} hosts, ${model.connections.length} connections)`);
  return { model, connections, tree };
}

/** Ends open consoles and shells: a shell in a container would outlive the window otherwise. */
export function deactivate(): Promise<void> {
  return closeAllSessions();
}
