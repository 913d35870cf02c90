// The metrics webviews' protocol, both directions, declared once: imported by the extension
// (src/views/metricsPanels.ts) and by the webview (media/metrics/main.ts). Every message is checked
// by a guard before use: the webview is untrusted input to the extension, and the webview checks what
// it is sent too. Browser-safe: no vscode or node import.
import { GUEST_KEYS, HOST_KEYS, type GuestKey, type HostKey } from '../core/metrics/series';

export { GUEST_KEYS, HOST_KEYS, type GuestKey, type HostKey };
export { COMPARISON_TABLE_CITED } from '../core/metrics/comparisonTable';

/** What a panel is about; also its persisted webview state (validated when restored). */
export interface PanelState {
  view: 'guest' | 'host' | 'observe' | 'compare';
  connectionId?: string;
  guestId?: string;
  range?: number;
  container?: string;
  vm?: string;
}

export const RANGES = [60, 300, 900, 3600] as const;
const RANGE_SET = new Set<number>(RANGES);
const isStr = (x: unknown, max = 200): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;
const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** Accepts a state restored from the webview only when every field has the expected type. */
export function validState(s: unknown): PanelState | undefined {
  if (!isObj(s)) return undefined;
  const o = s;
  if (!['guest', 'host', 'observe', 'compare'].includes(o.view as string)) return undefined;
  const out: PanelState = { view: o.view as PanelState['view'] };
  if (isStr(o.connectionId)) out.connectionId = o.connectionId;
  if (isStr(o.guestId)) out.guestId = o.guestId;
  if (typeof o.range === 'number' && RANGE_SET.has(o.range)) out.range = o.range;
  if (isStr(o.container, 500)) out.container = o.container;
  if (isStr(o.vm, 500)) out.vm = o.vm;
  if (out.view === 'guest' && (!out.connectionId || !out.guestId)) return undefined;
  if (out.view === 'host' && !out.connectionId) return undefined;
  return out;
}

// ---- webview → extension ------------------------------------------------------------------------

/** Messages a webview may send; anything else is dropped. */
export type WebviewMsg =
  | { type: 'ready' }
  | { type: 'range'; seconds: number }
  | { type: 'open'; guestId: string }
  | { type: 'select'; side: 'container' | 'vm'; key: string }
  | { type: 'bench' };

export function validMessage(m: unknown): WebviewMsg | undefined {
  if (!isObj(m)) return undefined;
  const o = m;
  switch (o.type) {
    case 'ready':
    case 'bench':
      return { type: o.type };
    case 'range':
      return typeof o.seconds === 'number' && RANGE_SET.has(o.seconds) ? { type: 'range', seconds: o.seconds } : undefined;
    case 'open':
      return isStr(o.guestId) ? { type: 'open', guestId: o.guestId } : undefined;
    case 'select':
      return (o.side === 'container' || o.side === 'vm') && isStr(o.key, 500) ? { type: 'select', side: o.side, key: o.key } : undefined;
  }
  return undefined;
}

// ---- extension → webview ------------------------------------------------------------------------

/** Chart columns: timestamps (ms) and one array per key, null where a value is missing. */
export interface Cols<K extends string = string> {
  t: number[];
  series: Partial<Record<K, Array<number | null>>>;
}
/** One sample: its time (ms) and values by key. */
export interface Sample {
  t: number;
  p: Partial<Record<string, number>>;
}
/** The guest-side reading's summary under the guest panel's right column. */
export interface SideInfo {
  ok: boolean;
  error?: string;
  hint?: string;
  via?: string;
  kernel?: string;
  os?: string;
  load?: number[];
  fs?: Array<{ mount: string; source: string; sizeBytes: number; usedBytes: number }>;
}
export interface PickOption {
  key: string;
  label: string;
}
export interface OverviewRow extends Partial<Record<HostKey, number>> {
  guestId: string;
  name: string;
  kind: string;
  state: string;
  spark: Array<number | null>;
}
export interface ProcRowMsg {
  pid: number;
  tid?: number;
  comm: string;
  cpu?: number;
  rssBytes?: number;
  role: string;
}
export interface ObserveSide {
  summary: string;
  error?: string;
  rows: ProcRowMsg[];
}
export interface CompareCell {
  value: string;
  source: 'measured' | 'definition' | 'benchmark' | 'not measurable';
  detail?: string;
}
export interface CompareRow {
  id: string;
  label: string;
  /** What the OpenVZ/LXC vs KVM comparison table says of containers and of KVM. */
  tableContainer: string;
  tableVm: string;
  container: CompareCell;
  vm: CompareCell;
  holds: 'yes' | 'no' | 'partly' | 'unknown';
  why: string;
  needsBenchmark?: boolean;
}
export interface Pair {
  container?: string;
  vm?: string;
}

export type InitMsg =
  | { type: 'init'; view: 'guest'; state: PanelState; title: string; subtitle: string; hostNote: string }
  | { type: 'init'; view: 'host'; state: PanelState; title: string }
  | { type: 'init'; view: 'observe' | 'compare'; state: PanelState; title: string; containers: PickOption[]; vms: PickOption[]; selected: Pair };

export type ToWebview =
  | InitMsg
  | { type: 'series'; host: Cols<HostKey>; guest: Cols<GuestKey>; side?: SideInfo }
  | { type: 'point'; host?: Sample; guest?: Sample; side?: SideInfo }
  | { type: 'rows'; rows: OverviewRow[]; host: Partial<Record<string, number>>; error?: string }
  | { type: 'observeData'; container?: ObserveSide; vm?: ObserveSide }
  | { type: 'compareRows'; rows: CompareRow[]; pair: Pair; report?: string; error?: string };

const isCols = (x: unknown): boolean => isObj(x) && Array.isArray(x.t) && isObj(x.series);
const isSample = (x: unknown): boolean => isObj(x) && typeof x.t === 'number' && isObj(x.p);
const optional = (x: unknown, check: (y: unknown) => boolean): boolean => x === undefined || check(x);
const isSide = (x: unknown): boolean => isObj(x) && typeof x.ok === 'boolean' && optional(x.fs, Array.isArray) && optional(x.load, Array.isArray);
const isOptions = (x: unknown): boolean => Array.isArray(x) && x.every((o) => isObj(o) && typeof o.key === 'string' && typeof o.label === 'string');
const isObserveSide = (x: unknown): boolean => isObj(x) && typeof x.summary === 'string' && Array.isArray(x.rows);

/** The webview's guard on what it receives: the shape each message's renderer relies on. */
export function isToWebview(m: unknown): m is ToWebview {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'init':
      if (typeof m.title !== 'string' || !isObj(m.state)) return false;
      if (m.view === 'guest' || m.view === 'host') return true;
      return (m.view === 'observe' || m.view === 'compare') && isOptions(m.containers) && isOptions(m.vms) && isObj(m.selected);
    case 'series':
      return isCols(m.host) && isCols(m.guest) && optional(m.side, isSide);
    case 'point':
      return optional(m.host, isSample) && optional(m.guest, isSample) && optional(m.side, isSide);
    case 'rows':
      return (
        Array.isArray(m.rows) &&
        m.rows.every((r) => isObj(r) && typeof r.guestId === 'string' && typeof r.name === 'string' && Array.isArray(r.spark)) &&
        isObj(m.host)
      );
    case 'observeData':
      return optional(m.container, isObserveSide) && optional(m.vm, isObserveSide);
    case 'compareRows':
      return Array.isArray(m.rows) && m.rows.every((r) => isObj(r) && isObj(r.container) && isObj(r.vm) && typeof r.label === 'string') && isObj(m.pair);
  }
  return false;
}
