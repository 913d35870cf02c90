// The metrics webviews (guest, host overview, observability, comparison): one script, bundled with
// uPlot into dist/webview.js (no network). Data arrives as messages; state is kept with setState.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './metrics.css';
import {
  CompareCell,
  COMPARISON_TABLE_CITED,
  Cols,
  GuestKey,
  HostKey,
  InitMsg,
  isToWebview,
  ObserveSide,
  OverviewRow,
  PickOption,
  ProcRowMsg,
  SideInfo,
  ToWebview,
  WebviewMsg,
} from '../../src/protocol/metrics';

declare function acquireVsCodeApi(): { postMessage(m: WebviewMsg): void; getState(): any; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

/** A message of one type, from the protocol. */
type Msg<T extends ToWebview['type']> = Extract<ToWebview, { type: T }>;
type Init<V extends 'guest' | 'host'> = Extract<InitMsg, { view: V }>;
type PairInit = Extract<InitMsg, { containers: PickOption[] }>;

const app = document.getElementById('app')!;
const state: any = vscode.getState() ?? {};
const save = (patch: object) => vscode.setState(Object.assign(state, patch));

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
}

function css(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
const COLORS = () => [
  css('--vscode-charts-blue', '#3794ff'),
  css('--vscode-charts-orange', '#d18616'),
  css('--vscode-charts-green', '#89d185'),
  css('--vscode-charts-purple', '#b180d7'),
  css('--vscode-charts-red', '#f14c4c'),
  css('--vscode-charts-yellow', '#cca700'),
];

export function fmtBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = Math.abs(n);
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${x.toFixed(x >= 100 || (i === 0 && Number.isInteger(x)) ? 0 : 1)} ${u[i]}`;
}
const fmtPct = (n: number | null | undefined) => (n == null || !Number.isFinite(n) ? '—' : `${n.toFixed(1)} %`);
const fmtRate = (n: number | null | undefined) => (n == null ? '—' : `${fmtBytes(n)}/s`);

// ---- guest panel ------------------------------------------------------------------------------

interface ChartDef<K extends HostKey | GuestKey = HostKey | GuestKey> {
  title: string;
  /** Keys of the protocol's HOST_KEYS / GUEST_KEYS: a misspelt key does not compile. */
  keys: K[];
  labels: string[];
  fmt: (n: number | null | undefined) => string;
}
const HOST_CHARTS: Array<ChartDef<HostKey>> = [
  { title: 'CPU', keys: ['cpu', 'cpuAlloc', 'vcpu0', 'vcpu1'], labels: ['% of host', '% of its CPUs', 'vCPU 0', 'vCPU 1'], fmt: fmtPct },
  { title: 'Memory', keys: ['memUsed', 'memAlloc'], labels: ['used on host', 'allocated'], fmt: fmtBytes },
  { title: 'Disk I/O', keys: ['diskRd', 'diskWr'], labels: ['read', 'write'], fmt: fmtRate },
  { title: 'Network I/O', keys: ['netRx', 'netTx'], labels: ['rx', 'tx'], fmt: fmtRate },
  { title: 'Pressure (PSI some avg10)', keys: ['psiCpu', 'psiMem', 'psiIo'], labels: ['cpu', 'memory', 'io'], fmt: fmtPct },
];
const GUEST_CHARTS: Array<ChartDef<GuestKey>> = [
  { title: 'CPU', keys: ['gCpu'], labels: ['busy % (guest /proc/stat)'], fmt: fmtPct },
  { title: 'Memory', keys: ['gMemUsed', 'gMemTotal'], labels: ['used', 'total'], fmt: fmtBytes },
  { title: 'Disk I/O', keys: ['gDiskRd', 'gDiskWr'], labels: ['read', 'write'], fmt: fmtRate },
  { title: 'Network I/O', keys: ['gNetRx', 'gNetTx'], labels: ['rx', 'tx'], fmt: fmtRate },
  { title: 'Pressure (PSI some avg10)', keys: ['gPsiCpu', 'gPsiMem', 'gPsiIo'], labels: ['cpu', 'memory', 'io'], fmt: fmtPct },
];

class Chart {
  plot: uPlot;
  data: { t: number[]; series: Partial<Record<string, Array<number | null>>> } = { t: [], series: {} };
  constructor(
    parent: HTMLElement,
    readonly def: ChartDef,
    width: number,
  ) {
    const box = el('div', { class: 'chart' });
    parent.append(box);
    const colors = COLORS();
    const fg = css('--vscode-foreground', '#ccc');
    const grid = css('--vscode-editorWidget-border', '#444');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    this.plot = new uPlot(
      {
        title: def.title,
        width,
        height: 150,
        series: [
          {},
          ...def.keys.map((k, i) => ({
            label: def.labels[i],
            stroke: colors[i % colors.length],
            width: 1.5,
            value: (_u: uPlot, v: number | null) => def.fmt(v),
            spanGaps: false,
          })),
        ],
        axes: [axis, { ...axis, size: 70, values: (_u: uPlot, vals: number[]) => vals.map((v) => def.fmt(v)) }],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max || 0, def.fmt === fmtPct ? 1 : 1)] } },
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      },
      [[], ...def.keys.map(() => [])] as unknown as uPlot.AlignedData,
      box,
    );
  }
  set(c: Cols): void {
    this.data = { t: c.t.slice(), series: Object.fromEntries(this.def.keys.map((k) => [k, (c.series[k] ?? c.t.map(() => null)).slice()])) };
    this.draw();
  }
  append(t: number, p: Partial<Record<string, number>>, rangeSec: number): void {
    this.data.t.push(t);
    for (const k of this.def.keys) (this.data.series[k] ??= []).push(p[k] ?? null);
    const cut = t - rangeSec * 1000;
    let n = 0;
    while (n < this.data.t.length && this.data.t[n] < cut) n++;
    if (n) {
      this.data.t.splice(0, n);
      for (const k of this.def.keys) this.data.series[k]?.splice(0, n);
    }
    this.draw();
  }
  draw(): void {
    // for tests and screen readers: how many points the chart holds, and the latest value
    this.plot.root.dataset.points = String(this.data.t.length);
    const k0 = this.def.keys[0];
    const last = this.data.series[k0]?.at(-1);
    this.plot.root.setAttribute('aria-label', `${this.def.title}: ${this.def.labels[0]} ${this.def.fmt(last)}`);
    this.plot.setData([this.data.t.map((x) => x / 1000), ...this.def.keys.map((k) => this.data.series[k] ?? [])] as unknown as uPlot.AlignedData);
  }
}

let hostCharts: Chart[] = [];
let guestCharts: Chart[] = [];

function guestPanel(m: Init<'guest'>): void {
  app.replaceChildren();
  const range = state.range ?? 300;
  const ranges = el('div', { class: 'ranges', role: 'group', 'aria-label': 'time range' });
  for (const [s, label] of [
    [60, '1 min'],
    [300, '5 min'],
    [900, '15 min'],
    [3600, '1 h'],
  ] as const) {
    const b = el('button', { 'data-range': String(s), class: s === range ? 'on' : '' }, label);
    b.addEventListener('click', () => {
      save({ range: s });
      for (const x of ranges.querySelectorAll('button')) x.classList.toggle('on', x === b);
      vscode.postMessage({ type: 'range', seconds: s });
    });
    ranges.append(b);
  }
  app.append(el('header', {}, el('h1', {}, m.title), el('span', { class: 'sub' }, m.subtitle ?? ''), ranges));
  const cols = el('div', { class: 'sides' });
  const left = el('section', { class: 'side', id: 'host-side' }, el('h2', {}, 'From the host'), el('p', { class: 'note' }, m.hostNote ?? ''));
  const right = el('section', { class: 'side', id: 'guest-side' }, el('h2', {}, 'From the guest'), el('p', { class: 'note', id: 'guest-note' }, ''));
  cols.append(left, right);
  app.append(cols);
  const w = Math.max(280, Math.floor((window.innerWidth - 48) / 2) - 16);
  hostCharts = HOST_CHARTS.map((d) => new Chart(left, d, w));
  guestCharts = GUEST_CHARTS.map((d) => new Chart(right, d, w));
  right.append(el('div', { id: 'guest-extra' }));
}

function guestSideInfo(side: SideInfo | undefined): void {
  const note = document.getElementById('guest-note');
  const extra = document.getElementById('guest-extra');
  if (!note || !extra) return;
  note.classList.toggle('warn', !side?.ok);
  note.textContent = side?.ok
    ? `via ${side.via}${side.kernel ? ` · ${side.kernel}` : ''}${side.os ? ` · ${side.os}` : ''}${side.load ? ` · load ${side.load.join(' ')}` : ''}`
    : side?.error
      ? `${side.error}${side.hint ? `\n${side.hint}` : ''}`
      : 'Waiting for the first guest-side reading…';
  extra.replaceChildren();
  if (side?.fs?.length) {
    const t = el('table', { class: 'grid' }, el('tr', {}, el('th', {}, 'filesystem'), el('th', {}, 'mount'), el('th', {}, 'used'), el('th', {}, 'size')));
    for (const f of side.fs)
      t.append(el('tr', {}, el('td', {}, f.source), el('td', {}, f.mount), el('td', {}, fmtBytes(f.usedBytes)), el('td', {}, fmtBytes(f.sizeBytes))));
    extra.append(el('h3', {}, 'Filesystems (df in the guest)'), t);
  }
}

// ---- host overview ------------------------------------------------------------------------------

function sparkline(values: Array<number | null>, max = 100): HTMLCanvasElement {
  const c = el('canvas', { width: '120', height: '24', class: 'spark' });
  const g = c.getContext('2d');
  if (!g) return c;
  g.strokeStyle = css('--vscode-charts-blue', '#3794ff');
  g.lineWidth = 1.5;
  g.beginPath();
  const n = values.length;
  values.forEach((v, i) => {
    const x = n > 1 ? (i / (n - 1)) * 118 + 1 : 1;
    const y = 23 - (Math.min(max, v ?? 0) / max) * 22;
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  return c;
}

const OV_COLS: Array<[string, string, (r: OverviewRow) => string]> = [
  ['name', 'Guest', (r) => r.name],
  ['kind', 'Kind', (r) => r.kind],
  ['state', 'State', (r) => r.state],
  ['cpu', 'CPU (host %)', (r) => fmtPct(r.cpu)],
  ['memUsed', 'Memory (host use / allocated)', (r) => `${fmtBytes(r.memUsed)}${r.memAlloc ? ` / ${fmtBytes(r.memAlloc)}` : ''}`],
  ['disk', 'Disk r/w', (r) => `${fmtRate(r.diskRd)} / ${fmtRate(r.diskWr)}`],
  ['net', 'Net rx/tx', (r) => `${fmtRate(r.netRx)} / ${fmtRate(r.netTx)}`],
];

function overview(m: Init<'host'>): void {
  app.replaceChildren(el('header', {}, el('h1', {}, m.title), el('span', { class: 'sub', id: 'host-line' }, '')));
  app.append(el('table', { class: 'grid overview', id: 'overview' }));
}

function overviewRows(m: Msg<'rows'>): void {
  const h = m.host ?? {};
  const line = document.getElementById('host-line');
  if (line)
    line.textContent = `host: CPU ${fmtPct(h.cpu)} · memory ${fmtBytes(h.memUsed)} / ${fmtBytes(h.memAlloc)} · PSI cpu ${fmtPct(h.psiCpu)} · ${m.rows.length} guests${m.error ? ` · ${m.error}` : ''}`;
  const table = document.getElementById('overview');
  if (!table) return;
  const sort = state.sort ?? 'cpu';
  const dir = state.dir ?? -1;
  const key = (r: OverviewRow): unknown =>
    sort === 'disk' ? (r.diskRd ?? 0) + (r.diskWr ?? 0) : sort === 'net' ? (r.netRx ?? 0) + (r.netTx ?? 0) : (r as unknown as Record<string, unknown>)[sort];
  const rows = [...m.rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (typeof x === 'string' || typeof y === 'string') return dir * String(x ?? '').localeCompare(String(y ?? ''));
    return dir * (((x as number | undefined) ?? -1) - ((y as number | undefined) ?? -1));
  });
  const head = el('tr');
  for (const [k, label] of OV_COLS) {
    const th = el('th', { 'data-sort': k, class: 'sortable' }, label + (k === sort ? (dir < 0 ? ' ▾' : ' ▴') : ''));
    th.addEventListener('click', () => {
      save({ sort: k, dir: k === sort ? -dir : -1 });
      overviewRows(m);
    });
    head.append(th);
  }
  head.append(el('th', {}, 'CPU, last minute'));
  table.replaceChildren(head);
  for (const r of rows) {
    const tr = el('tr', { 'data-guest': r.guestId });
    OV_COLS.forEach(([k, , f], i) => {
      const td = el('td', { class: k }, f(r));
      if (i === 0) {
        const a = el('a', { href: '#', class: 'open' }, r.name);
        a.addEventListener('click', (e) => {
          e.preventDefault();
          vscode.postMessage({ type: 'open', guestId: r.guestId });
        });
        td.replaceChildren(a);
      }
      tr.append(td);
    });
    tr.append(el('td', {}, sparkline(r.spark ?? [], Math.max(10, ...(r.spark ?? []).map((x: number | null) => x ?? 0)))));
    table.append(tr);
  }
}

// ---- observability ----------------------------------------------------------------------------

function picker(side: 'container' | 'vm', options: PickOption[], selected?: string): HTMLSelectElement {
  const s = el('select', { id: `pick-${side}` });
  for (const o of options) {
    const opt = el('option', { value: o.key }, o.label);
    if (o.key === selected) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => {
    save({ [side]: s.value });
    vscode.postMessage({ type: 'select', side, key: s.value });
  });
  return s;
}

function procTable(rows: ProcRowMsg[], thread: boolean): HTMLTableElement {
  const t = el(
    'table',
    { class: 'grid procs' },
    el('tr', {}, el('th', {}, thread ? 'tid' : 'pid'), el('th', {}, 'command'), el('th', {}, 'role'), el('th', {}, 'CPU'), el('th', {}, 'RSS')),
  );
  for (const r of rows)
    t.append(
      el(
        'tr',
        { class: r.role },
        el('td', {}, String(r.tid ?? r.pid)),
        el('td', {}, r.comm),
        el('td', {}, r.role),
        el('td', {}, fmtPct(r.cpu)),
        el('td', {}, r.rssBytes ? fmtBytes(r.rssBytes) : ''),
      ),
    );
  return t;
}

function observe(m: PairInit): void {
  app.replaceChildren(el('header', {}, el('h1', {}, m.title), el('span', { class: 'sub' }, 'What the host can see of each, live')));
  const cols = el('div', { class: 'sides' });
  const c = el('section', { class: 'side', id: 'obs-container' });
  const v = el('section', { class: 'side', id: 'obs-vm' });
  c.append(el('h2', {}, 'Container '), el('div', { class: 'body' }));
  v.append(el('h2', {}, 'VM '), el('div', { class: 'body' }));
  c.querySelector('h2')!.append(picker('container', m.containers, m.selected?.container));
  v.querySelector('h2')!.append(picker('vm', m.vms, m.selected?.vm));
  cols.append(c, v);
  app.append(cols);
}

function observeData(m: Msg<'observeData'>): void {
  for (const [id, d, thread] of [
    ['obs-container', m.container, false],
    ['obs-vm', m.vm, true],
  ] as Array<[string, ObserveSide | undefined, boolean]>) {
    const body = document.querySelector(`#${id} .body`);
    if (!body) continue;
    if (!d) {
      body.replaceChildren(el('p', { class: 'note warn' }, 'No running guest of this kind.'));
      continue;
    }
    body.replaceChildren(el('p', { class: 'note' }, d.summary), d.error ? el('p', { class: 'note warn' }, d.error) : '', procTable(d.rows, thread));
  }
}

// ---- comparison -------------------------------------------------------------------------------

const SRC: Record<string, string> = {
  measured: 'measured now',
  definition: 'from the definition',
  benchmark: 'from the latest benchmark report',
  'not measurable': 'not measurable here',
};

function compare(m: PairInit): void {
  app.replaceChildren(el('header', {}, el('h1', {}, m.title), el('span', { class: 'sub', id: 'cmp-sub' }, '')));
  const pick = el(
    'div',
    { class: 'pickers' },
    'Container: ',
    picker('container', m.containers, m.selected?.container),
    ' VM: ',
    picker('vm', m.vms, m.selected?.vm),
  );
  const bench = el('button', { id: 'run-bench' }, 'Run Benchmark…');
  bench.addEventListener('click', () => vscode.postMessage({ type: 'bench' }));
  pick.append(' ', bench);
  app.append(
    pick,
    el('p', { class: 'note', id: 'cmp-source' }, `Rows and claims: ${COMPARISON_TABLE_CITED}.`),
    el('table', { class: 'grid compare', id: 'compare' }),
  );
}

function compareRows(m: Msg<'compareRows'>): void {
  const sub = document.getElementById('cmp-sub');
  if (sub) sub.textContent = m.report ? `latest benchmark report: ${m.report}` : 'no benchmark report yet: rows that need one say so';
  const t = document.getElementById('compare');
  if (!t) return;
  // which guests and report the rows are of (a picker change or a new report shows here first)
  t.dataset.container = m.pair?.container ?? '';
  t.dataset.vm = m.pair?.vm ?? '';
  t.dataset.report = m.report ?? '';
  if (m.error) {
    t.replaceChildren(el('tr', {}, el('td', { class: 'note warn' }, m.error)));
    return;
  }
  t.replaceChildren(
    el(
      'tr',
      {},
      el('th', {}, 'Row of the table'),
      el('th', {}, 'The table: container'),
      el('th', {}, 'Container here'),
      el('th', {}, 'The table: KVM'),
      el('th', {}, 'VM here'),
      el('th', {}, 'Holds here?'),
    ),
  );
  const cell = (c: CompareCell) =>
    el(
      'td',
      {},
      el('div', {}, c.value),
      el('div', { class: `src src-${c.source.replace(/ /g, '-')}`, title: c.detail ?? '' }, SRC[c.source] + (c.detail ? ` — ${c.detail}` : '')),
    );
  for (const r of m.rows) {
    const holds = el('td', { class: `holds holds-${r.holds}` }, el('b', {}, r.holds), el('div', { class: 'why' }, r.why));
    if (r.needsBenchmark) {
      const a = el('a', { href: '#' }, 'Run Benchmark…');
      a.addEventListener('click', (e) => {
        e.preventDefault();
        vscode.postMessage({ type: 'bench' });
      });
      holds.append(a);
    }
    t.append(
      el(
        'tr',
        { 'data-row': r.id },
        el('td', {}, r.label),
        el('td', { class: 'stated' }, r.tableContainer),
        cell(r.container),
        el('td', { class: 'stated' }, r.tableVm),
        cell(r.vm),
        holds,
      ),
    );
  }
}

// ---- messages ---------------------------------------------------------------------------------

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  const m = ev.data;
  if (!isToWebview(m)) return;
  switch (m.type) {
    case 'init':
      save(m.state);
      document.title = m.title;
      if (m.view === 'guest') guestPanel(m);
      else if (m.view === 'host') overview(m);
      else if (m.view === 'observe') observe(m);
      else compare(m);
      break;
    case 'series':
      hostCharts.forEach((c) => c.set(m.host));
      guestCharts.forEach((c) => c.set(m.guest));
      guestSideInfo(m.side);
      break;
    case 'point':
      for (const [charts, s] of [
        [hostCharts, m.host],
        [guestCharts, m.guest],
      ] as const)
        if (s) charts.forEach((c) => c.append(s.t, s.p, state.range ?? 300));
      guestSideInfo(m.side);
      break;
    case 'rows':
      overviewRows(m);
      break;
    case 'observeData':
      observeData(m);
      break;
    case 'compareRows':
      compareRows(m);
      break;
  }
});
vscode.postMessage({ type: 'ready' });
