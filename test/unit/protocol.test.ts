// The metrics webview protocol: the webview's guard accepts what the panels send and drops the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isToWebview, ToWebview } from '../../src/protocol/metrics';

const state = { view: 'guest' as const, connectionId: 'c', guestId: 'g' };
const sent: ToWebview[] = [
  { type: 'init', view: 'guest', state, title: 't', subtitle: 's', hostNote: 'n' },
  { type: 'init', view: 'host', state: { view: 'host', connectionId: 'c' }, title: 't' },
  { type: 'init', view: 'compare', state: { view: 'compare' }, title: 't', containers: [{ key: 'c|1', label: 'ct' }], vms: [], selected: {} },
  { type: 'series', host: { t: [1], series: { cpu: [1] } }, guest: { t: [], series: {} }, side: { ok: false, error: 'no agent' } },
  { type: 'point', host: { t: 1, p: { cpu: 2 } } },
  { type: 'rows', rows: [{ guestId: 'g', name: 'web', kind: 'qemu', state: 'running', cpu: 3, spark: [1, null] }], host: {} },
  { type: 'observeData', vm: { summary: 's', rows: [{ pid: 1, comm: 'qemu', role: 'main' }] } },
  { type: 'compareRows', rows: [], pair: {}, error: 'needs a running container' },
];

test('isToWebview: every message the panels send passes', () => {
  for (const m of sent) assert.ok(isToWebview(m), JSON.stringify(m));
});

test('isToWebview: unknown types and missing fields are dropped', () => {
  for (const m of [
    null,
    'init',
    { type: 'nope' },
    { type: 'init', view: 'observe', title: 't', state: {} },
    { type: 'series', host: {} },
    { type: 'point', host: { t: 'x' } },
    { type: 'rows', rows: [{}], host: {} },
    { type: 'observeData', vm: { rows: [] } },
    { type: 'compareRows', rows: [{ label: 'x' }], pair: {} },
  ]) {
    assert.equal(isToWebview(m), false, JSON.stringify(m));
  }
});
