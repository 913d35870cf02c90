// The graphical console webview: noVNC's RFB on a channel made of postMessage, never a socket (the
// webview may run in a browser on another machine). RFB bytes travel as base64 in the messages of
// src/protocol/vnc.ts; the extension bridges them to the guest's VNC display. Bundled into
// dist/vnc.js with noVNC (no network).
import RFB from '@novnc/novnc';
import './vnc.css';
import { validToWebview, MAX_CHUNK, type FromWebview } from '../../src/protocol/vnc';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

function toB64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromB64(b64: string): ArrayBuffer {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out.buffer;
}

/** What noVNC needs of a WebSocket (websock.js rawChannelProps), over postMessage. */
class MessageChannel {
  binaryType = 'arraybuffer';
  protocol = '';
  readyState = 'open';
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  send = (data: Uint8Array | ArrayBuffer): void => {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    for (let i = 0; i < bytes.length; i += MAX_CHUNK) vscode.postMessage({ type: 'data', b64: toB64(bytes.subarray(i, i + MAX_CHUNK)) });
  };
  close = (): void => this.ended('closed');
  receive(b64: string): void {
    if (this.readyState === 'open') this.onmessage?.({ data: fromB64(b64) });
  }
  ended(reason: string): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    vscode.postMessage({ type: 'closed', reason });
    this.onclose?.({ code: 1000, reason, wasClean: true });
  }
}

const $ = (id: string) => document.getElementById(id)!;
const status = (text: string, ended = false) => {
  $('status').textContent = text;
  $('status').classList.toggle('ended', ended);
};

let channel: MessageChannel | undefined;
let rfb: RFB | undefined;

function open(title: string): void {
  status(`Connecting to ${title}…`);
  channel = new MessageChannel();
  rfb = new RFB($('screen'), channel, { shared: true });
  rfb.scaleViewport = true;
  rfb.background = 'transparent';
  rfb.addEventListener('connect', () => {
    status(title);
    rfb?.focus();
  });
  rfb.addEventListener('disconnect', (e) => {
    const clean = (e as CustomEvent<{ clean: boolean }>).detail?.clean;
    if (!$('status').classList.contains('ended')) status(clean ? 'Disconnected.' : 'The connection to the screen failed.', true);
    channel?.ended('disconnected');
  });
  rfb.addEventListener('securityfailure', (e) =>
    status(`The guest's VNC server refused the connection: ${(e as CustomEvent<{ reason?: string }>).detail?.reason ?? 'security failure'}`, true),
  );
  rfb.addEventListener('credentialsrequired', () => status("The guest's VNC display asks for a password, which virtscope does not support yet.", true));
  rfb.addEventListener('clipboard', (e) => {
    const text = (e as CustomEvent<{ text: string }>).detail?.text;
    if (typeof text === 'string') vscode.postMessage({ type: 'clipboard', text });
  });
}

$('cad').addEventListener('click', () => rfb?.sendCtrlAltDel());
$('scale').addEventListener('click', () => {
  if (!rfb) return;
  rfb.scaleViewport = !rfb.scaleViewport;
  $('scale').textContent = rfb.scaleViewport ? 'Actual Size' : 'Fit to Window';
});
$('paste').addEventListener('click', () => vscode.postMessage({ type: 'paste' }));

window.addEventListener('message', (ev) => {
  const m = validToWebview(ev.data);
  if (!m) return;
  if (m.type === 'open') open(m.title);
  else if (m.type === 'data') channel?.receive(m.b64);
  else if (m.type === 'clipboard') rfb?.clipboardPasteFrom(m.text);
  else if (m.type === 'end') {
    status(m.message, true);
    channel?.ended('ended');
  }
});
vscode.postMessage({ type: 'ready' });
