// Snapshots of a libvirt guest as virtscope shows them, read from libvirt's snapshot XML, and the
// facts of the guest that decide which snapshots are safe (disk formats, firmware).
import { child, children, parseXml, textOf, XmlElement } from '../xmlTree';

/** Where a snapshot keeps its data: inside the qcow2 images, in new overlay files, both, or a whole copy (lxc-snapshot). */
export type SnapshotLocation = 'internal' | 'external' | 'mixed' | 'copy';
/** With the guest's memory (it resumes where it was), disk-only of a running guest, or of a stopped guest. */
export type SnapshotContent = 'memory' | 'disk-only' | 'stopped';

export interface SnapshotInfo {
  readonly name: string;
  readonly description?: string;
  /** Seconds since the epoch. */
  readonly creationTime?: number;
  /** libvirt's word: running, paused, shutoff, disk-snapshot… */
  readonly state: string;
  readonly parent?: string;
  readonly content: SnapshotContent;
  readonly location: SnapshotLocation;
  /** Disk targets and how each was captured (internal, external, no). */
  readonly disks: readonly { readonly name: string; readonly snapshot: string }[];
  current: boolean;
}

/** The part of a snapshot XML that is the snapshot's own (not the <domain> copy inside it). */
function own(root: XmlElement): XmlElement {
  return { ...root, children: root.children.filter((c) => c.name !== 'domain' && c.name !== 'inactiveDomain') };
}

/** A `<domainsnapshot>` document as a SnapshotInfo (current is false; the caller knows which is). */
export function parseSnapshotXml(xml: string): SnapshotInfo {
  const root = parseXml(xml);
  if (root.name !== 'domainsnapshot') throw new Error(`not a snapshot document: <${root.name}>`);
  const me = own(root);
  const state = textOf(me, 'state') ?? 'unknown';
  const memory = child(me, 'memory')?.attrs.snapshot ?? (state === 'running' || state === 'paused' ? 'internal' : 'no');
  const disks = children(child(me, 'disks'), 'disk').map((d) => ({ name: d.attrs.name ?? '?', snapshot: d.attrs.snapshot ?? 'internal' }));
  const kinds = new Set([...disks.map((d) => d.snapshot), memory].filter((k) => k === 'internal' || k === 'external'));
  const location: SnapshotLocation = kinds.size > 1 ? 'mixed' : kinds.has('external') ? 'external' : 'internal';
  const content: SnapshotContent = state === 'disk-snapshot' ? 'disk-only' : memory !== 'no' ? 'memory' : 'stopped';
  const created = Number(textOf(me, 'creationTime'));
  return {
    name: textOf(me, 'name') ?? '',
    description: textOf(me, 'description') || undefined,
    creationTime: Number.isFinite(created) ? created : undefined,
    state,
    parent: textOf(me, 'parent/name') || undefined,
    content,
    location,
    disks,
    current: false,
  };
}

export interface DiskFact {
  /** Target device (vda). */
  readonly target: string;
  /** disk, cdrom, floppy, lun */
  readonly device: string;
  /** file, block, network, volume, dir */
  readonly type: string;
  /** The driver's format (qcow2, raw); undefined when not said. */
  readonly format?: string;
  readonly readonly: boolean;
  readonly source?: string;
}

export interface GuestFacts {
  readonly disks: readonly DiskFact[];
  /** UEFI with a pflash loader (its NVRAM is not in any disk image). */
  readonly pflash: boolean;
  /** A qemu-guest-agent channel is defined (quiesce possible while it answers). */
  readonly agent: boolean;
}

/** Disk and firmware facts from a domain XML. */
export function guestFacts(domainXml: string): GuestFacts {
  const root = parseXml(domainXml);
  const devices = child(root, 'devices');
  const disks = children(devices, 'disk').map((d) => {
    const src = child(d, 'source');
    return {
      target: child(d, 'target')?.attrs.dev ?? '?',
      device: d.attrs.device ?? 'disk',
      type: d.attrs.type ?? 'file',
      format: child(d, 'driver')?.attrs.type,
      readonly: !!child(d, 'readonly'),
      source: src?.attrs.file ?? src?.attrs.dev ?? src?.attrs.name ?? src?.attrs.volume,
    };
  });
  const os = child(root, 'os');
  const loader = child(os, 'loader');
  const pflash = loader?.attrs.type === 'pflash' || (os?.attrs.firmware === 'efi' && loader?.attrs.type !== 'rom');
  const agent = children(devices, 'channel').some((c) => child(c, 'target')?.attrs.name === 'org.qemu.guest_agent.0');
  return { disks, pflash, agent };
}

/** The disks a snapshot captures: writable disks with a medium (not CD-ROMs, floppies, read-only disks). */
export function snapshotDisks(facts: GuestFacts): DiskFact[] {
  return facts.disks.filter((d) => d.device === 'disk' && !d.readonly && d.source !== undefined);
}

/** Snapshots in tree order: each name's children, roots under ''. Unknown parents count as roots. */
export function childrenByParent(snaps: readonly SnapshotInfo[]): Map<string, SnapshotInfo[]> {
  const names = new Set(snaps.map((s) => s.name));
  const out = new Map<string, SnapshotInfo[]>();
  for (const s of snaps) {
    const p = s.parent && names.has(s.parent) ? s.parent : '';
    const list = out.get(p) ?? [];
    list.push(s);
    out.set(p, list);
  }
  for (const list of out.values()) list.sort((a, b) => (a.creationTime ?? 0) - (b.creationTime ?? 0) || a.name.localeCompare(b.name));
  return out;
}

/** All descendants of `name` (children, their children…). */
export function descendants(snaps: readonly SnapshotInfo[], name: string): SnapshotInfo[] {
  const by = childrenByParent(snaps);
  const out: SnapshotInfo[] = [];
  const walk = (n: string) => {
    for (const c of by.get(n) ?? []) {
      out.push(c);
      walk(c.name);
    }
  };
  walk(name);
  return out;
}
