// Activation: one LogOutputChannel, the connections from settings, the Guests tree, the features'
// services, and every command from one table (registry.ts).
import * as vscode from 'vscode';
import { GuestTreeProvider, Node } from '../views/guestTree';
import { Config } from './config';
import { Connections } from './connections';
import { DEF_SCHEME, DefinitionProvider } from './definitions';
import { createEditing } from './editing';
import { registerBenchTasks } from './bench';
import { createMetrics } from './metrics';
import { Ctx, registerCommands } from './registry';
import { GuestLogs } from './logs';

export interface VirtscopeApi {
  /** For tests: the live connections and tree. */
  readonly connections: Connections;
  readonly tree: GuestTreeProvider;
}

export function activate(context: vscode.ExtensionContext): VirtscopeApi {
  const t0 = Date.now();
  const log = vscode.window.createOutputChannel('virtscope', { log: true });
  const config = new Config();
  let tree: GuestTreeProvider | undefined;
  const connections = new Connections(config, log, (c) => tree?.watch(c));
  tree = new GuestTreeProvider(() => connections.all);
  for (const c of connections.all) tree.watch(c);
  const view = vscode.window.createTreeView<Node>('virtscope.guests', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  connections.setVisible(view.visible);
  const definitions = new DefinitionProvider(connections);
  const fallbackDir = context.globalStorageUri.fsPath;
  context.subscriptions.push(
    log,
    config,
    connections,
    tree,
    view,
    view.onDidChangeVisibility((e) => connections.setVisible(e.visible)),
    connections.onDidChange(() => tree!.reset()),
    vscode.workspace.registerTextDocumentContentProvider(DEF_SCHEME, definitions),
  );
  const base = { config, connections, tree, log, definitions, fallbackDir };
  const logs = new GuestLogs(connections, log);
  context.subscriptions.push(logs);
  const ctx: Ctx = { ...base, editing: createEditing(context, base), metrics: createMetrics({ ...base, context }) };
  context.subscriptions.push(...registerBenchTasks(ctx), ...registerCommands(ctx));
  log.info(`virtscope activated in ${Date.now() - t0} ms (${connections.all.length} connections)`);
  return { connections, tree };
}

export function deactivate(): void {}
