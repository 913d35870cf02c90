// What a host holds beside guests, as tree nodes: a guest's snapshots (a folder, then the snapshot
// tree: parent → children). guestTree.ts asks HostObjects for these nodes' children and items.
import * as vscode from 'vscode';
import { capabilitiesOf } from '../core/capabilities';
import type { Snapshots } from '../core/backends/libvirtSnapshots';
import { childrenByParent, SnapshotInfo } from '../core/snapshots/model';
import { snapshotItemSpec } from '../core/snapshots/itemSpec';
import type { GuestNode } from './guestTree';

/** "Snapshots" under a guest; holds the last listing (its snapshot nodes read from it). */
export class SnapshotsNode {
  readonly kind = 'snapshots' as const;
  /** The last listing, or the error that stopped it. */
  listing: { snaps: SnapshotInfo[]; by: Map<string, SnapshotInfo[]> } | { error: string } | undefined;
  constructor(readonly parent: GuestNode) {}
  get conn() {
    return this.parent.conn;
  }
  get guestName(): string {
    return this.parent.guest?.name ?? this.parent.guestId;
  }
  /** The snapshots capability, while the connection is up. */
  snapshots(): Snapshots | undefined {
    return snapshotsOf(this.parent);
  }
}

export class SnapshotNode {
  readonly kind = 'snapshot' as const;
  constructor(
    readonly parent: SnapshotsNode | SnapshotNode,
    readonly folder: SnapshotsNode,
    readonly info: SnapshotInfo,
  ) {}
  get children(): SnapshotInfo[] {
    const l = this.folder.listing;
    return l && 'by' in l ? (l.by.get(this.info.name) ?? []) : [];
  }
}

export type HostObjectNode = SnapshotsNode | SnapshotNode;

const HOST_OBJECT_KINDS = new Set(['snapshots', 'snapshot']);
export function isHostObjectNode(n: { kind: string }): n is HostObjectNode {
  return HOST_OBJECT_KINDS.has(n.kind);
}

/** The guest's snapshots capability, or undefined (not connected, or a kind without snapshots). */
export function snapshotsOf(g: GuestNode): Snapshots | undefined {
  const guest = g.guest;
  if (!guest || g.conn.status.state !== 'connected') return undefined;
  try {
    return capabilitiesOf(g.conn.requireBackend(), guest).snapshots;
  } catch {
    return undefined;
  }
}

export class HostObjects {
  private readonly folders = new Map<string, SnapshotsNode>();

  constructor(private readonly fire: (n?: HostObjectNode | GuestNode) => void) {}

  /** Whether a guest node expands (it has host objects under it). */
  guestHasChildren(g: GuestNode): boolean {
    return snapshotsOf(g) !== undefined;
  }

  guestChildren(g: GuestNode): HostObjectNode[] {
    return snapshotsOf(g) ? [this.snapshotsFolder(g)] : [];
  }

  snapshotsFolder(g: GuestNode): SnapshotsNode {
    const key = `${g.conn.config.id}\0${g.guestId}`;
    let n = this.folders.get(key);
    if (!n || n.parent !== g) this.folders.set(key, (n = new SnapshotsNode(g)));
    return n;
  }

  /** The children known now; a folder not listed yet starts listing and fires when done. */
  childrenNow(n: HostObjectNode): HostObjectNode[] {
    if (n.kind === 'snapshot') return n.children.map((s) => new SnapshotNode(n, n.folder, s));
    if (!n.listing) {
      void this.load(n).then(() => this.fire(n));
      return [];
    }
    return 'by' in n.listing ? (n.listing.by.get('') ?? []).map((s) => new SnapshotNode(n, n, s)) : [];
  }

  /** The children once listed (for tests and commands). */
  async children(n: HostObjectNode): Promise<HostObjectNode[]> {
    if (n.kind === 'snapshots' && !n.listing) await this.load(n);
    return this.childrenNow(n);
  }

  private loading = new Map<SnapshotsNode, Promise<void>>();

  private load(n: SnapshotsNode): Promise<void> {
    let p = this.loading.get(n);
    if (!p) {
      p = this.list(n).finally(() => this.loading.delete(n));
      this.loading.set(n, p);
    }
    return p;
  }

  private async list(n: SnapshotsNode): Promise<void> {
    const cap = n.snapshots();
    if (!cap) return void (n.listing = { error: 'not connected' });
    try {
      const snaps = await cap.list();
      n.listing = { snaps, by: childrenByParent(snaps) };
    } catch (e) {
      n.listing = { error: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Lists the folder's snapshots again (after a verb). */
  refresh(n: SnapshotsNode): void {
    n.listing = undefined;
    this.fire(n);
  }

  item(n: HostObjectNode): vscode.TreeItem {
    return n.kind === 'snapshots' ? folderItem(n) : snapshotItem(n);
  }
}

function folderItem(n: SnapshotsNode): vscode.TreeItem {
  const it = new vscode.TreeItem('Snapshots', vscode.TreeItemCollapsibleState.Collapsed);
  it.id = `${n.conn.config.id}/${n.parent.guestId}/snapshots`;
  it.iconPath = new vscode.ThemeIcon('history');
  const l = n.listing;
  if (l && 'error' in l) {
    it.description = 'cannot list';
    it.tooltip = l.error;
  } else {
    it.description = l ? String(l.snaps.length) : 'loading…';
  }
  it.contextValue = 'snapshots';
  return it;
}

function snapshotItem(n: SnapshotNode): vscode.TreeItem {
  const kids = n.children.length;
  const spec = snapshotItemSpec(n.info, kids);
  const it = new vscode.TreeItem(spec.label, kids ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  it.id = `${n.folder.conn.config.id}/${n.folder.parent.guestId}/snapshot/${n.info.name}`;
  it.description = spec.description;
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.contextValue = spec.contextValue;
  it.iconPath = new vscode.ThemeIcon(spec.icon, n.info.current ? new vscode.ThemeColor('charts.green') : undefined);
  return it;
}
