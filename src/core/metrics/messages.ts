// What the metrics webviews may send and what their persisted state may hold: validated before use
// (a webview is untrusted input, and a restored state may come from an older version). No vscode import.

/** What a panel is about; also its persisted webview state (validated when restored). */
export interface PanelState {
  view: 'guest' | 'host' | 'observe' | 'compare';
  connectionId?: string;
  guestId?: string;
  range?: number;
  container?: string;
  vm?: string;
}

const RANGES = new Set([60, 300, 900, 3600]);
const isStr = (x: unknown, max = 200): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;

/** Accepts a state restored from the webview only when every field has the expected type. */
export function validState(s: unknown): PanelState | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const o = s as Record<string, unknown>;
  if (!['guest', 'host', 'observe', 'compare'].includes(o.view as string)) return undefined;
  const out: PanelState = { view: o.view as PanelState['view'] };
  if (isStr(o.connectionId)) out.connectionId = o.connectionId;
  if (isStr(o.guestId)) out.guestId = o.guestId;
  if (typeof o.range === 'number' && RANGES.has(o.range)) out.range = o.range;
  if (isStr(o.container, 500)) out.container = o.container;
  if (isStr(o.vm, 500)) out.vm = o.vm;
  if (out.view === 'guest' && (!out.connectionId || !out.guestId)) return undefined;
  if (out.view === 'host' && !out.connectionId) return undefined;
  return out;
}

/** Messages a webview may send; anything else is dropped. */
export type WebviewMsg =
  | { type: 'ready' }
  | { type: 'range'; seconds: number }
  | { type: 'open'; guestId: string }
  | { type: 'select'; side: 'container' | 'vm'; key: string }
  | { type: 'bench' };

export function validMessage(m: unknown): WebviewMsg | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'ready':
    case 'bench':
      return { type: o.type };
    case 'range':
      return typeof o.seconds === 'number' && RANGES.has(o.seconds) ? { type: 'range', seconds: o.seconds } : undefined;
    case 'open':
      return isStr(o.guestId) ? { type: 'open', guestId: o.guestId } : undefined;
    case 'select':
      return (o.side === 'container' || o.side === 'vm') && isStr(o.key, 500) ? { type: 'select', side: o.side, key: o.key } : undefined;
  }
  return undefined;
}
