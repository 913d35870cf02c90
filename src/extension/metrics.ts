// Metrics: the sampler (one per extension host), the panels' serializers and the commands' handlers.
import * as vscode from 'vscode';
import { Sampler } from '../core/metrics/sampler';
import { GuestKind } from '../core/model';
import { GuestNode, GuestTreeProvider, ConnectionNode } from '../views/guestTree';
import { MetricsPanels } from '../views/metricsPanels';
import { Config } from './config';
import { Connections } from './connections';
import { reportsDir } from './trace';

export interface MetricsDeps {
  context: vscode.ExtensionContext;
  config: Config;
  connections: Connections;
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

/** The sampler and the panels, made once at activation. */
export interface Metrics {
  sampler: Sampler;
  panels: MetricsPanels;
  openGuest: (connectionId: string, guestId: string) => void;
}

/** Makes the sampler and panels and registers the panels' serializers (the commands: registry.ts). */
export function createMetrics(deps: MetricsDeps): Metrics {
  const { context, config, connections, log } = deps;
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
  );
  return { sampler, panels, openGuest };
}

export async function showMetrics(m: Metrics, tree: GuestTreeProvider, node?: unknown): Promise<void> {
  const n = node instanceof GuestNode ? node : await pickGuest(tree);
  if (n) m.openGuest(n.conn.config.id, n.guestId);
}

export async function hostOverview(m: Metrics, connections: Connections, node?: unknown): Promise<void> {
  const id = node instanceof ConnectionNode ? node.conn.config.id : await pickConnection(connections);
  if (id) m.panels.show({ view: 'host', connectionId: id });
}

/** The sampler's state, for tests. */
export function metricsState(m: Metrics) {
  const { sampler, panels } = m;
  return {
    active: sampler.active,
    subscribers: sampler.subscribers,
    ticks: sampler.ticks,
    panels: panels.count,
    intervalMs: sampler.intervalMs,
    lastTickMs: sampler.lastTickMs,
  };
}
