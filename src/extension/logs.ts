// Show Guest Log: a guest's log as a read-only document (`virtscope-log:` scheme) that follows new
// lines while it is open. Editors that showed the end keep showing it as lines arrive. Closing the
// document stops following.
import * as vscode from 'vscode';
import { requireCapability } from '../core/capabilities';
import { canShowLog } from '../core/console/allowed';
import type { LogFollow } from '../core/console/types';
import type { GuestNode } from '../views/guestTree';
import { CommandsDeps } from './commands';
import type { GuestRef } from '../core/inventory';
import { pickGuest } from './pickers';
import { vscodeUi } from './vscodeUi';
import type { Connections } from './connections';

export const LOG_SCHEME = 'virtscope-log';
/** Lines shown from before opening. */
const INITIAL_LINES = 1000;
/** The document keeps the last this-many characters. */
const MAX_CHARS = 4 * 1024 * 1024;
const UPDATE_MS = 200;

interface Followed {
  text: string;
  /** Editors that showed the last line when the text last changed: they follow it once VS Code has the new text. */
  atEnd: vscode.TextEditor[];
  follow?: LogFollow;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

export class GuestLogs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly docs = new Map<string, Followed>();
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly connections: Connections,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs = [
      vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, this),
      vscode.workspace.onDidCloseTextDocument((d) => d.uri.scheme === LOG_SCHEME && this.stop(d.uri.toString())),
      vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.scheme === LOG_SCHEME && this.followEnd(e.document)),
    ];
  }

  static uri(connectionId: string, guestName: string, guestId: string): vscode.Uri {
    return vscode.Uri.from({
      scheme: LOG_SCHEME,
      path: `/${connectionId}/${guestName}.log`,
      query: new URLSearchParams({ conn: connectionId, id: guestId }).toString(),
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const key = uri.toString();
    let doc = this.docs.get(key);
    if (!doc) {
      doc = { text: '', atEnd: [], stopped: false };
      this.docs.set(key, doc);
      void this.start(uri, doc);
    }
    return doc.text;
  }

  private async start(uri: vscode.Uri, doc: Followed): Promise<void> {
    const q = new URLSearchParams(uri.query);
    const conn = this.connections.byId(q.get('conn') ?? '');
    const id = q.get('id') ?? '';
    try {
      if (!conn) throw new Error(`the connection "${q.get('conn')}" is gone`);
      const g = conn.guest(id);
      if (!g) throw new Error(`the guest is gone from ${conn.label}`);
      const follow = await requireCapability(conn.requireBackend(), g, 'log').follow({ lines: INITIAL_LINES });
      if (doc.stopped) return void follow.stop();
      doc.follow = follow;
      this.log.info(`Show Guest Log: following ${follow.source}`);
      follow.output.on('data', (d: Buffer | string) => this.append(uri, doc, d.toString()));
      void follow.ended.then(() => !doc.stopped && this.append(uri, doc, `\n[virtscope] the log of ${follow.source} ended.\n`));
    } catch (e) {
      const hint = (e as { hint?: string }).hint;
      this.append(uri, doc, `[virtscope] cannot show this log: ${e instanceof Error ? e.message : String(e)}${hint ? `\n[virtscope] ${hint}` : ''}\n`);
    }
  }

  private append(uri: vscode.Uri, doc: Followed, text: string): void {
    doc.text += text;
    if (doc.text.length > MAX_CHARS) doc.text = doc.text.slice(doc.text.length - MAX_CHARS);
    doc.timer ??= setTimeout(() => {
      doc.timer = undefined;
      doc.atEnd = vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri.toString() && showsEnd(e));
      this.changed.fire(uri);
    }, UPDATE_MS);
  }

  private followEnd(document: vscode.TextDocument): void {
    const doc = this.docs.get(document.uri.toString());
    if (!doc) return;
    const end = new vscode.Range(document.lineCount, 0, document.lineCount, 0);
    for (const e of doc.atEnd) e.revealRange(end, vscode.TextEditorRevealType.Default);
    doc.atEnd = [];
  }

  private stop(key: string): void {
    const doc = this.docs.get(key);
    if (!doc) return;
    doc.stopped = true;
    clearTimeout(doc.timer);
    void doc.follow?.stop();
    this.docs.delete(key);
  }

  dispose(): void {
    for (const key of [...this.docs.keys()]) this.stop(key);
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}

function showsEnd(e: vscode.TextEditor): boolean {
  const last = e.visibleRanges.at(-1);
  return !last || last.end.line >= e.document.lineCount - 2;
}

export async function showGuestLog(ctx: CommandsDeps, node?: GuestNode | GuestRef): Promise<void> {
  node ??= await pickGuest(vscodeUi, ctx.model, { title: 'virtscope: Show Guest Log', filter: canShowLog });
  const g = node?.guest;
  if (!node || !g) return;
  const doc = await vscode.workspace.openTextDocument(GuestLogs.uri(node.conn.config.id, g.name, g.id));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  editor.revealRange(new vscode.Range(doc.lineCount, 0, doc.lineCount, 0));
}
