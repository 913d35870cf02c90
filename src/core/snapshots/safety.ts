// Safety before action: what this host's libvirt can do with this guest's snapshots, decided
// before any call, so a refusal comes with its reason instead of a libvirt error midway.
// Rules (libvirt's QEMU driver):
// - internal snapshots live inside qcow2 images: every disk the snapshot captures must be qcow2;
// - internal snapshots do not cover UEFI NVRAM kept in pflash: refused for such guests;
// - a disk-only snapshot of a running guest is external (new overlay files);
// - libvirt reverts external snapshots only from 9.7 on, and deletes them only from 9.0 on;
// - internal and external snapshots on one guest: reverting to one kind after taking the other
//   can leave overlay files the other kind does not know about; say so before mixing.
import { escapeXml } from '../xmlTree';
import * as P from '../libvirt/protocol';
import { GuestFacts, snapshotDisks, SnapshotInfo, SnapshotLocation } from './model';

/** libvirt versions as getLibVersion reports them (major * 1e6 + minor * 1e3 + micro). */
export const EXTERNAL_REVERT_SINCE = 9_007_000;
export const EXTERNAL_DELETE_SINCE = 9_000_000;

export function versionString(v: number): string {
  return `${Math.floor(v / 1e6)}.${Math.floor(v / 1e3) % 1000}.${v % 1000}`;
}

export interface CreateRequest {
  readonly name: string;
  readonly description?: string;
  /** true: with memory (the guest resumes where it was); false: disks only. */
  readonly memory: boolean;
  /** Freeze the guest's file systems through its agent (disk-only of a running guest). */
  readonly quiesce?: boolean;
}

/** What the host and guest are now. */
export interface SnapshotContext {
  readonly libVersion: number;
  readonly running: boolean;
  readonly facts: GuestFacts;
  readonly existing: readonly SnapshotInfo[];
}

/** `stopFirst`: it would work with the guest stopped (the UI offers to stop it). */
export type Refusal = { readonly ok: false; readonly reason: string; readonly stopFirst?: boolean };
export type Plan<T = object> = ({ readonly ok: true; readonly risks: readonly string[] } & T) | Refusal;

export interface CreatePlan {
  readonly location: 'internal' | 'external';
  readonly xml: string;
  readonly flags: number;
}

const refuse = (reason: string): Refusal => ({ ok: false, reason });

/** Why a name cannot be a snapshot name, or undefined. */
export function snapshotNameProblem(name: string): string | undefined {
  if (!name.trim()) return 'a snapshot needs a name';
  if (name !== name.trim()) return 'a snapshot name cannot start or end with a space';
  if (name.includes('/')) return 'a snapshot name cannot contain "/" (libvirt keeps each snapshot in a file of that name)';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'a snapshot name cannot contain control characters';
  if (Buffer.byteLength(name) > 255) return 'a snapshot name can have at most 255 bytes';
  return undefined;
}

function kindsOf(snaps: readonly SnapshotInfo[]): Set<SnapshotLocation> {
  return new Set(snaps.map((s) => s.location));
}

function mixRisk(existing: readonly SnapshotInfo[], location: 'internal' | 'external'): string[] {
  const other = location === 'internal' ? 'external' : 'internal';
  const kinds = kindsOf(existing);
  if (!kinds.has(other) && !kinds.has('mixed')) return [];
  return [
    `This guest already has ${other} snapshots and this one will be ${location}. Reverting across the two kinds can leave the disks ` +
      `on overlay files the other kind does not know about, and changes written since may be lost (virt-manager #811). ` +
      `Keep to one kind per guest where you can.`,
  ];
}

/** Which snapshot to take for `req`, or why none can be taken. */
export function planCreate(req: CreateRequest, ctx: SnapshotContext): Plan<CreatePlan> {
  const bad = snapshotNameProblem(req.name);
  if (bad) return refuse(bad);
  if (ctx.existing.some((s) => s.name === req.name)) return refuse(`this guest already has a snapshot named "${req.name}"`);
  const disks = snapshotDisks(ctx.facts);
  if (!disks.length) return refuse('this guest has no writable disk to snapshot');
  const notQcow2 = disks.filter((d) => d.format !== 'qcow2');
  const external = (ctx.running && !req.memory) || notQcow2.length > 0;
  if (external)
    return planExternal(
      req,
      ctx,
      notQcow2.map((d) => `${d.target} (${d.format ?? 'unknown format'})`),
    );
  if (ctx.facts.pflash) {
    return refuse('this guest boots UEFI with its variables in a pflash file, which internal snapshots do not capture (libvirt refuses them)');
  }
  if (req.quiesce) return refuse('quiescing needs a disk-only snapshot of a running guest');
  const memory = ctx.running && req.memory ? "<memory snapshot='internal'/>" : '';
  return {
    ok: true,
    location: 'internal',
    xml: snapshotXml(req, memory),
    flags: P.SnapshotCreateFlags.ATOMIC,
    risks: mixRisk(ctx.existing, 'internal'),
  };
}

function planExternal(req: CreateRequest, ctx: SnapshotContext, notQcow2: string[]): Plan<CreatePlan> {
  const why = notQcow2.length
    ? `internal snapshots need qcow2 on every disk, and ${notQcow2.join(', ')} ${notQcow2.length === 1 ? 'is' : 'are'} not`
    : 'a disk-only snapshot of a running guest is external (new overlay files)';
  if (ctx.libVersion < EXTERNAL_REVERT_SINCE) {
    return refuse(
      `${why}; libvirt ${versionString(ctx.libVersion)} on this host cannot revert external snapshots (that arrives in libvirt 9.7), ` +
        `so the snapshot could never be restored.` +
        (notQcow2.length ? ' Convert the disks to qcow2 to take internal snapshots.' : ' Take it with memory, or shut the guest down first.'),
    );
  }
  if (ctx.running && req.memory) {
    return refuse(`${why}; a snapshot with memory of such a guest needs a memory file, which virtscope does not place for you: take it disk-only`);
  }
  if (ctx.facts.disks.some((d) => d.device === 'disk' && !d.readonly && d.type !== 'file' && d.type !== 'block')) {
    return refuse(`${why}, and external snapshots here need file or block disks`);
  }
  if (req.quiesce && !ctx.facts.agent) return refuse('quiescing needs the QEMU guest agent, and this guest has no agent channel');
  let flags = P.SnapshotCreateFlags.DISK_ONLY | P.SnapshotCreateFlags.ATOMIC;
  if (req.quiesce && ctx.running) flags |= P.SnapshotCreateFlags.QUIESCE;
  return { ok: true, location: 'external', xml: snapshotXml(req, ''), flags, risks: mixRisk(ctx.existing, 'external') };
}

function snapshotXml(req: CreateRequest, memory: string): string {
  const desc = req.description ? `<description>${escapeXml(req.description)}</description>` : '';
  return `<domainsnapshot><name>${escapeXml(req.name)}</name>${desc}${memory}</domainsnapshot>`;
}

function when(s: SnapshotInfo): string {
  return s.creationTime
    ? new Date(s.creationTime * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : 'it was taken';
}

export interface RevertPlan {
  /** What the guest loses, in words for the confirmation. */
  readonly lost: string;
  readonly flags: number;
}

/** Whether `snap` can be reverted to here, and what the guest loses. */
export function planRevert(snap: SnapshotInfo, ctx: SnapshotContext): Plan<RevertPlan> {
  if (snap.location !== 'internal' && ctx.libVersion < EXTERNAL_REVERT_SINCE) {
    return refuse(
      `"${snap.name}" is an ${snap.location} snapshot, and libvirt ${versionString(ctx.libVersion)} on this host cannot revert those ` +
        `(that arrives in libvirt 9.7). Nothing was changed.`,
    );
  }
  if (snap.location === 'internal' && ctx.facts.pflash) {
    return refuse(`"${snap.name}" is internal and this guest's UEFI variables live in pflash, which libvirt cannot revert with it`);
  }
  const since = `since ${when(snap)}`;
  const parts = [`Everything written to the guest's disks ${since}`];
  if (ctx.running) parts.push('everything in its memory now (open programs, unsaved work)');
  const after =
    snap.content === 'memory'
      ? `The guest resumes as it was at the snapshot (${snap.state}).`
      : ctx.running
        ? 'The guest is stopped and left off, as it was at the snapshot.'
        : 'The guest stays off.';
  const risks: string[] = [];
  if (kindsOf(ctx.existing).size > 1)
    risks.push('This guest has both internal and external snapshots: check that disks you care about are not left on overlays.');
  return { ok: true, lost: `${parts.join(', and ')} will be lost. ${after}`, flags: 0, risks };
}

export interface DeletePlan {
  readonly removed: readonly string[];
  readonly flags: number;
}

/** Whether `snap` (and its descendants with `withChildren`) can be deleted here. */
export function planDelete(snap: SnapshotInfo, descendantsOf: readonly SnapshotInfo[], withChildren: boolean, ctx: SnapshotContext): Plan<DeletePlan> {
  const removed = withChildren ? [snap, ...descendantsOf] : [snap];
  const external = removed.filter((s) => s.location !== 'internal');
  if (external.length && ctx.libVersion < EXTERNAL_DELETE_SINCE) {
    return refuse(
      `libvirt ${versionString(ctx.libVersion)} on this host cannot delete external snapshots (${external.map((s) => `"${s.name}"`).join(', ')}); that arrives in libvirt 9.0`,
    );
  }
  const risks = !withChildren && descendantsOf.length ? [`Its ${descendantsOf.length} child snapshot(s) stay and move up to its parent.`] : [];
  return { ok: true, removed: removed.map((s) => s.name), flags: withChildren ? P.SnapshotDeleteFlags.CHILDREN : 0, risks };
}
