// The "Guests" tree renders the model (core/inventory.ts): host → connection → kind group → guest,
// and beside the hosts each cluster: cluster → [project] → [member] → guest (core/clusterTree.ts). It
// starts nothing and owns nothing; it listens to the model's typed events once and fires only the
// nodes that changed. Other features add nodes under connections and guests (snapshots, storage,
// networks…) through addChildProvider, without editing this file.
import * as vscode from 'vscode';
import { Connection, GuestDiff } from '../core/connection';
import { Inventory, ModelHost } from '../core/inventory';
import { ClusterMember, Guest, GuestKind, KIND_LABEL } from '../core/model';
import {
  ClusterChild,
  clusterChildren,
  ClusterGrouping,
  ClusterItemSpec,
  clusterItemSpec,
  clusterPath,
  levelChildren,
  memberGuests,
  memberItemSpec,
} from '../core/clusterTree';
import { CMD } from '../extension/commandIds';
import { connectionChildren, connectionItemSpec, groupChildren, guestItemSpec, hostChildren, hostItemSpec, IconSpec, KIND_ICON } from '../core/treeModel';
import { HostObjectNode, HostObjects, isHostObjectNode } from './hostObjectsTree';

export class HostNode {
  readonly kind = 'host' as const;
  readonly parent = undefined;
  constructor(readonly host: ModelHost) {}
}
export class ConnectionNode {
  readonly kind = 'connection' as const;
  constructor(
    readonly parent: HostNode,
    readonly conn: Connection,
  ) {}
}
/** A node below a connection or cluster: its connection is its parent's. */
abstract class NodeUnder<P extends { readonly conn: Connection }> {
  constructor(readonly parent: P) {}
  get conn(): Connection {
    return this.parent.conn;
  }
}
export class GroupNode extends NodeUnder<ConnectionNode> {
  readonly kind = 'group' as const;
  constructor(
    parent: ConnectionNode,
    readonly guestKind: GuestKind,
  ) {
    super(parent);
  }
}
/** A cluster (LXD/Incus): one root beside the hosts. */
export class ClusterNode {
  readonly kind = 'cluster' as const;
  readonly parent = undefined;
  constructor(readonly conn: Connection) {}
}
/** A project of a cluster, shown only when the cluster has several. */
export class ProjectNode extends NodeUnder<ClusterNode> {
  readonly kind = 'project' as const;
  constructor(
    parent: ClusterNode,
    readonly project: string,
  ) {
    super(parent);
  }
}
/** A member of a cluster (in one project, under a project level). */
export class MemberNode extends NodeUnder<ClusterNode | ProjectNode> {
  readonly kind = 'member' as const;
  constructor(
    parent: ClusterNode | ProjectNode,
    readonly name: string,
  ) {
    super(parent);
  }
  get project(): string | undefined {
    return this.parent.kind === 'project' ? this.parent.project : undefined;
  }
  /** The member as last listed (undefined once it left the cluster). */
  get member(): ClusterMember | undefined {
    return this.conn.members.find((m) => m.name === this.name);
  }
}
export class GuestNode extends NodeUnder<GroupNode | ClusterNode | ProjectNode | MemberNode> {
  readonly kind = 'guest' as const;
  constructor(
    parent: GroupNode | ClusterNode | ProjectNode | MemberNode,
    readonly guestId: string,
  ) {
    super(parent);
  }
  /** The current model of this guest (undefined once it vanished). */
  get guest(): Guest | undefined {
    return this.conn.guest(this.guestId);
  }
}
export class MessageNode {
  readonly kind = 'message' as const;
  constructor(
    readonly parent: HostNode | ConnectionNode | ClusterNode | ProjectNode,
    readonly id: string,
    readonly label: string,
    readonly icon: vscode.ThemeIcon,
    readonly tooltip?: string,
    readonly command?: vscode.Command,
  ) {}
}

/** A node another feature adds (a snapshot, a storage pool…): it renders itself. */
export interface ExtraNode {
  readonly kind: 'extra';
  readonly parent: Node;
  treeItem(): vscode.TreeItem;
  children?(): readonly Node[];
}

/** Adds children under connections and guests. Call the tree's refresh(node) when they change. */
export interface TreeChildProvider {
  /** Extra children of `parent`, after the tree's own ([] for none). */
  children(parent: ConnectionNode | GuestNode): readonly ExtraNode[];
  /** Does this guest have children of this provider? (its row becomes expandable) */
  hasChildren?(guest: GuestNode): boolean;
}

export type Node = HostNode | ConnectionNode | GroupNode | ClusterNode | ProjectNode | MemberNode | GuestNode | MessageNode | ExtraNode | HostObjectNode;
/** Any node of the tree (what a command from a context menu receives). */
export type AnyNode = Node;

function icon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.id, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

export class GuestTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private hostNodes = new Map<ModelHost, HostNode>();
  private connNodes = new Map<Connection, ConnectionNode>();
  private groupNodes = new Map<string, GroupNode>();
  private guestNodes = new Map<string, GuestNode>();
  private clusterNodes = new Map<Connection, ClusterNode>();
  /** Project and member nodes of clusters, by connection id, project and member. */
  private levelNodes = new Map<string, ProjectNode | MemberNode>();
  /** Cluster instances by member, or flat (the view's toggle). */
  private grouping: ClusterGrouping = 'member';
  private readonly providers = new Set<TreeChildProvider>();
  /** Snapshots under guests; Storage and Networks under libvirt connections. */
  readonly hostObjects = new HostObjects((n) => this.emitter.fire(n));
  /** Removes the tree's listeners from the model. */
  private readonly unsubscribe: () => void;

  constructor(private readonly model: Inventory) {
    const onHosts = () => {
      this.prune();
      this.emitter.fire();
    };
    const onHost = (h: ModelHost) => {
      this.prune();
      this.fire(this.hostNodes.get(h) ?? undefined);
    };
    const onStatus = (c: Connection) => this.fire(this.connNodes.get(c) ?? this.clusterNodes.get(c));
    const onGuests = (c: Connection, d: GuestDiff) => this.onGuests(c, d);
    const onMembers = (c: Connection) => this.fire(this.clusterNodes.get(c));
    model.on('hosts', onHosts);
    model.on('host', onHost);
    model.on('status', onStatus);
    model.on('guests', onGuests);
    model.on('clusters', onHosts);
    model.on('members', onMembers);
    this.unsubscribe = () => {
      model.off('hosts', onHosts);
      model.off('host', onHost);
      model.off('status', onStatus);
      model.off('guests', onGuests);
      model.off('clusters', onHosts);
      model.off('members', onMembers);
    };
  }

  /** Redraws `node` (and below), or the whole tree. For child providers whose nodes changed. */
  refresh(node?: Node): void {
    this.emitter.fire(node);
  }

  addChildProvider(p: TreeChildProvider): vscode.Disposable {
    this.providers.add(p);
    this.emitter.fire();
    return { dispose: () => void (this.providers.delete(p), this.emitter.fire()) };
  }

  private fire(n: Node | undefined): void {
    if (n) this.emitter.fire(n);
  }

  /** Cluster instances by member or flat. */
  get clusterGrouping(): ClusterGrouping {
    return this.grouping;
  }

  setClusterGrouping(g: ClusterGrouping): void {
    if (g === this.grouping) return;
    this.grouping = g;
    for (const n of this.clusterNodes.values()) this.emitter.fire(n);
  }

  /** Hosts came or went: every cached node is dropped and the tree redrawn. */
  reset(): void {
    this.hostNodes.clear();
    this.connNodes.clear();
    this.groupNodes.clear();
    this.guestNodes.clear();
    this.clusterNodes.clear();
    this.levelNodes.clear();
    this.emitter.fire();
  }

  /** Drops cached nodes of hosts and connections the model no longer has; the others keep their nodes. */
  private prune(): void {
    const hosts = new Set(this.model.hosts);
    for (const h of this.hostNodes.keys()) if (!hosts.has(h)) this.hostNodes.delete(h);
    const live = new Set(this.model.connections);
    for (const c of this.connNodes.keys()) if (!live.has(c)) this.connNodes.delete(c);
    for (const c of this.clusterNodes.keys()) if (!live.has(c)) this.clusterNodes.delete(c);
  }

  private onGuests(conn: Connection, d: GuestDiff): void {
    const cn = this.connNodes.get(conn) ?? this.clusterNodes.get(conn);
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
      // a guest that moved (another kind group, another member) is redrawn with its whole root
      if (n && g && this.nodeOf(conn, id) === n) this.emitter.fire(n);
      else this.emitter.fire(cn);
    }
  }

  hostNode(h: ModelHost): HostNode {
    let n = this.hostNodes.get(h);
    if (!n) this.hostNodes.set(h, (n = new HostNode(h)));
    return n;
  }

  connectionNode(conn: Connection): ConnectionNode {
    let n = this.connNodes.get(conn);
    if (n) return n;
    const h = this.model.hostOf(conn);
    if (!h) throw new Error(`${conn.config.id} is not in the model`);
    this.connNodes.set(conn, (n = new ConnectionNode(this.hostNode(h), conn)));
    return n;
  }

  private groupNode(parent: ConnectionNode, kind: GuestKind): GroupNode {
    const key = `${parent.conn.config.id}\0${kind}`;
    let n = this.groupNodes.get(key);
    if (!n || n.parent !== parent) this.groupNodes.set(key, (n = new GroupNode(parent, kind)));
    return n;
  }

  clusterNode(conn: Connection): ClusterNode {
    let n = this.clusterNodes.get(conn);
    if (!n) this.clusterNodes.set(conn, (n = new ClusterNode(conn)));
    return n;
  }

  private projectNode(parent: ClusterNode, project: string): ProjectNode {
    const key = `${parent.conn.config.id}\0${project}`;
    const n = this.levelNodes.get(key);
    if (n?.kind === 'project' && n.parent === parent) return n;
    const made = new ProjectNode(parent, project);
    this.levelNodes.set(key, made);
    return made;
  }

  private memberNode(parent: ClusterNode | ProjectNode, name: string): MemberNode {
    const key = `${parent.conn.config.id}\0${parent.kind === 'project' ? parent.project : ''}\0${name}`;
    const n = this.levelNodes.get(key);
    if (n?.kind === 'member' && n.parent === parent) return n;
    const made = new MemberNode(parent, name);
    this.levelNodes.set(key, made);
    return made;
  }

  private guestNode(parent: GuestNode['parent'], id: string): GuestNode {
    const key = `${parent.conn.config.id}\0${id}`;
    let n = this.guestNodes.get(key);
    if (!n || n.parent !== parent) this.guestNodes.set(key, (n = new GuestNode(parent, id)));
    return n;
  }

  /** The tree nodes of the model's guests (commands that act on host objects under them). */
  allGuests(): GuestNode[] {
    return this.model.guests().flatMap((r) => this.nodeOf(r.conn, r.guestId) ?? []);
  }

  /** The tree node of a guest of the model (to reveal it, or for tests). */
  nodeOf(conn: Connection, guestId: string): GuestNode | undefined {
    const g = conn.guest(guestId);
    if (!g) return undefined;
    if (this.model.clusters.includes(conn)) {
      const where = clusterPath(conn.members, conn.guests.values(), g, this.grouping);
      const root = this.clusterNode(conn);
      const level = where.project !== undefined ? this.projectNode(root, where.project) : root;
      return this.guestNode(where.member !== undefined ? this.memberNode(level, where.member) : level, guestId);
    }
    if (!this.model.hostOf(conn)) return undefined;
    return this.guestNode(this.groupNode(this.connectionNode(conn), g.kind), guestId);
  }

  getParent(n: Node): Node | undefined {
    return n.parent;
  }

  getChildren(n?: Node): Node[] {
    if (!n) return [...this.model.hosts.map((h) => this.hostNode(h)), ...this.model.clusters.map((c) => this.clusterNode(c))];
    switch (n.kind) {
      case 'cluster':
        return this.clusterLevel(n, clusterChildren(n.conn.status, n.conn.members, n.conn.guests.values(), this.grouping));
      case 'project':
        return this.clusterLevel(n, levelChildren(n.conn.members, n.conn.guests.values(), this.grouping, n.project));
      case 'member':
        return memberGuests(n.conn.guests.values(), n.name, n.project).map((g) => this.guestNode(n, g.id));
      case 'host':
        return this.hostChildren(n);
      case 'connection':
        return [...this.connectionChildren(n), ...this.hostObjects.connectionChildren(n), ...this.extras(n)];
      case 'group':
        return groupChildren(n.parent.conn.guests.values(), n.guestKind).map((g) => this.guestNode(n, g.id));
      case 'guest':
        return [...this.hostObjects.guestChildren(n), ...this.extras(n)];
      case 'extra':
        return [...(n.children?.() ?? [])];
      default:
        return isHostObjectNode(n) ? this.hostObjects.childrenNow(n) : [];
    }
  }

  private clusterLevel(n: ClusterNode | ProjectNode, children: ClusterChild[]): Node[] {
    return children.map((c): Node => {
      switch (c.type) {
        case 'project':
          return this.projectNode(n as ClusterNode, c.project);
        case 'member':
          return this.memberNode(n, c.member.name);
        case 'guest':
          return this.guestNode(n, c.guest.id);
        default:
          return new MessageNode(
            n,
            c.id,
            c.label,
            icon(c.icon),
            c.tooltip,
            c.fix ? { command: CMD.connectionHelp, title: 'How to fix', arguments: [n] } : undefined,
          );
      }
    });
  }

  private extras(n: ConnectionNode | GuestNode): Node[] {
    return [...this.providers].flatMap((p) => [...p.children(n)]);
  }

  private hostChildren(n: HostNode): Node[] {
    return hostChildren(n.host).flatMap((c): Node[] => {
      if (c.type === 'connections') return n.host.connections.map((conn) => this.connectionNode(conn));
      const command =
        c.action === 'reconnect'
          ? { command: CMD.hostReconnect, title: 'Reconnect', arguments: [n] }
          : c.action === 'addConnection'
            ? { command: CMD.connectionAdd, title: 'Add Connection', arguments: [] }
            : undefined;
      return [new MessageNode(n, c.id, c.label, icon(c.icon), c.tooltip, command)];
    });
  }

  private connectionChildren(n: ConnectionNode): Node[] {
    return connectionChildren(n.conn.status, n.conn.guests.values()).map((c) =>
      c.type === 'group'
        ? this.groupNode(n, c.kind)
        : new MessageNode(n, c.id, c.label, icon(c.icon), c.tooltip, c.fix ? { command: CMD.connectionHelp, title: 'How to fix', arguments: [n] } : undefined),
    );
  }

  getTreeItem(n: Node): vscode.TreeItem {
    switch (n.kind) {
      case 'host':
        return hostItem(n);
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
      case 'guest': {
        const it = guestItem(n);
        if (n.guest && (this.hostObjects.guestHasChildren(n) || [...this.providers].some((p) => p.hasChildren?.(n))))
          it.collapsibleState = vscode.TreeItemCollapsibleState.Collapsed;
        return it;
      }
      case 'cluster': {
        const c = n.conn;
        const spec = clusterItemSpec(c.label, c.config.url ?? c.config.socketPath ?? '', c.status, c.members, c.guests.size, this.grouping);
        return specItem(spec, `cluster/${c.config.id}`, vscode.TreeItemCollapsibleState.Expanded);
      }
      case 'project': {
        const count = [...n.conn.guests.values()].filter((g) => (g.project ?? 'default') === n.project).length;
        const spec = {
          label: n.project,
          description: `${count} instance${count === 1 ? '' : 's'}`,
          icon: { id: 'folder' },
          contextValue: 'project',
          tooltip: `Project **${n.project}**`,
        };
        return specItem(spec, `cluster/${n.conn.config.id}/project/${n.project}`, vscode.TreeItemCollapsibleState.Expanded);
      }
      case 'member': {
        const m = n.member ?? { name: n.name, status: 'unknown', rawStatus: 'gone', message: 'no longer in the cluster', roles: [] };
        const spec = memberItemSpec(m, memberGuests(n.conn.guests.values(), n.name, n.project).length);
        return specItem(spec, `cluster/${n.conn.config.id}/${n.project ?? ''}/member/${n.name}`, vscode.TreeItemCollapsibleState.Expanded);
      }
      case 'message': {
        const it = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
        const p = n.parent;
        it.id = `${p.kind === 'host' ? `host/${p.host.id}` : p.kind === 'project' ? `${p.conn.config.id}/${p.project}` : p.conn.config.id}/!${n.id}`;
        it.iconPath = n.icon;
        it.tooltip = n.tooltip;
        it.command = n.command;
        it.contextValue = `message-${n.id}`;
        return it;
      }
      case 'extra':
        return n.treeItem();
      default:
        return this.hostObjects.item(n);
    }
  }

  dispose(): void {
    this.unsubscribe();
    this.hostObjects.dispose();
    this.emitter.dispose();
  }
}

function hostItem(n: HostNode): vscode.TreeItem {
  const spec = hostItemSpec(n.host);
  const it = new vscode.TreeItem(spec.label, vscode.TreeItemCollapsibleState.Expanded);
  it.id = `host/${n.host.id}`;
  it.description = spec.description;
  it.iconPath = icon(spec.icon);
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.contextValue = spec.contextValue;
  // read out as "name, state", as guests are
  if (spec.description) it.accessibilityInformation = { label: `${spec.label}, ${spec.description}` };
  return it;
}

/** A cluster, project or member row from its spec; read out as "name, state". */
function specItem(spec: ClusterItemSpec, id: string, state: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const it = new vscode.TreeItem(spec.label, state);
  it.id = id;
  it.description = spec.description;
  it.iconPath = icon(spec.icon);
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.contextValue = spec.contextValue;
  it.accessibilityInformation = { label: `${spec.label}, ${spec.description}` };
  return it;
}

function connectionItem(n: ConnectionNode): vscode.TreeItem {
  const c = n.conn;
  const spec = connectionItemSpec(c.label, c.config.uri ?? c.config.socketPath ?? c.config.lxcPath ?? '', c.status, c.guests.size, !n.parent.host.remote);
  const it = new vscode.TreeItem(spec.label, vscode.TreeItemCollapsibleState.Expanded);
  it.id = `conn/${c.config.id}`;
  it.description = spec.description;
  it.iconPath = icon(spec.icon);
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.contextValue = spec.contextValue;
  return it;
}

function guestItem(n: GuestNode): vscode.TreeItem {
  const g = n.guest;
  const it = new vscode.TreeItem(g?.name ?? n.guestId, vscode.TreeItemCollapsibleState.None);
  it.id = `${n.conn.config.id}/${n.guestId}`;
  if (!g) {
    it.description = 'gone';
    it.contextValue = 'guest gone';
    return it;
  }
  const spec = guestItemSpec(g, n.conn.label);
  // a cluster's instance not under its member row says where it runs
  it.description = g.location && n.parent.kind !== 'member' && n.parent.kind !== 'group' ? `${spec.description} · ${g.location}` : spec.description;
  it.iconPath = icon(spec.icon);
  it.contextValue = spec.contextValue;
  it.tooltip = new vscode.MarkdownString(spec.tooltip);
  it.accessibilityInformation = { label: `${spec.label}, ${spec.description}` };
  return it;
}
