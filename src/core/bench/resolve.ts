// From recorded target references (a report's spec, a tasks.json entry) to live guests.
import type { Host } from '../host/host';
import { Backend, Guest } from '../model';
import { ResolvedTarget } from './run';
import { BenchTargetRef } from './types';

/** A target as written by hand (tasks.json): a guest name, optionally "connectionId/name". */
export type TargetSpec = string | (Partial<BenchTargetRef> & { guestName: string });

export function parseTargetSpec(s: TargetSpec): { connectionId?: string; guestName: string; diskPath?: string; rawDeviceWrites?: boolean } {
  if (typeof s !== 'string') return s;
  const i = s.indexOf('/');
  return i > 0 ? { connectionId: s.slice(0, i), guestName: s.slice(i + 1) } : { guestName: s };
}

/**
 * Finds each target's guest: by connection id when given, else in every connection; by guest id
 * first, then by name. Throws naming the guests that were not found or are not running.
 */
export async function resolveTargets(
  specs: readonly TargetSpec[],
  backends: ReadonlyArray<{ id: string; label?: string; backend: () => Promise<Backend>; host?: Host }>,
): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = [];
  const problems: string[] = [];
  const lists = new Map<string, { backend: Backend; guests: Guest[] } | Error>();
  const listOf = async (id: string) => {
    if (!lists.has(id)) {
      const b = backends.find((x) => x.id === id)!;
      try {
        const backend = await b.backend();
        lists.set(id, { backend, guests: await backend.list() });
      } catch (e) {
        lists.set(id, e as Error);
      }
    }
    return lists.get(id)!;
  };
  for (const raw of specs) {
    const s = parseTargetSpec(raw);
    const ref = raw as Partial<BenchTargetRef>;
    const candidates = s.connectionId ? backends.filter((b) => b.id === s.connectionId) : backends;
    if (s.connectionId && !candidates.length) {
      problems.push(`${s.guestName}: no connection "${s.connectionId}"`);
      continue;
    }
    let found: ResolvedTarget | undefined;
    for (const c of candidates) {
      const l = await listOf(c.id);
      if (l instanceof Error) {
        problems.push(`${c.label ?? c.id}: ${l.message}`);
        continue;
      }
      const g = (ref.guestId && l.guests.find((x) => x.id === ref.guestId)) || l.guests.find((x) => x.name === s.guestName);
      if (g) {
        found = {
          backend: l.backend,
          guest: g,
          host: c.host,
          ref: {
            connectionId: c.id,
            connectionLabel: c.label,
            guestId: g.id,
            guestName: g.name,
            kind: g.kind,
            diskPath: s.diskPath,
            rawDeviceWrites: s.rawDeviceWrites,
          },
        };
        break;
      }
    }
    if (!found) problems.push(`${s.guestName}: not found${s.connectionId ? ` on ${s.connectionId}` : ''}`);
    else if (found.guest.state !== 'running') problems.push(`${s.guestName}: is ${found.guest.state}, not running`);
    else out.push(found);
  }
  if (problems.length) throw new Error(`Cannot benchmark: ${problems.join('; ')}`);
  return out;
}
