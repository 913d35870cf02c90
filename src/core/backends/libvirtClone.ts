// Clone Guest, as virt-clone does: a stopped QEMU guest's writable disks copied through the volume
// API (STORAGE_VOL_CREATE_XML_FROM) into new volumes of the same pools, then the definition again
// under a new name, without its UUID and MACs (libvirt makes new ones) and with the new disks.
// Checked before anything is copied; a failure midway removes the volumes made so far.
import { LibvirtClient, LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { BackendError } from '../model';
import { objectNameProblem, volumeFacts } from '../storage/model';
import { child, children, escapeXml, parseXml, serializeXml, XmlElement } from '../xmlTree';

export interface CloneResult {
  readonly name: string;
  readonly uuid: string;
  /** New volume paths. */
  readonly disks: readonly string[];
}

export interface GuestClone {
  clone(newName: string): Promise<CloneResult>;
}

interface DiskCopy {
  readonly source: XmlElement;
  readonly from: P.RemoteVolume;
  readonly pool: P.RemotePool;
  readonly name: string;
}

/** The new volume's name: the old one with the guest's name replaced, else "<new>-<target>.<ext>". */
export function cloneVolumeName(oldVol: string, oldGuest: string, newGuest: string, target: string): string {
  if (oldGuest && oldVol.includes(oldGuest)) return oldVol.split(oldGuest).join(newGuest);
  const ext = /\.[A-Za-z0-9]+$/.exec(oldVol)?.[0] ?? '';
  return `${newGuest}-${target}${ext}`;
}

/** The domain XML for the clone: new name, no UUID, no MACs, no NVRAM path, disks at `sources`. */
export function cloneDomainXml(root: XmlElement, newName: string): string {
  const name = child(root, 'name');
  if (name) name.text = newName;
  root.children.splice(0, root.children.length, ...root.children.filter((c) => c.name !== 'uuid'));
  for (const iface of children(child(root, 'devices'), 'interface'))
    iface.children.splice(0, iface.children.length, ...iface.children.filter((c) => c.name !== 'mac'));
  const nvram = child(root, 'os/nvram');
  if (nvram) nvram.text = '';
  return serializeXml(root);
}

export class LibvirtClone implements GuestClone {
  constructor(
    private readonly client: () => Promise<LibvirtClient>,
    private readonly lookup: (c: LibvirtClient) => Promise<P.RemoteDomain>,
  ) {}

  async clone(newName: string): Promise<CloneResult> {
    const bad = objectNameProblem(newName, 'guest');
    if (bad) throw new BackendError(bad, 'EINVAL');
    const c = await this.client();
    const dom = await this.lookup(c);
    if ((await c.domainGetState(dom)).state !== P.DomainState.SHUTOFF)
      throw new BackendError(`"${dom.name}" must be shut off to be cloned (its disks are copied)`, 'EREFUSED');
    const taken = await c.domainLookupByName(newName).then(
      () => true,
      (e: unknown) => !(e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN),
    );
    if (taken) throw new BackendError(`a guest named "${newName}" exists already`, 'EEXIST');
    const root = parseXml(await c.domainGetXMLDesc(dom, P.DomainXmlFlags.INACTIVE | P.DomainXmlFlags.SECURE));
    const copies = await this.plan(c, root, dom.name, newName);
    const made: P.RemoteVolume[] = [];
    try {
      for (const d of copies) {
        const fmt = volumeFacts(await c.storageVolGetXMLDesc(d.from, 0)).format ?? 'raw';
        const cap = (await c.storageVolGetInfo(d.from)).capacity;
        const xml = `<volume><name>${escapeXml(d.name)}</name><capacity unit='bytes'>${cap}</capacity><target><format type='${escapeXml(fmt)}'/></target></volume>`;
        const vol = await c.storageVolCreateXMLFrom(d.pool, xml, d.from, 0, { timeoutMs: 60 * 60_000 });
        made.push(vol);
        const path = await c.storageVolGetPath(vol);
        if (d.source.attrs.file !== undefined) d.source.attrs.file = path;
        else d.source.attrs.dev = path;
      }
      const def = await c.domainDefineXMLFlags(cloneDomainXml(root, newName), 0);
      return { name: def.name, uuid: P.uuidToString(def.uuid), disks: await Promise.all(made.map((v) => c.storageVolGetPath(v))) };
    } catch (e) {
      for (const v of made) await c.storageVolDelete(v, 0).catch(() => undefined);
      throw e;
    }
  }

  /** Each writable disk's volume and pool; refuses disks no pool holds. */
  private async plan(c: LibvirtClient, root: XmlElement, oldName: string, newName: string): Promise<DiskCopy[]> {
    const out: DiskCopy[] = [];
    for (const disk of children(child(root, 'devices'), 'disk')) {
      if ((disk.attrs.device ?? 'disk') !== 'disk' || child(disk, 'readonly') || child(disk, 'shareable')) continue;
      const source = child(disk, 'source');
      const path = source?.attrs.file ?? source?.attrs.dev;
      const target = child(disk, 'target')?.attrs.dev ?? 'disk';
      if (!source || !path) throw new BackendError(`disk ${target} has no file or block source virtscope can copy`, 'EREFUSED');
      const from = await c.storageVolLookupByPath(path).catch((e: unknown) => {
        if (e instanceof LibvirtError && e.code === P.ErrorCode.NO_STORAGE_VOL) {
          throw new BackendError(
            `disk ${target} (${path}) is in no libvirt storage pool, so it cannot be copied through the volume API; define a pool for its directory first`,
            'EREFUSED',
          );
        }
        throw e;
      });
      out.push({ source, from, pool: await c.storagePoolLookupByName(from.pool), name: cloneVolumeName(from.name, oldName, newName, target) });
    }
    if (new Set(out.map((d) => `${d.pool.name}\0${d.name}`)).size !== out.length)
      throw new BackendError('two disks would get the same new volume name', 'EREFUSED');
    return out;
  }
}
