// Storage-pool and network lifecycle events of one libvirt connection, for whoever shows them
// (the tree's Storage and Networks groups). Registers with the daemon only while someone listens,
// and again on every new connection: callback ids belong to the connection that issued them.
import { LibvirtClient } from '../libvirt/client';
import * as P from '../libvirt/protocol';

export type ObjectEventKind = 'storage' | 'networks';

export interface ObjectChange {
  readonly kind: ObjectEventKind;
  /** The pool's or network's name. */
  readonly name: string;
  /** "defined", "started", "stopped", ... */
  readonly reason: string;
}

export type ObjectChangeListener = (change: ObjectChange) => void;

interface Registration {
  readonly client: LibvirtClient;
  /** The daemon's callback id once registered; undefined while registering. */
  id?: number;
}

export class LibvirtObjectEvents {
  private readonly listeners: Record<ObjectEventKind, Set<ObjectChangeListener>> = { storage: new Set(), networks: new Set() };
  private readonly registered: Partial<Record<ObjectEventKind, Registration>> = {};
  private readonly heard = new WeakSet<LibvirtClient>();
  private readonly pending = new Map<ObjectEventKind, Promise<void>>();
  /** Why the last registration failed (an old daemon, a closed connection). */
  error: Error | undefined;

  /** `current` is the connection open now, if any: listening alone does not open one. */
  constructor(private readonly current: () => LibvirtClient | undefined) {}

  /** Calls `listener` on each change of `kind` until the returned function is called. */
  on(kind: ObjectEventKind, listener: ObjectChangeListener): () => void {
    this.listeners[kind].add(listener);
    const c = this.current();
    if (c && !c.closed) void this.register(kind, c);
    return () => this.off(kind, listener);
  }

  /** A new connection is open: register again for every kind someone listens to. */
  attach(client: LibvirtClient): Promise<unknown> {
    return Promise.all((['storage', 'networks'] as const).filter((k) => this.listeners[k].size).map((k) => this.register(k, client)));
  }

  /** Resolves once both kinds that have listeners are registered on `client` (for tests and callers that must not miss one). */
  async ready(): Promise<void> {
    const c = this.current();
    if (c) await this.attach(c);
  }

  private off(kind: ObjectEventKind, listener: ObjectChangeListener): void {
    this.listeners[kind].delete(listener);
    const reg = this.registered[kind];
    if (this.listeners[kind].size || !reg) return;
    delete this.registered[kind];
    if (reg.id === undefined || reg.client.closed) return;
    const done = kind === 'storage' ? reg.client.storagePoolEventDeregisterAny(reg.id) : reg.client.networkEventDeregisterAny(reg.id);
    void done.catch(() => undefined);
  }

  private register(kind: ObjectEventKind, client: LibvirtClient): Promise<void> {
    const reg = this.registered[kind];
    if (reg?.client === client && reg.id !== undefined) return Promise.resolve();
    const running = this.pending.get(kind);
    if (running && reg?.client === client) return running;
    this.hear(client);
    const mine: Registration = { client };
    this.registered[kind] = mine;
    const call = kind === 'storage' ? client.storagePoolEventRegisterAny(P.ObjectEventId.LIFECYCLE) : client.networkEventRegisterAny(P.ObjectEventId.LIFECYCLE);
    const p = call
      .then(
        (id) => {
          // Everyone stopped listening, or a newer connection took over, meanwhile.
          if (this.registered[kind] !== mine)
            return void (kind === 'storage' ? client.storagePoolEventDeregisterAny(id) : client.networkEventDeregisterAny(id)).catch(() => undefined);
          mine.id = id;
          this.error = undefined;
        },
        (e: Error) => {
          if (this.registered[kind] === mine) delete this.registered[kind];
          this.error = e;
        },
      )
      .finally(() => this.pending.delete(kind));
    this.pending.set(kind, p);
    return p;
  }

  private hear(client: LibvirtClient): void {
    if (this.heard.has(client)) return;
    this.heard.add(client);
    client.on('poolLifecycle', (m) => this.deliver('storage', client, m));
    client.on('networkLifecycle', (m) => this.deliver('networks', client, m));
  }

  private deliver(kind: ObjectEventKind, client: LibvirtClient, m: P.ObjectLifecycleMsg): void {
    const reg = this.registered[kind];
    if (reg?.client !== client || reg.id !== m.callbackID) return;
    const change: ObjectChange = { kind, name: m.object.name, reason: P.OBJECT_EVENT_NAMES[m.event] ?? `event ${m.event}` };
    for (const l of [...this.listeners[kind]]) l(change);
  }
}
