// Storage pools, volumes and virtual networks of one libvirt connection over RPC: the `storage` and
// `networks` capabilities. Deleting a volume a guest uses is refused unless the caller names that
// guest (the user typed its name); each refusal throws a BackendError with the reason.
import { LibvirtClient, LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { BackendError } from '../model';
import type { Definition } from '../capabilities';
import type { Readable, Writable } from 'node:stream';
import { LibvirtObjectDefinitions } from './libvirtObjectDefinitions';
import { downloadFrom, TransferOptions, uploadInto } from './libvirtVolumeTransfer';
import type { LibvirtObjectEvents, ObjectChangeListener } from './libvirtObjectEvents';
import { escapeXml } from '../xmlTree';
import {
  guestDevices,
  GuestDevices,
  LeaseView,
  networkFacts,
  NetworkView,
  objectNameProblem,
  poolFacts,
  PoolView,
  usersOf,
  volumeFacts,
  VolumeView,
} from '../storage/model';

export interface Storage {
  pools(): Promise<PoolView[]>;
  volumes(pool: string): Promise<VolumeView[]>;
  startPool(pool: string): Promise<void>;
  stopPool(pool: string): Promise<void>;
  setPoolAutostart(pool: string, on: boolean): Promise<void>;
  /** Stops the pool and removes its definition; its volumes' data stay where they are. */
  deletePool(pool: string): Promise<void>;
  createVolume(pool: string, v: { name: string; format: 'qcow2' | 'raw'; capacity: number }): Promise<VolumeView>;
  /** Refused while a guest uses the volume, unless `confirmedGuest` names that guest. */
  deleteVolume(pool: string, name: string, confirmedGuest?: string): Promise<void>;
  /** Copies `from` into a new volume `name` of the same pool (STORAGE_VOL_CREATE_XML_FROM). */
  cloneVolume(pool: string, from: string, name: string): Promise<VolumeView>;
  /** Creates volume `v.name` of `size` bytes and fills it from `source`; cancelled or failed, no volume is left. */
  uploadVolume(pool: string, v: { name: string; format: 'qcow2' | 'raw' }, source: Readable, size: number, opts?: TransferOptions): Promise<VolumeView>;
  /** Writes the volume's bytes into `dest`; resolves with their count. */
  downloadVolume(pool: string, name: string, dest: Writable, opts?: TransferOptions): Promise<number>;
  /** Pools' definitions as editable XML (the id is the pool's name); create defines a new pool. */
  readonly definitions: Definition;
  /** Calls `listener` when a pool is defined, started, stopped or removed, here or elsewhere; returns the way to stop. */
  onChange(listener: ObjectChangeListener): () => void;
}

export interface Networks {
  list(): Promise<NetworkView[]>;
  start(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  setAutostart(name: string, on: boolean): Promise<void>;
  /** Stops the network and removes its definition. */
  delete(name: string): Promise<void>;
  /** Networks' definitions as editable XML (the id is the network's name). */
  readonly definitions: Definition;
  /** Calls `listener` when a network is defined, started, stopped or removed, here or elsewhere. */
  onChange(listener: ObjectChangeListener): () => void;
}

const LONG_CALL = { timeoutMs: 30 * 60_000 };
const notFound = (e: unknown, code: number) => e instanceof LibvirtError && e.code === code;

async function mapLimit<T, R>(items: readonly T[], fn: (t: T) => Promise<R>, limit = 16): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** Disk sources and MACs of every guest of the connection. */
async function allGuestDevices(c: LibvirtClient): Promise<GuestDevices[]> {
  const doms = await c.listAllDomains(0);
  const found = await mapLimit(doms, async (d) => {
    try {
      return guestDevices(d.name, await c.domainGetXMLDesc(d, 0));
    } catch {
      return undefined; // vanished meanwhile
    }
  });
  return found.filter((g): g is GuestDevices => !!g);
}

function leaseView(l: P.DhcpLease, byMac: ReadonlyMap<string, string>): LeaseView {
  return {
    ip: l.ipaddr,
    prefix: l.prefix,
    mac: l.mac ?? undefined,
    hostname: l.hostname ?? undefined,
    expiry: l.expirytime,
    guest: l.mac ? byMac.get(l.mac.toLowerCase()) : undefined,
  };
}

/** Reads of every guest's devices in flight, per connection. */
const guestReads = new WeakMap<LibvirtClient, Promise<GuestDevices[]>>();

/**
 * allGuestDevices, shared with a read already in flight on the same connection: the volume lists of
 * many pools asked for together (expanding them, a refresh) read each guest's XML once, not once
 * per pool. For display only; a safety check reads afresh.
 */
function sharedGuestDevices(c: LibvirtClient): Promise<GuestDevices[]> {
  let read = guestReads.get(c);
  if (!read) {
    read = allGuestDevices(c).finally(() => guestReads.delete(c));
    guestReads.set(c, read);
  }
  return read;
}

export class LibvirtStorage implements Storage {
  readonly definitions: Definition;
  constructor(
    private readonly client: () => Promise<LibvirtClient>,
    private readonly events?: LibvirtObjectEvents,
  ) {
    this.definitions = new LibvirtObjectDefinitions(client, 'pool');
  }

  onChange(listener: ObjectChangeListener): () => void {
    return this.events?.on('storage', listener) ?? (() => undefined);
  }

  private async pool(c: LibvirtClient, name: string): Promise<P.RemotePool> {
    try {
      return await c.storagePoolLookupByName(name);
    } catch (e) {
      if (notFound(e, P.ErrorCode.NO_STORAGE_POOL)) throw new BackendError(`storage pool "${name}" no longer exists`, 'ENOENT');
      throw e;
    }
  }

  async pools(): Promise<PoolView[]> {
    const c = await this.client();
    const pools = await c.listAllStoragePools(0);
    const views = await mapLimit(pools, async (p) => {
      const [info, autostart, xml] = await Promise.all([c.storagePoolGetInfo(p), c.storagePoolGetAutostart(p), c.storagePoolGetXMLDesc(p, 0)]);
      return {
        name: p.name,
        state: P.POOL_STATE_NAMES[info.state] ?? `state ${info.state}`,
        active: info.state === 2 || info.state === 3,
        autostart,
        ...poolFacts(xml),
        capacity: info.capacity,
        allocation: info.allocation,
        available: info.available,
      };
    });
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  async volumes(poolName: string): Promise<VolumeView[]> {
    const c = await this.client();
    const pool = await this.pool(c, poolName);
    const [vols, guests] = await Promise.all([c.storagePoolListAllVolumes(pool, 0), sharedGuestDevices(c)]);
    const views = await mapLimit(vols, (v) => this.view(c, v, guests));
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async view(c: LibvirtClient, v: P.RemoteVolume, guests: readonly GuestDevices[]): Promise<VolumeView> {
    const [info, xml] = await Promise.all([c.storageVolGetInfo(v), c.storageVolGetXMLDesc(v, 0)]);
    const facts = volumeFacts(xml);
    const path = facts.path ?? v.key;
    return {
      pool: v.pool,
      name: v.name,
      key: v.key,
      path,
      format: facts.format,
      capacity: info.capacity,
      allocation: info.allocation,
      usedBy: usersOf({ ...v, path }, guests),
    };
  }

  async startPool(name: string): Promise<void> {
    const c = await this.client();
    await c.storagePoolCreate(await this.pool(c, name), 0);
  }

  async stopPool(name: string): Promise<void> {
    const c = await this.client();
    await c.storagePoolDestroy(await this.pool(c, name));
  }

  async setPoolAutostart(name: string, on: boolean): Promise<void> {
    const c = await this.client();
    await c.storagePoolSetAutostart(await this.pool(c, name), on);
  }

  async deletePool(name: string): Promise<void> {
    const c = await this.client();
    const pool = await this.pool(c, name);
    if ((await c.storagePoolGetInfo(pool)).state !== 0) await c.storagePoolDestroy(pool);
    await c.storagePoolUndefine(pool);
  }

  async createVolume(poolName: string, v: { name: string; format: 'qcow2' | 'raw'; capacity: number }): Promise<VolumeView> {
    const bad = objectNameProblem(v.name, 'volume');
    if (bad) throw new BackendError(bad, 'EINVAL');
    if (!Number.isSafeInteger(v.capacity) || v.capacity <= 0) throw new BackendError('a volume needs a size above 0 bytes', 'EINVAL');
    const c = await this.client();
    const pool = await this.pool(c, poolName);
    const xml = `<volume><name>${escapeXml(v.name)}</name><capacity unit='bytes'>${v.capacity}</capacity><target><format type='${v.format}'/></target></volume>`;
    const vol = await c.storageVolCreateXML(pool, xml, 0, LONG_CALL);
    return this.view(c, vol, []);
  }

  async uploadVolume(
    poolName: string,
    v: { name: string; format: 'qcow2' | 'raw' },
    source: Readable,
    size: number,
    opts?: TransferOptions,
  ): Promise<VolumeView> {
    await this.createVolume(poolName, { ...v, capacity: size });
    const c = await this.client();
    const pool = await this.pool(c, poolName);
    const vol = await c.storageVolLookupByName(pool, v.name);
    await uploadInto(c, vol, source, size, opts);
    return this.view(c, vol, []);
  }

  async downloadVolume(poolName: string, name: string, dest: Writable, opts?: TransferOptions): Promise<number> {
    const c = await this.client();
    const vol = await this.volume(c, poolName, name);
    const info = await c.storageVolGetInfo(vol);
    return downloadFrom(c, vol, dest, Math.max(info.allocation, 1), opts);
  }

  private async volume(c: LibvirtClient, poolName: string, name: string): Promise<P.RemoteVolume> {
    const pool = await this.pool(c, poolName);
    return c.storageVolLookupByName(pool, name).catch((e: unknown) => {
      if (notFound(e, P.ErrorCode.NO_STORAGE_VOL)) throw new BackendError(`volume "${name}" no longer exists in pool "${poolName}"`, 'ENOENT');
      throw e;
    });
  }

  async deleteVolume(poolName: string, name: string, confirmedGuest?: string): Promise<void> {
    const c = await this.client();
    const vol = await this.volume(c, poolName, name);
    const users = (await this.view(c, vol, await allGuestDevices(c))).usedBy;
    if (users.length && (confirmedGuest === undefined || !users.includes(confirmedGuest))) {
      throw new BackendError(
        `volume "${name}" is used by ${users.map((u) => `"${u}"`).join(', ')}; deleting it would break ${users.length === 1 ? 'that guest' : 'those guests'}. Type the guest's name to delete it anyway.`,
        'EBUSY',
      );
    }
    await c.storageVolDelete(vol, 0);
  }

  async cloneVolume(poolName: string, from: string, name: string): Promise<VolumeView> {
    const bad = objectNameProblem(name, 'volume');
    if (bad) throw new BackendError(bad, 'EINVAL');
    const c = await this.client();
    const pool = await this.pool(c, poolName);
    const src = await c.storageVolLookupByName(pool, from);
    const fmt = volumeFacts(await c.storageVolGetXMLDesc(src, 0)).format ?? 'raw';
    const info = await c.storageVolGetInfo(src);
    const xml = `<volume><name>${escapeXml(name)}</name><capacity unit='bytes'>${info.capacity}</capacity><target><format type='${escapeXml(fmt)}'/></target></volume>`;
    const vol = await c.storageVolCreateXMLFrom(pool, xml, src, 0, LONG_CALL);
    return this.view(c, vol, []);
  }
}

export class LibvirtNetworks implements Networks {
  readonly definitions: Definition;
  constructor(
    private readonly client: () => Promise<LibvirtClient>,
    private readonly events?: LibvirtObjectEvents,
  ) {
    this.definitions = new LibvirtObjectDefinitions(client, 'network');
  }

  onChange(listener: ObjectChangeListener): () => void {
    return this.events?.on('networks', listener) ?? (() => undefined);
  }

  private async net(c: LibvirtClient, name: string): Promise<P.RemoteNetwork> {
    try {
      return await c.networkLookupByName(name);
    } catch (e) {
      if (notFound(e, P.ErrorCode.NO_NETWORK)) throw new BackendError(`network "${name}" no longer exists`, 'ENOENT');
      throw e;
    }
  }

  async list(): Promise<NetworkView[]> {
    const c = await this.client();
    const nets = await c.listAllNetworks(0);
    const views = await mapLimit(nets, async (n) => {
      const [active, autostart, xml] = await Promise.all([c.networkIsActive(n), c.networkGetAutostart(n), c.networkGetXMLDesc(n, 0)]);
      const leases = active ? await c.networkGetDhcpLeases(n).catch(() => []) : [];
      return { name: n.name, active, autostart, ...networkFacts(xml), leases };
    });
    // which guest holds a lease needs every guest's XML: read only when there is a lease
    const guests = views.some((v) => v.leases.length) ? await sharedGuestDevices(c) : [];
    const byMac = new Map(guests.flatMap((g) => g.macs.map((m) => [m, g.name] as const)));
    return views.map((v) => ({ ...v, leases: v.leases.map((l): LeaseView => leaseView(l, byMac)) })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async start(name: string): Promise<void> {
    const c = await this.client();
    await c.networkCreate(await this.net(c, name));
  }

  async stop(name: string): Promise<void> {
    const c = await this.client();
    await c.networkDestroy(await this.net(c, name));
  }

  async setAutostart(name: string, on: boolean): Promise<void> {
    const c = await this.client();
    await c.networkSetAutostart(await this.net(c, name), on);
  }

  async delete(name: string): Promise<void> {
    const c = await this.client();
    const n = await this.net(c, name);
    if (await c.networkIsActive(n)) await c.networkDestroy(n);
    await c.networkUndefine(n);
  }
}
