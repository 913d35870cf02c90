// Lifecycle verbs over the tree's multi-selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest } from '../../src/core/model';
import { confirmation, planVerb, skippedMessage, targetsOf } from '../../src/extension/selection';

const g = (name: string, state: Guest['state'], kind: Guest['kind'] = 'qemu'): Guest => ({ id: name, name, kind, state, rawState: state });
const t = (guest: Guest) => ({ node: guest.name, guest, name: guest.name });

test('targetsOf: the selection when it holds the clicked node, else the clicked node alone', () => {
  assert.deepEqual(targetsOf('a', ['a', 'b']), ['a', 'b']);
  assert.deepEqual(targetsOf('c', ['a', 'b']), ['c'], 'an inline button on an unselected row acts on that row');
  assert.deepEqual(targetsOf('a', undefined), ['a'], 'executeCommand(id, node) from tests and keybindings');
  assert.deepEqual(targetsOf('a', { suites: [] }), ['a']);
  assert.deepEqual(targetsOf(undefined, undefined), [], 'the palette: ask');
});

test('planVerb: applies to the guests whose state allows it, skips the others (and the vanished)', () => {
  const plan = planVerb('start', [t(g('a', 'stopped')), t(g('b', 'running')), { node: 'c', guest: undefined, name: 'c' }, t(g('d', 'crashed'))]);
  assert.deepEqual(
    plan.apply.map((x) => x.node),
    ['a', 'd'],
  );
  assert.deepEqual(
    plan.skipped.map((x) => `${x.name}:${x.why}`),
    ['b:running', 'c:gone'],
  );
  assert.equal(skippedMessage('start', plan), 'Start skipped "b" (running), "c" (gone): not allowed in that state. Done for "a", "d".');
  assert.equal(skippedMessage('start', planVerb('start', [t(g('a', 'stopped'))])), undefined);
});

test('skippedMessage: one guest keeps the single-guest wording', () => {
  assert.equal(skippedMessage('suspend', planVerb('suspend', [t(g('ct', 'stopped', 'lxc'))])), 'Freeze does not apply to "ct" while it is stopped.');
  assert.equal(
    skippedMessage('start', planVerb('start', [{ node: 'x', guest: undefined, name: 'x' }])),
    '"x" is gone from its connection; the tree is refreshed.',
  );
});

test('confirmation: destructive verbs ask once for the whole selection, naming the guests', () => {
  const one = confirmation('forceOff', [g('labct', 'running', 'lxc')])!;
  assert.equal(one.message, 'Force off "labct"?', 'the e2e test reads this dialog');
  assert.equal(one.button, 'Force Off');
  const two = confirmation('delete', [g('a', 'stopped'), g('b', 'stopped', 'lxc')])!;
  assert.equal(two.message, 'Delete 2 guests: "a", "b"?');
  assert.match(two.detail, /"a".*libvirt[\s\S]*"b".*root filesystem/);
  assert.equal(two.button, 'Delete');
  for (const v of ['start', 'shutdown', 'reboot', 'suspend', 'resume'] as const) assert.equal(confirmation(v, [g('a', 'running')]), undefined, v);
});
