// What a host holds beside guests, as tree nodes: a guest's snapshots (a folder, then the snapshot
// tree: parent → children). guestTree.ts asks HostObjects for these nodes' children and items.
import * as vscode from 'vscode';
import { capabilitiesOf } from '../core/capabilities';
import type { Snapshots } from '../core/snapshots/snapshots';
import { childrenByParent, SnapshotInfo } from '../core/snapshots/model';
import { snapshotItemSpec } from '../core/snapshots/itemSpec';
import type { Networks, Storage } from '../core/backends/libvirtStorage';
import type { Capabilities } from '../core/capabilities';
import { LeaseView, NetworkView, PoolView, VolumeView } from '../core/storage/model';
import { leaseItemSpec, networkItemSpec, ObjectItemSpec, poolItemSpec, volumeItemSpec } from '../core/storage/itemSpec';
import type { ConnectionNode, GuestNode } from './guestTree';

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

export type HostObjectNode = SnapshotsNode | SnapshotNode | ConnectionObjectNode;

const HOST_OBJECT_KINDS = new Set(['snapshots', 'snapshot', 'storage', 'pool', 'volume', 'networks', 'network', 'lease']);
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
  /** Storage and Networks under the libvirt connections. */
  readonly onConnection: ConnectionObjects;

  constructor(private readonly fire: (n?: HostObjectNode | GuestNode) => void) {
    this.onConnection = new ConnectionObjects(fire);
  }

  connectionChildren(n: ConnectionNode): HostObjectNode[] {
    return this.onConnection.connectionChildren(n);
  }

  dispose(): void {
    this.onConnection.dispose();
  }

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
    if (n.kind !== 'snapshot' && n.kind !== 'snapshots') return this.onConnection.childrenNow(n);
    if (n.kind === 'snapshot') return n.children.map((s) => new SnapshotNode(n, n.folder, s));
    if (!n.listing) {
      void this.load(n).then(() => this.fire(n));
      return [];
    }
    return 'by' in n.listing ? (n.listing.by.get('') ?? []).map((s) => new SnapshotNode(n, n, s)) : [];
  }

  /** The children once listed (for tests and commands). */
  async children(n: HostObjectNode): Promise<HostObjectNode[]> {
    if (n.kind !== 'snapshot' && n.kind !== 'snapshots') return this.onConnection.children(n);
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
    if (n.kind !== 'snapshot' && n.kind !== 'snapshots') return this.onConnection.item(n);
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
    it.description = l ? String(l.snaps.length) : '';
  }
  it.contextValue = 'snapshots';
  it.accessibilityInformation = { label: `Snapshots, ${it.description}` };
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
  it.accessibilityInformation = { label: `${spec.label}, ${spec.description}` };
  return it;
}

// ---- storage and networks of a libvirt connection ---------------------------------------------

type Listing<T> = { items: T[] } | { error: string } | undefined;

/** "Storage" under a libvirt connection: its pools. */
export class StorageNode {
  readonly kind = 'storage' as const;
  listing: Listing<PoolView>;
  constructor(readonly parent: ConnectionNode) {}
  storage(): Storage | undefined {
    return connectionCapability(this.parent, 'storage');
  }
}

export class PoolNode {
  readonly kind = 'pool' as const;
  listing: Listing<VolumeView>;
  constructor(
    readonly parent: StorageNode,
    readonly view: PoolView,
  ) {}
}

export class VolumeNode {
  readonly kind = 'volume' as const;
  constructor(
    readonly parent: PoolNode,
    readonly view: VolumeView,
  ) {}
}

/** "Networks" under a libvirt connection. */
export class NetworksNode {
  readonly kind = 'networks' as const;
  listing: Listing<NetworkView>;
  constructor(readonly parent: ConnectionNode) {}
  networks(): Networks | undefined {
    return connectionCapability(this.parent, 'networks');
  }
}

export class NetworkNode {
  readonly kind = 'network' as const;
  constructor(
    readonly parent: NetworksNode,
    readonly view: NetworkView,
  ) {}
}

export class LeaseNode {
  readonly kind = 'lease' as const;
  constructor(
    readonly parent: NetworkNode,
    readonly lease: LeaseView,
  ) {}
}

export type ConnectionObjectNode = StorageNode | PoolNode | VolumeNode | NetworksNode | NetworkNode | LeaseNode;

function connectionCapability<K extends 'storage' | 'networks'>(n: ConnectionNode, name: K): Capabilities[K] | undefined {
  if (n.conn.status.state !== 'connected') return undefined;
  try {
    return capabilitiesOf(n.conn.requireBackend())[name];
  } catch {
    return undefined;
  }
}

async function fill<T>(n: { listing: Listing<T> }, list: (() => Promise<T[]>) | undefined): Promise<void> {
  if (!list) return void (n.listing = { error: 'not connected' });
  try {
    n.listing = { items: await list() };
  } catch (e) {
    n.listing = { error: e instanceof Error ? e.message : String(e) };
  }
}

const itemsOf = <T>(l: Listing<T>): T[] => (l && 'items' in l ? l.items : []);

/** Changes arriving within this long of each other relist once (a pool-define then pool-start). */
export const OBJECT_EVENT_DEBOUNCE_MS = 200;

/** One connection's Storage and Networks nodes shown now, and the event subscriptions that keep them current. */
interface Watch {
  readonly backend: object;
  readonly stops: (() => void)[];
  storage?: StorageNode;
  networks?: NetworksNode;
  readonly due: Set<'storage' | 'networks'>;
  timer?: NodeJS.Timeout;
}

function stopWatch(w: Watch): void {
  for (const stop of w.stops) stop();
  clearTimeout(w.timer);
}

/** Lists what a storage, pool or networks node holds, once; fires the node when done. */
export class ConnectionObjects {
  private readonly loading = new Map<object, Promise<void>>();
  private readonly watches = new Map<string, Watch>();
  constructor(private readonly fire: (n: ConnectionObjectNode) => void) {}

  connectionChildren(n: ConnectionNode): ConnectionObjectNode[] {
    const storage = connectionCapability(n, 'storage');
    const networks = connectionCapability(n, 'networks');
    const w = storage || networks ? this.watch(n, storage, networks) : undefined;
    const storageNode = storage ? new StorageNode(n) : undefined;
    const networksNode = networks ? new NetworksNode(n) : undefined;
    if (w) Object.assign(w, { storage: storageNode, networks: networksNode });
    return [storageNode, networksNode].filter((c) => c !== undefined);
  }

  /** Pool and network events (here or from virsh elsewhere) relist the connection's groups. */
  private watch(n: ConnectionNode, storage: Storage | undefined, networks: Networks | undefined): Watch {
    const backend = n.conn.requireBackend();
    const id = n.conn.config.id;
    const old = this.watches.get(id);
    if (old?.backend === backend) return old;
    if (old) stopWatch(old);
    const w: Watch = { backend, stops: [], due: new Set() };
    if (storage) w.stops.push(storage.onChange(() => this.changed(w, 'storage')));
    if (networks) w.stops.push(networks.onChange(() => this.changed(w, 'networks')));
    this.watches.set(id, w);
    return w;
  }

  private changed(w: Watch, kind: 'storage' | 'networks'): void {
    w.due.add(kind);
    w.timer ??= setTimeout(() => {
      w.timer = undefined;
      for (const k of w.due) {
        const node = w[k];
        if (node) this.refresh(node);
      }
      w.due.clear();
    }, OBJECT_EVENT_DEBOUNCE_MS);
  }

  dispose(): void {
    for (const w of this.watches.values()) stopWatch(w);
    this.watches.clear();
  }

  private load(n: StorageNode | PoolNode | NetworksNode): Promise<void> {
    let p = this.loading.get(n);
    if (!p) {
      const list =
        n.kind === 'storage'
          ? n.storage() && (() => n.storage()!.pools())
          : n.kind === 'pool'
            ? n.parent.storage() && (() => n.parent.storage()!.volumes(n.view.name))
            : n.networks() && (() => n.networks()!.list());
      p = fill<unknown>(n as { listing: Listing<unknown> }, list as (() => Promise<unknown[]>) | undefined).finally(() => this.loading.delete(n));
      this.loading.set(n, p);
    }
    return p;
  }

  childrenNow(n: ConnectionObjectNode): ConnectionObjectNode[] {
    if (n.kind === 'volume' || n.kind === 'lease') return [];
    if (n.kind === 'network') return n.view.leases.map((l) => new LeaseNode(n, l));
    if (!n.listing) {
      void this.load(n).then(() => this.fire(n));
      return [];
    }
    if (n.kind === 'storage') return itemsOf(n.listing).map((p) => new PoolNode(n, p));
    if (n.kind === 'pool') return itemsOf(n.listing).map((v) => new VolumeNode(n, v));
    return itemsOf(n.listing).map((v) => new NetworkNode(n, v));
  }

  async children(n: ConnectionObjectNode): Promise<ConnectionObjectNode[]> {
    if ((n.kind === 'storage' || n.kind === 'pool' || n.kind === 'networks') && !n.listing) await this.load(n);
    return this.childrenNow(n);
  }

  /** Lists again (after a verb). */
  refresh(n: StorageNode | PoolNode | NetworksNode): void {
    n.listing = undefined;
    this.fire(n);
  }

  item(n: ConnectionObjectNode): vscode.TreeItem {
    const spec = connectionObjectSpec(n);
    const it = new vscode.TreeItem(spec.label, spec.expands ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    it.id = spec.id;
    it.description = spec.description;
    it.tooltip = new vscode.MarkdownString(spec.tooltip);
    it.contextValue = spec.contextValue;
    it.iconPath = new vscode.ThemeIcon(spec.icon);
    it.accessibilityInformation = { label: `${spec.label}, ${spec.description}` };
    return it;
  }
}

function listingDescription<T>(l: Listing<T>, what: string): { description: string; tooltip: string } {
  if (!l) return { description: '', tooltip: '' };
  if ('error' in l) return { description: 'cannot list', tooltip: l.error };
  return { description: `${l.items.length} ${what}${l.items.length === 1 ? '' : 's'}`, tooltip: '' };
}

function connectionObjectSpec(n: ConnectionObjectNode): ObjectItemSpec {
  switch (n.kind) {
    case 'storage': {
      const d = listingDescription(n.listing, 'pool');
      return { id: `conn/${n.parent.conn.config.id}/storage`, label: 'Storage', ...d, contextValue: 'storage', icon: 'database', expands: true };
    }
    case 'networks': {
      const d = listingDescription(n.listing, 'network');
      return { id: `conn/${n.parent.conn.config.id}/networks`, label: 'Networks', ...d, contextValue: 'networks', icon: 'globe', expands: true };
    }
    case 'pool':
      return { ...poolItemSpec(n.view), id: `conn/${n.parent.parent.conn.config.id}/pool/${n.view.name}` };
    case 'volume':
      return { ...volumeItemSpec(n.view), id: `conn/${n.parent.parent.parent.conn.config.id}/pool/${n.view.pool}/vol/${n.view.name}` };
    case 'network':
      return { ...networkItemSpec(n.view), id: `conn/${n.parent.parent.conn.config.id}/net/${n.view.name}` };
    case 'lease':
      return { ...leaseItemSpec(n.lease), id: `conn/${n.parent.parent.parent.conn.config.id}/net/${n.parent.view.name}/lease/${n.lease.ip}` };
  }
}
