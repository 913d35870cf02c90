// The graphical console webview's protocol, both directions, declared once: imported by the
// extension (src/core/console/vncBridge.ts, src/views/vncPanel.ts) and by the webview
// (media/vnc/main.ts). The webview never opens a socket: RFB bytes travel as base64 in these
// messages. Every message is checked by a guard before use, and its size is bounded.
// Browser-safe: no vscode or node import.

/** Largest chunk of RFB bytes in one message, decoded (the extension splits larger reads). */
export const MAX_CHUNK = 256 * 1024;
/** Largest clipboard text either way (characters). */
export const MAX_CLIPBOARD = 1024 * 1024;
const MAX_B64 = Math.ceil(MAX_CHUNK / 3) * 4;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Messages the webview may send; anything else is dropped. */
export type FromWebview =
  | { type: 'ready' }
  /** RFB bytes from noVNC to the server. */
  | { type: 'data'; b64: string }
  /** noVNC's connection ended (an error or the user's disconnect). */
  | { type: 'closed'; reason: string }
  /** Text the guest put on its clipboard, for the user's clipboard. */
  | { type: 'clipboard'; text: string }
  /** The user asks to paste their clipboard into the guest (the webview cannot read it). */
  | { type: 'paste' };

/** Messages the extension sends. */
export type ToWebview =
  | { type: 'open'; title: string }
  | { type: 'data'; b64: string }
  /** The stream ended: the guest stopped, the server closed, an error. */
  | { type: 'end'; message: string }
  /** The user's clipboard text, to paste into the guest. */
  | { type: 'clipboard'; text: string };

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const isB64 = (x: unknown): x is string => typeof x === 'string' && x.length <= MAX_B64 && x.length % 4 === 0 && B64.test(x);
const isText = (x: unknown, max: number): x is string => typeof x === 'string' && x.length <= max;

/** A message from the webview when it has exactly the expected shape and size; otherwise undefined. */
export function validFromWebview(m: unknown): FromWebview | undefined {
  if (!isObj(m)) return undefined;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'data':
      return isB64(m.b64) ? { type: 'data', b64: m.b64 } : undefined;
    case 'closed':
      return isText(m.reason, 2000) ? { type: 'closed', reason: m.reason } : undefined;
    case 'clipboard':
      return isText(m.text, MAX_CLIPBOARD) ? { type: 'clipboard', text: m.text } : undefined;
    case 'paste':
      return { type: 'paste' };
    default:
      return undefined;
  }
}

/** A message from the extension, checked by the webview the same way. */
export function validToWebview(m: unknown): ToWebview | undefined {
  if (!isObj(m)) return undefined;
  switch (m.type) {
    case 'open':
      return isText(m.title, 500) ? { type: 'open', title: m.title } : undefined;
    case 'data':
      return isB64(m.b64) ? { type: 'data', b64: m.b64 } : undefined;
    case 'end':
      return isText(m.message, 2000) ? { type: 'end', message: m.message } : undefined;
    case 'clipboard':
      return isText(m.text, MAX_CLIPBOARD) ? { type: 'clipboard', text: m.text } : undefined;
    default:
      return undefined;
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The webview's page. CSP: nothing by default (so no connect-src: the page can open no socket, no
 * fetch), scripts only with the nonce, styles and images from the extension (data:/blob: for
 * noVNC's cursor). The script is an ES module: noVNC awaits at its top level.
 */
export function vncPage(p: { nonce: string; cspSource: string; script: string; style: string; title: string }): string {
  const csp = `default-src 'none'; img-src ${p.cspSource} data: blob:; style-src ${p.cspSource}; script-src 'nonce-${p.nonce}'; font-src ${p.cspSource};`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(p.style)}">
<title>${esc(p.title)}</title></head>
<body><div id="bar"><span id="status">Loading…</span><button id="scale" title="Fit the screen to the panel, or show it at its own size">Actual Size</button><button id="paste" title="Type your clipboard's text into the guest's clipboard">Paste Clipboard</button><button id="cad" title="Send Ctrl+Alt+Del to the guest">Send Ctrl-Alt-Del</button></div>
<div id="screen"></div><script type="module" nonce="${p.nonce}" src="${esc(p.script)}"></script></body></html>`;
}
