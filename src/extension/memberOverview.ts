// Member Overview: an LXD cluster member's (or standalone server's) load and its instances' CPU,
// memory and I/O, as a read-only Markdown document shown in the preview. The document is virtual
// (no file, nothing to save); running the command again reads it anew.
import * as vscode from 'vscode';
import type { MemberNode } from '../views/guestTree';
import { clusterOfNode, type LxdDeps } from './lxd';

export const OVERVIEW_SCHEME = 'virtscope-overview';

/** The documents' text, by URI; filled before a document is opened. */
export class OverviewDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '# Run "Member Overview" again to read it.\n';
  }

  register(): vscode.Disposable {
    return vscode.Disposable.from(vscode.workspace.registerTextDocumentContentProvider(OVERVIEW_SCHEME, this), this.changed);
  }
}

/** Member Overview: from a member's context menu, or the palette (a pick of the cluster and member). */
export async function memberOverview(deps: LxdDeps, docs: OverviewDocuments, node?: unknown): Promise<void> {
  const c = await clusterOfNode(deps, node, 'Member Overview');
  if (!c) return;
  let member: string | undefined = (node as MemberNode | undefined)?.kind === 'member' ? (node as MemberNode).name : undefined;
  if (member === undefined && c.conn.members.length) {
    const pick = await vscode.window.showQuickPick(
      c.conn.members.map((m) => ({ label: m.name, description: [m.rawStatus, m.load].filter(Boolean).join(' · ') })),
      { title: `Member Overview: which member of ${c.conn.label}?` },
    );
    if (!pick) return;
    member = pick.label;
  }
  const what = member ?? c.conn.label;
  let cancelled = false;
  try {
    const text = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Member Overview: reading ${what}`, cancellable: true },
      async (_p, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ((cancelled = true), ac.abort()));
        try {
          return await c.cluster.overview(member, { signal: ac.signal });
        } finally {
          sub.dispose();
        }
      },
    );
    const uri = vscode.Uri.from({ scheme: OVERVIEW_SCHEME, path: `/${c.conn.config.id}/${what}.md` });
    docs.set(uri, text);
    deps.log.info(`${c.conn.label}: Member Overview of ${what}`);
    await vscode.commands.executeCommand('markdown.showPreview', uri).then(undefined, async () => {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
    });
  } catch (e) {
    if (cancelled) return;
    const msg = e instanceof Error ? e.message : String(e);
    deps.log.error(`${c.conn.label}: Member Overview of ${what} failed: ${msg}`);
    void vscode.window.showErrorMessage(`Member Overview of ${what} failed: ${msg}`);
  }
}
