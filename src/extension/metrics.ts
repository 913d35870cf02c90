// Metrics: the sampler (one per extension host), the panels' serializers and the commands' handlers.
import * as vscode from 'vscode';
import { Sampler } from '../core/metrics/sampler';
import type { Inventory } from '../core/inventory';
import type { ConnectionNode, GuestNode } from '../views/guestTree';
import { MetricsPanels } from '../views/metricsPanels';
import { Config } from './config';
import { Connections } from './connections';
import { pickConnection, pickGuest } from './pickers';
import { reportsDir } from './trace';
import { vscodeUi } from './vscodeUi';

export interface MetricsDeps {
  context: vscode.ExtensionContext;
  config: Config;
  connections: Connections;
  log: vscode.LogOutputChannel;
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
  // the panels open other panels (a guest from the host overview): the callback reads `panels` later
  // eslint-disable-next-line prefer-const
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

export async function showMetrics(m: Metrics, model: Inventory, node?: unknown): Promise<void> {
  const n = (node as GuestNode | undefined)?.kind === 'guest' ? (node as GuestNode) : await pickGuest(vscodeUi, model, { title: 'Show Metrics', placeHolder: 'Show metrics of which guest?' });
  if (n) m.openGuest(n.conn.config.id, n.guestId);
}

export async function hostOverview(m: Metrics, model: Inventory, node?: unknown): Promise<void> {
  const conn =
    (node as ConnectionNode | undefined)?.kind === 'connection'
      ? (node as ConnectionNode).conn
      : await pickConnection(vscodeUi, model, { title: 'Host Overview', placeHolder: 'Host overview of which connection?' });
  if (conn) m.panels.show({ view: 'host', connectionId: conn.config.id });
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
