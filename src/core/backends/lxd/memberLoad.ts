// A cluster member's load line in the tree ("load 0.42 0.30 0.21 · 1.2 of 3.8 GiB RAM used"):
// from the member's own state where the server has it (`cluster_member_state`), else from its
// resources (LXD 5.0: CPUs and memory, no load averages). Read for online members only, a few at
// a time, every few member polls: a load line is worth a request, not a relist of every instance.
import { formatBytes } from '../../model';
import type { LxdApi } from './api';
import type { LxdMemberState, LxdResources } from './types';

/** What the tree shows of a member's load, from what the server answered. */
export function memberLoadLine(read: { state?: LxdMemberState; resources?: LxdResources }): string | undefined {
  const si = read.state?.sysinfo;
  if (si) {
    const parts: string[] = [];
    if (si.load_averages?.length) parts.push(`load ${si.load_averages.map((n) => n.toFixed(2)).join(' ')}`);
    if (si.total_ram) parts.push(`${formatBytes(si.total_ram - (si.free_ram ?? 0))} of ${formatBytes(si.total_ram)} RAM used`);
    return parts.join(' · ') || undefined;
  }
  const r = read.resources;
  if (!r) return undefined;
  const parts: string[] = [];
  if (r.cpu?.total) parts.push(`${r.cpu.total} CPU${r.cpu.total === 1 ? '' : 's'}`);
  if (r.memory?.total) parts.push(`${formatBytes(r.memory.used ?? 0)} of ${formatBytes(r.memory.total)} RAM used`);
  return parts.join(' · ') || undefined;
}

/** The members' load lines, re-read every `every`-th call of `refresh` (the member poll). */
export class MemberLoads {
  private readonly lines = new Map<string, string>();
  private calls = 0;

  constructor(private readonly every = 3) {}

  get(member: string): string | undefined {
    return this.lines.get(member);
  }

  /** Re-reads the load of `online` members when due; true when a line the tree shows changed. */
  async refresh(api: LxdApi, online: readonly string[], force = false): Promise<boolean> {
    if (!force && this.calls++ % this.every !== 0) return false;
    const read = await Promise.all(online.map((m) => api.memberLoad(m).then(memberLoadLine, () => undefined)));
    let changed = false;
    for (const name of [...this.lines.keys()]) if (!online.includes(name)) changed = this.lines.delete(name) || changed;
    online.forEach((m, i) => {
      const line = read[i];
      if (line === this.lines.get(m)) return;
      changed = true;
      if (line) this.lines.set(m, line);
      else this.lines.delete(m);
    });
    return changed;
  }
}
