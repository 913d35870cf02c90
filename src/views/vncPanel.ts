// The graphical console panel: a webview with noVNC (dist/vnc.js) whose bytes go through the core
// bridge (src/core/console/vncBridge.ts) to the guest's VNC display. The stream opens when the
// webview says it is ready; closing the panel closes it; its end is shown in the panel.
import * as vscode from 'vscode';
import type { Duplex } from 'node:stream';
import { webviewNonce } from '../core/nonce';
import { VncBridge } from '../core/console/vncBridge';
import { MAX_CLIPBOARD, validFromWebview, vncPage, type ToWebview } from '../protocol/vnc';

export const VIEW_GRAPHICS = 'virtscope.graphicalConsole';

export interface VncPanelOptions {
  extensionUri: vscode.Uri;
  /** "labvm on this machine". */
  title: string;
  /** Opens the byte stream to the display (called once the webview is ready). */
  open: () => Promise<{ stream: Duplex; where: string }>;
  /** Why the stream ended, in words (asks the guest's state). */
  endMessage: (why: string | undefined) => Promise<string>;
  log: vscode.LogOutputChannel;
}

/** The page: strict CSP with a nonce and no connect-src (the webview opens no socket). */
export function vncHtml(webview: Pick<vscode.Webview, 'asWebviewUri' | 'cspSource'>, extensionUri: vscode.Uri, title: string): string {
  const dist = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', f)).toString();
  return vncPage({ nonce: webviewNonce(), cspSource: webview.cspSource, script: dist('vnc.js'), style: dist('vnc.css'), title });
}

/** Opens a panel showing one guest's screen. */
export function openVncPanel(o: VncPanelOptions): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(VIEW_GRAPHICS, `Screen: ${o.title}`, vscode.ViewColumn.Active, {
    enableScripts: true,
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(o.extensionUri, 'dist')],
  });
  panel.webview.html = vncHtml(panel.webview, o.extensionUri, `Screen: ${o.title}`);
  const post = (m: ToWebview) => void panel.webview.postMessage(m);
  let bridge: VncBridge | undefined;
  let generation = 0;
  let disposed = false;
  // every 'ready' starts a new RFB session: a webview moved to another editor group is reloaded
  const start = async () => {
    const mine = ++generation;
    const old = bridge;
    bridge = undefined;
    old?.close();
    try {
      const { stream, where } = await o.open();
      if (disposed || mine !== generation) return void stream.destroy();
      const b: VncBridge = new VncBridge(stream, post, {
        onEnd: (why) => {
          if (!disposed && bridge === b) void o.endMessage(why).then((message) => !disposed && bridge === b && post({ type: 'end', message }));
          o.log.info(`Graphical console: ${o.title} closed${why ? ` (${why})` : ''}`);
        },
        onInvalid: () => o.log.warn('Graphical console: dropped an invalid message from the webview'),
      });
      bridge = b;
      o.log.info(`Graphical console: ${o.title} open (${where})`);
      post({ type: 'open', title: o.title });
    } catch (e) {
      if (mine === generation) post({ type: 'end', message: `Could not open the screen: ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  const onMessage = async (raw: unknown) => {
    const m = bridge ? bridge.receive(raw) : validFromWebview(raw);
    if (m?.type === 'ready') await start();
    else if (m?.type === 'clipboard') await vscode.env.clipboard.writeText(m.text);
    else if (m?.type === 'paste') post({ type: 'clipboard', text: (await vscode.env.clipboard.readText()).slice(0, MAX_CLIPBOARD) });
  };
  const sub = panel.webview.onDidReceiveMessage((raw) => void onMessage(raw).catch((e) => o.log.error(`Graphical console: ${(e as Error).message}`)));
  panel.onDidDispose(() => {
    disposed = true;
    sub.dispose();
    bridge?.close();
  });
  return panel;
}
