// Snapshots of an lxc-tools container with lxc-snapshot (list, create, restore, destroy), argv only.
// On a dir backend lxc-snapshot copies the whole root file system, which must not change meanwhile:
// create and restore are refused while the container runs, with stopFirst set so the UI can offer
// to stop it. lxc names the snapshots itself (snap0, snap1…); the user's words become the comment.
import * as path from 'node:path';
import type { Host } from '../host/host';
import { BackendError, GuestState } from '../model';
import type { SnapshotInfo } from '../snapshots/model';
import type { CreateRequest, Plan } from '../snapshots/safety';
import type { Snapshots } from '../snapshots/snapshots';

export interface LxcSnapshotDeps {
  readonly host: Host;
  /** Runs lxc-snapshot with these arguments (the container and lxcpath are added here). */
  readonly run: (args: string[], timeoutMs?: number) => Promise<string>;
  readonly pathArgs: () => string[];
  readonly state: () => Promise<GuestState | undefined>;
}

/** "snap0 (/var/lib/lxc/c/snaps) 2026:12:03 14:18:19" lines of `lxc-snapshot -L`. */
export function parseLxcSnapshotList(out: string): { name: string; dir: string; time?: number }[] {
  const found: { name: string; dir: string; time?: number }[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+) \((.*)\) (\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(line.trim());
    if (!m) continue;
    const [, name, dir, y, mo, d, h, mi, s] = m;
    const t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000;
    found.push({ name, dir, time: Number.isFinite(t) ? t : undefined });
  }
  return found;
}

const COPY_MS = 30 * 60_000;

export class LxcSnapshots implements Snapshots {
  readonly naming = 'automatic' as const;

  constructor(
    private readonly deps: LxcSnapshotDeps,
    private readonly container: string,
  ) {}

  private args(...more: string[]): string[] {
    return ['-n', this.container, ...this.deps.pathArgs(), ...more];
  }

  async list(): Promise<SnapshotInfo[]> {
    const rows = parseLxcSnapshotList(await this.deps.run(this.args('-L')));
    return Promise.all(
      rows.map(async (r) => {
        const comment = await this.deps.host.readFile(path.join(r.dir, r.name, 'comment')).catch(() => '');
        return {
          name: r.name,
          description: comment.trim() || undefined,
          creationTime: r.time,
          state: 'shutoff',
          content: 'stopped' as const,
          location: 'copy' as const,
          disks: [],
          current: false,
        };
      }),
    );
  }

  async inspect(name: string): Promise<{ language: string; text: string }> {
    const row = parseLxcSnapshotList(await this.deps.run(this.args('-L'))).find((r) => r.name === name);
    if (!row) throw new BackendError(`snapshot "${name}" of "${this.container}" no longer exists`, 'ENOENT');
    return { language: 'properties', text: await this.deps.host.readFile(path.join(row.dir, name, 'config')) };
  }

  private async stoppedOr(what: string): Promise<Plan<object> | undefined> {
    const state = await this.deps.state();
    if (state === 'stopped') return undefined;
    return {
      ok: false,
      stopFirst: true,
      reason: `"${this.container}" is ${state ?? 'in an unknown state'}: ${what} copies its whole root file system, which must not change meanwhile. Stop the container first.`,
    };
  }

  async planCreate(_req: CreateRequest): Promise<Plan<{ location: 'copy' }>> {
    return ((await this.stoppedOr('lxc-snapshot')) as Plan<{ location: 'copy' }> | undefined) ?? { ok: true, location: 'copy', risks: [] };
  }

  async create(req: CreateRequest): Promise<SnapshotInfo> {
    const refused = await this.stoppedOr('lxc-snapshot');
    if (refused && !refused.ok) throw new BackendError(`cannot snapshot "${this.container}": ${refused.reason}`, 'EREFUSED');
    const before = new Set((await this.list()).map((s) => s.name));
    const comment = [req.name, req.description].filter((s) => s && s.trim()).join('\n');
    const dir = comment ? await this.deps.host.mkdtemp('virtscope-lxcsnap-') : undefined;
    try {
      const args = this.args();
      if (dir) {
        await this.deps.host.writeFile(path.join(dir, 'comment'), `${comment}\n`);
        args.push('-c', path.join(dir, 'comment'));
      }
      await this.deps.run(args, COPY_MS);
    } finally {
      if (dir) await this.deps.host.rm(dir, { recursive: true, force: true });
    }
    const made = (await this.list()).find((s) => !before.has(s.name));
    if (!made) throw new BackendError(`lxc-snapshot reported success but no new snapshot of "${this.container}" is listed`, 'EIO');
    return made;
  }

  async planRevert(name: string): Promise<Plan<{ lost: string }>> {
    const snap = (await this.list()).find((s) => s.name === name);
    if (!snap) return { ok: false, reason: `snapshot "${name}" of "${this.container}" no longer exists` };
    const refused = await this.stoppedOr('restoring a snapshot');
    if (refused && !refused.ok) return refused;
    const when = snap.creationTime
      ? new Date(snap.creationTime * 1000)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC')
      : 'it was taken';
    return { ok: true, lost: `The container's root file system and config are replaced by the copy from ${when}: every change since is lost.`, risks: [] };
  }

  async revert(name: string): Promise<void> {
    const plan = await this.planRevert(name);
    if (!plan.ok) throw new BackendError(`cannot restore "${this.container}": ${plan.reason}`, 'EREFUSED');
    await this.deps.run(this.args('-r', name), COPY_MS);
  }

  async planDelete(name: string): Promise<Plan<{ removed: readonly string[] }>> {
    if (!(await this.list()).some((s) => s.name === name)) return { ok: false, reason: `snapshot "${name}" of "${this.container}" no longer exists` };
    return { ok: true, removed: [name], risks: [] };
  }

  async delete(name: string): Promise<void> {
    const plan = await this.planDelete(name);
    if (!plan.ok) throw new BackendError(`cannot delete snapshot "${name}": ${plan.reason}`, 'ENOENT');
    await this.deps.run(this.args('-d', name), COPY_MS);
  }
}
