// De-duplication of the cluster's event stream: another member's copy of an event is dropped, the
// same event again from the same member (a real repeat) is not, and nothing is remembered for long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventDeduplicator, eventKey } from '../../src/core/backends/lxd/events';
import type { LxdEvent } from '../../src/core/backends/lxd/types';

const ev = (location: string, action = 'instance-started', extra: Partial<LxdEvent> = {}): LxdEvent => ({
  type: 'lifecycle',
  timestamp: `2026-12-03T17:00:00.${location.length}Z`,
  location,
  project: 'default',
  metadata: { action, source: '/1.0/instances/c1', context: { b: 1, a: 2 } },
  ...extra,
});

test("another member's copy is dropped; the same member's repeat passes", () => {
  let now = 0;
  const d = new EventDeduplicator(2000, () => now);
  assert.equal(d.accept(ev('member1')), true);
  assert.equal(d.accept(ev('member2')), false);
  assert.equal(d.accept(ev('member3')), false);
  assert.equal(d.accept(ev('member1')), true, 'started again on the same member is a new event');
  assert.equal(d.accept(ev('member1', 'instance-stopped')), true);
  now = 2500;
  assert.equal(d.accept(ev('member2')), true, 'outside the window it is a new event');
});

test('the key ignores where and when, and the order of keys; the project and type count', () => {
  const a = ev('member1');
  const b = { ...ev('member2'), metadata: { context: { a: 2, b: 1 }, source: '/1.0/instances/c1', action: 'instance-started' } };
  assert.equal(eventKey(a), eventKey(b));
  assert.notEqual(eventKey(a), eventKey(ev('member1', 'instance-started', { project: 'other' })));
  assert.notEqual(eventKey(a), eventKey(ev('member1', 'instance-started', { type: 'operation' })));
});
