// Snapshots of an LXD instance through the API: flat (no parent chain), named by the user, taken of
// the disk while the instance runs (a stateful snapshot, with memory, needs CRIU or a VM set up for
// it: refused with that reason rather than failing midway).
import { stringify } from 'yaml';
import type { SnapshotInfo } from '../snapshots/model';
import type { CreateRequest, Plan } from '../snapshots/safety';
import type { Snapshots } from '../snapshots/snapshots';
import type { Guest } from '../model';
import type { LxdApi } from './lxd/api';
import type { LxdSnapshot } from './lxd/types';
import { lxdBackendError, parseLxdGuestId } from './lxdBackend';

export function snapshotInfoOf(s: LxdSnapshot): SnapshotInfo {
  const t = Date.parse(s.created_at);
  return {
    name: s.name.includes('/') ? s.name.slice(s.name.lastIndexOf('/') + 1) : s.name,
    creationTime: Number.isFinite(t) ? Math.floor(t / 1000) : undefined,
    state: s.stateful ? 'running' : 'shutoff',
    content: s.stateful ? 'memory' : 'stopped',
    location: 'copy',
    disks: [],
    current: false,
  };
}

export class LxdSnapshots implements Snapshots {
  readonly naming = 'user' as const;
  private readonly name: string;
  private readonly project: string;

  constructor(
    private readonly api: () => LxdApi,
    private readonly guest: Guest,
  ) {
    ({ name: this.name, project: this.project } = parseLxdGuestId(guest.id));
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw lxdBackendError(e, this.name);
    }
  }

  async list(): Promise<SnapshotInfo[]> {
    const snaps = await this.call(() => this.api().snapshots(this.name, { project: this.project }));
    return snaps.map(snapshotInfoOf).sort((a, b) => (a.creationTime ?? 0) - (b.creationTime ?? 0));
  }

  async inspect(snapshot: string): Promise<{ language: string; text: string }> {
    const snaps = await this.call(() => this.api().snapshots(this.name, { project: this.project }));
    const s = snaps.find((x) => snapshotInfoOf(x).name === snapshot);
    return { language: 'yaml', text: stringify(s ?? { error: `no snapshot "${snapshot}"` }) };
  }

  async planCreate(req: CreateRequest): Promise<Plan<{ location: 'internal' | 'external' | 'copy' }>> {
    if (req.memory)
      return { ok: false, reason: 'LXD keeps memory in a snapshot only with CRIU (containers) or a VM set up for stateful migration; take a disk snapshot' };
    if (req.quiesce) return { ok: false, reason: 'LXD does not freeze the file systems through an agent for a snapshot' };
    const existing = await this.list();
    if (existing.some((s) => s.name === req.name)) return { ok: false, reason: `"${this.guest.name}" has a snapshot "${req.name}" already` };
    return { ok: true, risks: [], location: 'copy' };
  }

  async create(req: CreateRequest): Promise<SnapshotInfo> {
    const plan = await this.planCreate(req);
    if (!plan.ok) throw lxdBackendError(new Error(plan.reason), this.name);
    await this.call(() => this.api().createSnapshot(this.name, req.name, { project: this.project }));
    return (
      (await this.list()).find((s) => s.name === req.name) ?? {
        name: req.name,
        state: 'shutoff',
        content: 'stopped',
        location: 'copy',
        disks: [],
        current: false,
      }
    );
  }

  async planRevert(snapshot: string): Promise<Plan<{ lost: string }>> {
    return { ok: true, risks: [], lost: `What changed in "${this.guest.name}" since snapshot "${snapshot}" was taken is lost.` };
  }

  async revert(snapshot: string): Promise<void> {
    await this.call(() => this.api().restoreSnapshot(this.name, snapshot, { project: this.project }));
  }

  async planDelete(snapshot: string): Promise<Plan<{ removed: readonly string[] }>> {
    return { ok: true, risks: [], removed: [snapshot] };
  }

  async delete(snapshot: string): Promise<void> {
    await this.call(() => this.api().deleteSnapshot(this.name, snapshot, { project: this.project }));
  }
}
