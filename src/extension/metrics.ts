// Metrics: the sampler (one per extension host) and the panels' commands and serializers.
import * as vscode from 'vscode';
import { Sampler } from '../core/metrics/sampler';
import { GuestKind } from '../core/model';
import { GuestNode, GuestTreeProvider, ConnectionNode } from '../views/guestTree';
import { MetricsPanels } from '../views/metricsPanels';
import { Config } from './config';
import { Connections } from './connections';
import { reportsDir } from './trace';

export const METRICS_SHOW = 'virtscope.metrics.show';
export const METRICS_HOST = 'virtscope.metrics.hostOverview';
export const METRICS_OBSERVE = 'virtscope.metrics.observe';
export const METRICS_COMPARE = 'virtscope.metrics.compare';
/** Not in the palette: the sampler's state, for tests. */
export const METRICS_STATE = 'virtscope.metrics._state';

export interface MetricsDeps {
  context: vscode.ExtensionContext;
  config: Config;
  connections: Connections;
  tree: GuestTreeProvider;
  log: vscode.LogOutputChannel;
}

async function pickGuest(tree: GuestTreeProvider, kinds?: GuestKind[]): Promise<GuestNode | undefined> {
  const nodes = tree.allGuestNodes().filter((n) => n.guest && (!kinds || kinds.includes(n.guest.kind)));
  const pick = await vscode.window.showQuickPick(
    nodes.map((n) => ({ label: n.guest!.name, description: `${n.guest!.kind} · ${n.guest!.state}`, detail: n.conn.label, node: n })),
    { placeHolder: 'Show metrics of which guest?' },
  );
  return pick?.node;
}

async function pickConnection(connections: Connections): Promise<string | undefined> {
  const pick = await vscode.window.showQuickPick(
    connections.all.map((c) => ({ label: c.label, description: c.status.state, id: c.config.id })),
    { placeHolder: 'Host overview of which connection?' },
  );
  return pick?.id;
}

export function registerMetrics(deps: MetricsDeps): void {
  const { context, config, connections, tree, log } = deps;
  const fallbackDir = context.globalStorageUri.fsPath;
  const sampler = new Sampler({ intervalMs: config.metricsIntervalMs, connection: (id) => connections.byId(id), log });
  let panels: MetricsPanels;
  const openGuest = (connectionId: string, guestId: string) => panels.show({ view: 'guest', connectionId, guestId });
  panels = new MetricsPanels({
    extensionUri: context.extensionUri,
    sampler,
    connections: () => connections.all,
    connection: (id) => connections.byId(id),
    reportsDir: () => reportsDir(fallbackDir),
    log,
    openGuest,
  });
  context.subscriptions.push(
    { dispose: () => sampler.dispose() },
    panels,
    ...panels.serializers(),
    config.onDidChange((changed) => {
      if (changed.has('metrics.intervalSeconds')) sampler.setInterval(config.metricsIntervalMs);
    }),
    vscode.commands.registerCommand(METRICS_SHOW, async (node?: unknown) => {
      const n = node instanceof GuestNode ? node : await pickGuest(tree);
      if (n) openGuest(n.conn.config.id, n.guestId);
    }),
    vscode.commands.registerCommand(METRICS_HOST, async (node?: unknown) => {
      const id = node instanceof ConnectionNode ? node.conn.config.id : await pickConnection(connections);
      if (id) panels.show({ view: 'host', connectionId: id });
    }),
    vscode.commands.registerCommand(METRICS_OBSERVE, () => panels.show({ view: 'observe' })),
    vscode.commands.registerCommand(METRICS_COMPARE, () => panels.show({ view: 'compare' })),
    vscode.commands.registerCommand(METRICS_STATE, () => ({
      active: sampler.active,
      subscribers: sampler.subscribers,
      ticks: sampler.ticks,
      panels: panels.count,
      intervalMs: sampler.intervalMs,
      lastTickMs: sampler.lastTickMs,
    })),
  );
}
