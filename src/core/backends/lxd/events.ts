// The /1.0/events stream of a cluster carries the events of every member; some things (a certificate
// added, a cluster-wide config change) are announced by each member, so the same event arrives once
// per member with another `location`. The deduplicator lets the first through and drops copies from
// other members within a short window; the same event again from the SAME member is a new event (a
// start, a stop and a start again within a second) and passes.
import type { LxdEvent } from './types';

export const EVENT_DEDUP_WINDOW_MS = 2000;

/**
 * The event without what differs between members' copies of it: where and when it was emitted, and
 * the requestor (only the member that served the request knows it; the others' copies leave it empty).
 */
export function eventKey(e: LxdEvent): string {
  const { requestor: _requestor, ...rest } = e.metadata as Record<string, unknown>;
  return `${e.type}\u0000${e.project ?? ''}\u0000${stableJson(rest)}`;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export class EventDeduplicator {
  /** key -> the members it came from, and when it was first seen */
  private readonly seen = new Map<string, { at: number; from: Set<string> }>();

  constructor(
    private readonly windowMs = EVENT_DEDUP_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Should this event be delivered (true), or is it another member's copy of one already delivered? */
  accept(e: LxdEvent): boolean {
    const t = this.now();
    this.forgetOlderThan(t - this.windowMs);
    const key = eventKey(e);
    const where = e.location ?? '';
    const prior = this.seen.get(key);
    if (prior && !prior.from.has(where)) {
      prior.from.add(where);
      return false;
    }
    this.seen.delete(key); // re-inserted at the end, keeping the map in time order
    this.seen.set(key, { at: t, from: new Set([where]) });
    return true;
  }

  private forgetOlderThan(t: number): void {
    for (const [k, v] of this.seen) {
      if (v.at >= t) break; // insertion order is time order
      this.seen.delete(k);
    }
  }
}
