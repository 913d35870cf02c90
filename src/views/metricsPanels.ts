// Metrics webview panels: guest (host view and guest view side by side), host overview, observability
// and the container-vs-KVM comparison. Each panel subscribes to the sampler only while visible,
// validates every message from its webview, and is restored after a window reload by its serializer.
import * as vscode from 'vscode';
import { Connection } from '../core/connection';
import { webviewNonce } from '../core/nonce';
import { Guest } from '../core/model';
import { Sampler } from '../core/metrics/sampler';
import { COLLECTED_FROM } from '../core/metrics/collect';
import { comparePair, PairObserver, pickPair } from '../core/metrics/pairs';
import { HOST_KEYS, GUEST_KEYS, Ring } from '../core/metrics/series';
import { PanelState, Sample, ToWebview, validMessage, validState, WebviewMsg } from '../protocol/metrics';
import { CMD } from '../extension/commandIds';

export { validMessage, validState };

export const VIEW_GUEST = 'virtscope.metrics.guest';
export const VIEW_HOST = 'virtscope.metrics.host';
export const VIEW_OBSERVE = 'virtscope.metrics.observe';
export const VIEW_COMPARE = 'virtscope.metrics.compare';
export const ALL_VIEWS = [VIEW_GUEST, VIEW_HOST, VIEW_OBSERVE, VIEW_COMPARE] as const;

export interface PanelDeps {
  extensionUri: vscode.Uri;
  sampler: Sampler;
  connections: () => readonly Connection[];
  connection: (id: string) => Connection | undefined;
  reportsDir: () => string;
  log: vscode.LogOutputChannel;
  openGuest: (connectionId: string, guestId: string) => void;
}

export function html(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const n = webviewNonce();
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const cssUri = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css'));
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource}; script-src 'nonce-${n}'; font-src ${webview.cspSource};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${cssUri}">
<title>${esc(title)}</title></head>
<body><div id="app"><p>Loading…</p></div><script nonce="${n}" src="${js}"></script></body></html>`;
}

abstract class MetricsPanel {
  protected release: (() => void) | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private ready = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly deps: PanelDeps,
    protected state: PanelState,
  ) {
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'dist')] };
    panel.webview.html = html(panel.webview, deps.extensionUri, panel.title);
    const onTick = () => {
      if (this.ready && this.panel.visible) void this.update().catch((e) => deps.log.debug(`metrics panel: ${(e as Error).message}`));
    };
    deps.sampler.on('tick', onTick);
    this.subs.push(
      { dispose: () => deps.sampler.off('tick', onTick) },
      panel.onDidChangeViewState(() => this.syncSubscription()),
      panel.webview.onDidReceiveMessage((raw) => {
        const m = validMessage(raw);
        if (!m) {
          deps.log.warn(`metrics panel: dropped an invalid message from the webview`);
          return;
        }
        void this.onMessage(m).catch((e) => deps.log.error(`metrics panel: ${(e as Error).message}`));
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** Subscribed exactly while the panel is visible. */
  protected syncSubscription(): void {
    if (this.panel.visible && this.ready) {
      if (!this.release) this.release = this.deps.sampler.subscribe(this.subscription());
    } else if (this.release) {
      this.release();
      this.release = undefined;
    }
  }

  protected abstract subscription(): { connectionId?: string; guestSide?: string };
  protected abstract init(): Promise<void>;
  protected abstract update(): Promise<void>;

  protected post(m: ToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  protected async onMessage(m: WebviewMsg): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      await this.init();
      this.syncSubscription();
      await this.update();
    } else if (m.type === 'bench') {
      await vscode.commands.executeCommand(CMD.benchRun);
    }
  }

  dispose(): void {
    this.release?.();
    this.release = undefined;
    for (const d of this.subs.splice(0)) d.dispose();
  }
}

// ---- guest --------------------------------------------------------------------------------------

class GuestPanel extends MetricsPanel {
  private lastHostT = 0;
  private lastGuestT = 0;

  private get conn(): Connection | undefined {
    return this.deps.connection(this.state.connectionId!);
  }
  private get guest(): Guest | undefined {
    return this.conn?.guest(this.state.guestId!);
  }

  protected subscription() {
    return { connectionId: this.state.connectionId, guestSide: this.state.guestId };
  }

  protected async init(): Promise<void> {
    const g = this.guest;
    this.post({
      type: 'init',
      view: 'guest',
      state: this.state,
      title: g ? `${g.name} — metrics` : 'Guest metrics',
      subtitle: g ? `${g.kind} · ${g.state} · ${this.conn?.label ?? ''}` : 'guest not found',
      hostNote: g ? `Source: ${COLLECTED_FROM[g.kind]}` : '',
    });
  }

  private side() {
    const s = this.deps.sampler.guestSide(this.state.connectionId!, this.state.guestId!);
    if (!s) return undefined;
    const l = s.last;
    return { ok: s.ok, error: s.error, hint: s.hint, via: s.via, kernel: l?.kernel, os: l?.os, load: l?.load, fs: l?.fs };
  }

  private rings(): { host?: Ring; guest?: Ring } {
    const { connectionId: c, guestId: g } = this.state;
    return { host: this.deps.sampler.guest(c!, g!), guest: this.deps.sampler.guestSide(c!, g!)?.ring };
  }

  /** Full window (after init or a range change). */
  private sendSeries(): void {
    const since = Date.now() - (this.state.range ?? 300) * 1000;
    const { host, guest } = this.rings();
    const empty = { t: [], series: {} };
    const h = host?.columns(since, HOST_KEYS) ?? empty;
    const g = guest?.columns(since, GUEST_KEYS) ?? empty;
    this.lastHostT = h.t[h.t.length - 1] ?? 0;
    this.lastGuestT = g.t[g.t.length - 1] ?? 0;
    this.post({ type: 'series', host: h, guest: g, side: this.side() });
  }

  protected async update(): Promise<void> {
    if (!this.lastHostT && !this.lastGuestT) return this.sendSeries();
    const { host, guest } = this.rings();
    const h = host?.last();
    const g = guest?.last();
    const m: { type: 'point'; host?: Sample; guest?: Sample; side: ReturnType<GuestPanel['side']> } = { type: 'point', side: this.side() };
    if (h && h.t > this.lastHostT) {
      m.host = h;
      this.lastHostT = h.t;
    }
    if (g && g.t > this.lastGuestT) {
      m.guest = g;
      this.lastGuestT = g.t;
    }
    this.post(m);
  }

  protected async onMessage(m: WebviewMsg): Promise<void> {
    if (m.type === 'range') {
      this.state.range = m.seconds;
      this.sendSeries();
      return;
    }
    if (m.type === 'ready') this.lastHostT = this.lastGuestT = 0;
    await super.onMessage(m);
  }
}

// ---- host overview ------------------------------------------------------------------------------

class HostPanel extends MetricsPanel {
  protected subscription() {
    return { connectionId: this.state.connectionId };
  }
  protected async init(): Promise<void> {
    const c = this.deps.connection(this.state.connectionId!);
    this.post({ type: 'init', view: 'host', state: this.state, title: `${c?.label ?? this.state.connectionId} — host overview` });
  }
  protected async update(): Promise<void> {
    const id = this.state.connectionId!;
    const c = this.deps.connection(id);
    const since = Date.now() - 60_000;
    const rows = [...(c?.guests.values() ?? [])].map((g) => {
      const r = this.deps.sampler.guest(id, g.id);
      const p = g.state === 'running' || g.state === 'paused' ? (r?.last()?.p ?? {}) : {};
      return {
        guestId: g.id,
        name: g.name,
        kind: g.kind,
        state: g.state,
        ...p,
        memAlloc: p.memAlloc ?? g.maxMemoryBytes ?? g.memoryBytes,
        spark: r?.columns(since, ['cpu']).series.cpu ?? [],
      };
    });
    this.post({ type: 'rows', rows, host: this.deps.sampler.host().last()?.p ?? {}, error: this.deps.sampler.errors.get(id) });
  }
  protected async onMessage(m: WebviewMsg): Promise<void> {
    if (m.type === 'open') {
      if (this.deps.connection(this.state.connectionId!)?.guest(m.guestId)) this.deps.openGuest(this.state.connectionId!, m.guestId);
      return;
    }
    await super.onMessage(m);
  }
}

// ---- observability and comparison: a container and a VM --------------------------------------

abstract class PairPanel extends MetricsPanel {
  protected pair() {
    return pickPair(this.deps.connections(), this.state);
  }
  protected subscription() {
    // the comparison needs the guest-side view of both; subscriptions are per connection, so
    // the panel holds one extra per side (see syncSubscription)
    return {};
  }
  private extra: Array<() => void> = [];
  protected syncSubscription(): void {
    super.syncSubscription();
    for (const r of this.extra.splice(0)) r();
    if (!this.release) return;
    const { container, vm } = this.pair();
    for (const x of [container, vm]) if (x) this.extra.push(this.deps.sampler.subscribe({ connectionId: x.conn.config.id, guestSide: x.guest.id }));
  }
  protected async initPair(view: 'observe' | 'compare', title: string): Promise<void> {
    const { containers, vms, container, vm } = this.pair();
    const strip = (xs: ReadonlyArray<{ key: string; label: string }>) => xs.map(({ key, label }) => ({ key, label }));
    this.post({
      type: 'init',
      view,
      state: this.state,
      title,
      containers: strip(containers),
      vms: strip(vms),
      selected: { container: container?.key, vm: vm?.key },
    });
  }
  protected async onMessage(m: WebviewMsg): Promise<void> {
    if (m.type === 'select') {
      const { containers, vms } = this.pair();
      if (![...containers, ...vms].some((x) => x.key === m.key)) return;
      this.state[m.side] = m.key;
      this.syncSubscription();
      await this.update();
      return;
    }
    await super.onMessage(m);
  }
  dispose(): void {
    for (const r of this.extra.splice(0)) r();
    super.dispose();
  }
}

class ObservePanel extends PairPanel {
  private readonly observer = new PairObserver();
  protected init() {
    return this.initPair('observe', 'Observability from the host: container vs VM');
  }
  protected async update(): Promise<void> {
    const { container, vm } = this.pair();
    const [c, v] = await Promise.all([container && this.observer.container(container), vm && this.observer.vm(vm)]);
    this.post({ type: 'observeData', container: c, vm: v });
  }
}

class ComparePanel extends PairPanel {
  private busy = false;
  private again = false;
  private lastAt = 0;

  constructor(panel: vscode.WebviewPanel, deps: PanelDeps, state: PanelState) {
    super(panel, deps, state);
    // a report written while the panel is open (Run Benchmark…, a task, another window) fills the
    // rows at once; the sampler ticks re-read the folder too, this only saves the wait
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(deps.reportsDir()), '*.json'));
    const changed = () => this.refresh();
    watcher.onDidCreate(changed);
    watcher.onDidChange(changed);
    panel.onDidDispose(() => watcher.dispose());
  }

  protected init() {
    return this.initPair('compare', 'Container vs KVM on this host');
  }

  /** The next update() builds the rows at once (no 3 s throttle); asked for mid-build, it runs right after. */
  private forceNext(): void {
    this.lastAt = 0;
    if (this.busy) this.again = true;
  }

  private updateNow(): void {
    void this.update().catch((e) => this.deps.log.debug(`compare panel: ${(e as Error).message}`));
  }

  /** Rebuilds the rows now (a new report); a hidden panel refreshes on 'ready' when shown again. */
  private refresh(): void {
    this.forceNext();
    if (this.panel.visible && !this.busy) this.updateNow();
  }

  protected async onMessage(m: WebviewMsg): Promise<void> {
    // a (re)loaded webview or another guest picked: rows for it now, not after the throttle
    if (m.type === 'ready' || m.type === 'select') this.forceNext();
    await super.onMessage(m);
  }

  protected async update(): Promise<void> {
    // reading definitions and cgroups every second is not needed: every 3 s is live enough
    if (this.busy || Date.now() - this.lastAt < 3000) return;
    this.busy = true;
    try {
      const { container, vm } = this.pair();
      const r = await comparePair(container, vm, this.deps.sampler, this.deps.reportsDir());
      this.post({ type: 'compareRows', rows: r.rows, pair: { container: container?.key, vm: vm?.key }, report: r.report, error: r.error });
      if (r.error) return;
      this.lastAt = Date.now();
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.lastAt = 0;
        if (this.panel.visible) this.updateNow();
      }
    }
  }
}

// ---- the manager -------------------------------------------------------------------------------

export class MetricsPanels implements vscode.Disposable {
  private readonly open = new Map<string, MetricsPanel>();

  constructor(private readonly deps: PanelDeps) {}

  private keyFor(s: PanelState): string {
    return s.view === 'guest' ? `guest:${s.connectionId}:${s.guestId}` : s.view === 'host' ? `host:${s.connectionId}` : s.view;
  }

  private viewType(s: PanelState): string {
    return { guest: VIEW_GUEST, host: VIEW_HOST, observe: VIEW_OBSERVE, compare: VIEW_COMPARE }[s.view];
  }

  private title(s: PanelState): string {
    const c = s.connectionId ? this.deps.connection(s.connectionId) : undefined;
    if (s.view === 'guest') return `Metrics: ${c?.guest(s.guestId!)?.name ?? s.guestId}`;
    if (s.view === 'host') return `Host Overview: ${c?.label ?? s.connectionId}`;
    return s.view === 'observe' ? 'Observability: Container vs VM' : 'Compare Container vs VM';
  }

  /** Opens (or reveals) the panel for a state. */
  show(s: PanelState): vscode.WebviewPanel {
    const key = this.keyFor(s);
    const existing = this.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing.panel;
    }
    const panel = vscode.window.createWebviewPanel(this.viewType(s), this.title(s), vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.deps.extensionUri, 'dist')],
    });
    this.attach(panel, s);
    return panel;
  }

  /** Wires a (new or restored) webview panel. */
  attach(panel: vscode.WebviewPanel, s: PanelState): void {
    const key = this.keyFor(s);
    const P = s.view === 'guest' ? GuestPanel : s.view === 'host' ? HostPanel : s.view === 'observe' ? ObservePanel : ComparePanel;
    const p = new P(panel, this.deps, { ...s });
    this.open.set(key, p);
    panel.onDidDispose(() => {
      if (this.open.get(key) === p) this.open.delete(key);
    });
  }

  get count(): number {
    return this.open.size;
  }

  /** A panel VS Code restores after a reload: wired again, or closed when its saved state is not valid. */
  restore(panel: vscode.WebviewPanel, raw: unknown): void {
    const s = validState(raw);
    if (!s) {
      panel.dispose();
      return;
    }
    panel.title = this.title(s);
    this.attach(panel, s);
  }

  serializers(): vscode.Disposable[] {
    return ALL_VIEWS.map((viewType) =>
      vscode.window.registerWebviewPanelSerializer(viewType, { deserializeWebviewPanel: async (panel, raw) => this.restore(panel, raw) }),
    );
  }

  dispose(): void {
    for (const p of this.open.values()) p.panel.dispose();
    this.open.clear();
  }
}
