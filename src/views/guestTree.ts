// The "Guests" tree: connection (host) → kind group → guest. Nodes are cached so a change fires
// only the nodes that changed.
import * as vscode from 'vscode';
import { Connection, GuestDiff } from '../core/connection';
import { Guest, GuestKind, KIND_LABEL } from '../core/model';
import { CMD } from '../extension/commandIds';
import { connectionChildren, connectionItemSpec, groupChildren, guestItemSpec, IconSpec, KIND_ICON } from '../core/treeModel';
import { HostObjectNode, HostObjects, isHostObjectNode } from './hostObjectsTree';

export class ConnectionNode {
  readonly kind = 'connection' as const;
  constructor(readonly conn: Connection) {}
}
export class GroupNode {
  readonly kind = 'group' as const;
  constructor(readonly parent: ConnectionNode, readonly guestKind: GuestKind) {}
}
export class GuestNode {
  readonly kind = 'guest' as const;
  constructor(readonly parent: GroupNode, readonly guestId: string) {}
  get conn(): Connection {
    return this.parent.parent.conn;
  }
  /** The current model of this guest (undefined once it vanished). */
  get guest(): Guest | undefined {
    return this.conn.guest(this.guestId);
  }
}
export class MessageNode {
  readonly kind = 'message' as const;
  constructor(
    readonly parent: ConnectionNode,
    readonly id: string,
    readonly label: string,
    readonly icon: vscode.ThemeIcon,
    readonly tooltip?: string,
    readonly command?: vscode.Command,
  ) {}
}
export type Node = ConnectionNode | GroupNode | GuestNode | MessageNode | HostObjectNode;

function icon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.id, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

export class GuestTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private connNodes = new Map<Connection, ConnectionNode>();
  private groupNodes = new Map<string, GroupNode>();
  private guestNodes = new Map<string, GuestNode>();
  /** Per watched connection: removes the tree's listeners from it. */
  private readonly subs = new Map<Connection, () => void>();
  /** Snapshots (and later storage, networks) under the guests and connections. */
  readonly hostObjects = new HostObjects((n) => this.emitter.fire(n));

  constructor(private connections: () => readonly Connection[]) {}

  /** Call when the set of connections changed (settings edited): the replaced ones are unwatched. */
  reset(): void {
    const live = new Set(this.connections());
    for (const [conn, off] of this.subs) {
      if (live.has(conn)) continue;
      off();
      this.subs.delete(conn);
    }
    this.connNodes.clear();
    this.groupNodes.clear();
    this.guestNodes.clear();
    this.emitter.fire();
  }

  /** Wires a connection's change events to precise tree updates. */
  watch(conn: Connection): void {
    if (this.subs.has(conn)) return;
    const onStatus = () => {
      const n = this.connNodes.get(conn);
      if (n) this.emitter.fire(n);
    };
    const onGuests = (d: GuestDiff) => this.onGuests(conn, d);
    conn.on('status', onStatus);
    conn.on('guests', onGuests);
    this.subs.set(conn, () => {
      conn.off('status', onStatus);
      conn.off('guests', onGuests);
    });
  }

  private onGuests(conn: Connection, d: GuestDiff): void {
    const cn = this.connNodes.get(conn);
    if (!cn) return;
    if (d.added.length || d.removed.length) {
      for (const id of d.removed) this.guestNodes.delete(`${conn.config.id}\0${id}`);
      // groups may appear or vanish: refresh the connection's subtree
      this.emitter.fire(cn);
      return;
    }
    for (const id of d.changed) {
      const n = this.guestNodes.get(`${conn.config.id}\0${id}`);
      const g = conn.guest(id);
      if (n && g && n.parent.guestKind === g.kind) this.emitter.fire(n);
      else this.emitter.fire(cn);
    }
  }

  connectionNode(conn: Connection): ConnectionNode {
    let n = this.connNodes.get(conn);
    if (!n) this.connNodes.set(conn, (n = new ConnectionNode(conn)));
    return n;
  }

  private groupNode(parent: ConnectionNode, kind: GuestKind): GroupNode {
    const key = `${parent.conn.config.id}\0${kind}`;
    let n = this.groupNodes.get(key);
    if (!n || n.parent !== parent) this.groupNodes.set(key, (n = new GroupNode(parent, kind)));
    return n;
  }

  guestNode(parent: GroupNode, id: string): GuestNode {
    const key = `${parent.parent.conn.config.id}\0${id}`;
    let n = this.guestNodes.get(key);
    if (!n || n.parent !== parent) this.guestNodes.set(key, (n = new GuestNode(parent, id)));
    return n;
  }

  /** Every guest node currently known (for quick picks). */
  allGuestNodes(): GuestNode[] {
    const out: GuestNode[] = [];
    for (const conn of this.connections()) {
      const cn = this.connectionNode(conn);
      for (const g of conn.guests.values()) out.push(this.guestNode(this.groupNode(cn, g.kind), g.id));
    }
    return out;
  }

  getParent(n: Node): Node | undefined {
    return n.kind === 'connection' ? undefined : n.parent;
  }

  getChildren(n?: Node): Node[] {
    if (!n) {
      return this.connections().map((c) => {
        if (c.status.state === 'idle') void c.start();
        return this.connectionNode(c);
      });
    }
    switch (n.kind) {
      case 'connection':
        return this.connectionChildren(n);
      case 'group':
        return groupChildren(n.parent.conn.guests.values(), n.guestKind).map((g) => this.guestNode(n, g.id));
      case 'guest':
        return this.hostObjects.guestChildren(n);
      default:
        return isHostObjectNode(n) ? this.hostObjects.childrenNow(n) : [];
    }
  }

  private connectionChildren(n: ConnectionNode): Node[] {
    return this.kindChildren(n).concat(this.hostObjects.connectionChildren(n));
  }

  private kindChildren(n: ConnectionNode): Node[] {
    return connectionChildren(n.conn.status, n.conn.guests.values()).map((c) =>
      c.type === 'group'
        ? this.groupNode(n, c.kind)
        : new MessageNode(n, c.id, c.label, icon(c.icon), c.tooltip, c.fix ? { command: CMD.connectionHelp, title: 'How to fix', arguments: [n] } : undefined),
    );
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'connection':
        return connectionItem(n);
      case 'group': {
        const guests = groupChildren(n.parent.conn.guests.values(), n.guestKind);
        const it = new vscode.TreeItem(KIND_LABEL[n.guestKind], vscode.TreeItemCollapsibleState.Expanded);
        it.id = `${n.parent.conn.config.id}/${n.guestKind}`;
        it.description = String(guests.length);
        it.iconPath = new vscode.ThemeIcon(KIND_ICON[n.guestKind]);
        it.contextValue = 'group';
        return it;
      }
      case 'guest':
        return guestItem(n, this.hostObjects.guestHasChildren(n));
      case 'message': {
        const it = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
        it.id = `${n.parent.conn.config.id}/!${n.id}`;
        it.iconPath = n.icon;
        it.tooltip = n.tooltip;
        it.command = n.command;
        it.contextValue = `message-${n.id}`;
        return it;
      }
      default:
        return this.hostObjects.item(n);
    }
  }

  dispose(): void {
    for (const off of this.subs.values()) off();
    this.subs.clear();
    this.emitter.dispose();
  }
}

function connectionItem(n: ConnectionNode): vscode.TreeItem {
  const c = n.conn;
  const spec = connectionItemSpec(c.label, c.config.uri ?? c.config.socketPath ?? c.config.lxcPath ?? '', c.status, c.guests.size);
  const it = new vscode.TreeItem(spec.label, vscode.TreeItemCollapsibleState.Expanded);
  it.id = `conn/${c.config.id}`;
  it.description = spec.description;
  it.iconPath = icon(spec.icon);
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.contextValue = spec.contextValue;
  return it;
}

function guestItem(n: GuestNode, expands = false): vscode.TreeItem {
  const g = n.guest;
  const it = new vscode.TreeItem(g?.name ?? n.guestId, expands ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  it.id = `${n.conn.config.id}/${n.guestId}`;
  if (!g) {
    it.description = 'gone';
    it.contextValue = 'guest gone';
    return it;
  }
  const spec = guestItemSpec(g, n.conn.label);
  it.description = spec.description;
  it.iconPath = icon(spec.icon);
  it.contextValue = spec.contextValue;
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.accessibilityInformation = { label: `${spec.label}, ${spec.description}` };
  return it;
}
