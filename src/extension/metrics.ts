// Metrics: the sampler (one per extension host), the panels' serializers and the commands' handlers.
import * as vscode from 'vscode';
import { Sampler } from '../core/metrics/sampler';
import type { Inventory } from '../core/inventory';
import type { ConnectionNode, GuestNode } from '../views/guestTree';
import type { MetricsPanels } from '../views/metricsPanels';
import { Config } from './config';
import { Connections } from './connections';
import type * as MetricsFeature from './lazy/metrics';
import { pickConnection, pickGuest } from './pickers';
import { reportsDir } from './trace';
import { vscodeUi } from './vscodeUi';

/** The panels and the comparison they draw load with the first panel, not at activation (the build makes them dist/metrics.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, by design
const feature = (): typeof MetricsFeature => require('./lazy/metrics');

/** The panels' view types: the activation events VS Code restores them by (package.json). */
const panelViews = (context: vscode.ExtensionContext): string[] =>
  ((context.extension.packageJSON.activationEvents ?? []) as string[])
    .filter((e) => e.startsWith('onWebviewPanel:'))
    .map((e) => e.slice('onWebviewPanel:'.length));

export interface MetricsDeps {
  context: vscode.ExtensionContext;
  config: Config;
  connections: Connections;
  log: vscode.LogOutputChannel;
}

/** The sampler, made at activation, and the panels, made when first used. */
export interface Metrics {
  sampler: Sampler;
  readonly panels: MetricsPanels;
  openGuest: (connectionId: string, guestId: string) => void;
}

/** Makes the sampler and registers the panels' serializers (the commands: registry.ts); the panels come on first use. */
export function createMetrics(deps: MetricsDeps): Metrics {
  const { context, config, connections, log } = deps;
  const fallbackDir = context.globalStorageUri.fsPath;
  const sampler = new Sampler({ intervalMs: config.metricsIntervalMs, connection: (id) => connections.byId(id), log });
  let made: MetricsPanels | undefined;
  // the panels open other panels (a guest from the host overview) through openGuest
  const panels = (): MetricsPanels =>
    (made ??= new (feature().MetricsPanels)({
      extensionUri: context.extensionUri,
      sampler,
      connections: () => connections.all,
      connection: (id) => connections.byId(id),
      reportsDir: () => reportsDir(fallbackDir),
      log,
      openGuest,
    }));
  const openGuest = (connectionId: string, guestId: string) => panels().show({ view: 'guest', connectionId, guestId });
  context.subscriptions.push(
    { dispose: () => sampler.dispose() },
    { dispose: () => made?.dispose() },
    ...panelViews(context).map((viewType) =>
      vscode.window.registerWebviewPanelSerializer(viewType, { deserializeWebviewPanel: async (panel, raw) => panels().restore(panel, raw) }),
    ),
    config.onDidChange((changed) => {
      if (changed.has('metrics.intervalSeconds')) sampler.setInterval(config.metricsIntervalMs);
    }),
  );
  return {
    sampler,
    get panels() {
      return panels();
    },
    openGuest,
  };
}

export async function showMetrics(m: Metrics, model: Inventory, node?: unknown): Promise<void> {
  const n =
    (node as GuestNode | undefined)?.kind === 'guest'
      ? (node as GuestNode)
      : await pickGuest(vscodeUi, model, { title: 'Show Metrics', placeHolder: 'Show metrics of which guest?' });
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
