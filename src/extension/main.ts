// Activation: one LogOutputChannel, the connections from settings, the Guests tree and commands.
import * as vscode from 'vscode';
import { GuestTreeProvider, Node } from '../views/guestTree';
import { registerCommands } from './commands';
import { Config } from './config';
import { Connections } from './connections';
import { DEF_SCHEME, DefinitionProvider } from './definitions';
import { registerEditing } from './editing';
import { registerTraceCommand } from './trace';
import { registerBench } from './bench';
import { registerMetrics } from './metrics';

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
  context.subscriptions.push(
    log,
    config,
    connections,
    tree,
    view,
    view.onDidChangeVisibility((e) => connections.setVisible(e.visible)),
    connections.onDidChange(() => tree!.reset()),
    vscode.workspace.registerTextDocumentContentProvider(DEF_SCHEME, definitions),
    ...registerCommands({ connections, tree, view: view as vscode.TreeView<unknown>, log, definitions }),
    registerTraceCommand({ config, tree, log, fallbackDir: context.globalStorageUri.fsPath }),
    ...registerBench({ config, connections, tree, log, fallbackDir: context.globalStorageUri.fsPath }),
  );
  registerEditing(context, { connections, tree, log });
  registerMetrics({ context, config, connections, tree, log });
  log.info(`virtscope activated in ${Date.now() - t0} ms (${connections.all.length} connections)`);
  return { connections, tree };
}

export function deactivate(): void {}
