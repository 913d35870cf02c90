import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionChildren, connectionItemSpec, groupChildren, guestItemSpec } from '../../src/core/treeModel';
import { Guest } from '../../src/core/model';

const g = (name: string, kind: Guest['kind'], state: Guest['state'] = 'running'): Guest => ({ id: `${kind}:${name}`, name, kind, state, rawState: state });
const guests = [g('zeta', 'container'), g('alpha', 'qemu', 'stopped'), g('ct', 'lxc', 'paused'), g('beta', 'qemu'), g('vl', 'libvirt-lxc')];

test('connected: groups by kind in a fixed order with counts', () => {
  const kids = connectionChildren({ state: 'connected' }, guests);
  assert.deepEqual(
    kids.map((k) => (k.type === 'group' ? `${k.label}:${k.count}` : k.label)),
    ['QEMU/KVM domains:2', 'libvirt-LXC domains:1', 'LXC containers:1', 'Containers:1'],
  );
});

test('group children are sorted by name', () => {
  assert.deepEqual(
    groupChildren(guests, 'qemu').map((x) => x.name),
    ['alpha', 'beta'],
  );
});

test('connected but empty: says so', () => {
  const kids = connectionChildren({ state: 'connected' }, []);
  assert.equal(kids.length, 1);
  assert.equal(kids[0].label, 'No guests on this host');
});

test('unreachable: the reason and a fix-it node instead of an empty tree', () => {
  const kids = connectionChildren(
    { state: 'unreachable', message: 'cannot connect to /run/libvirt/libvirt-sock: ENOENT', hint: 'Start libvirtd: sudo systemctl start libvirtd', since: 0 },
    [],
  );
  assert.equal(kids.length, 2);
  assert.match(kids[0].label, /libvirt-sock/);
  assert.ok(kids[1].type === 'message' && kids[1].fix);
  assert.match(kids[1].label, /^How to fix: Start libvirtd/);
  const spec = connectionItemSpec('QEMU', 'qemu:///system', { state: 'unreachable', message: 'x', since: 0 }, 0);
  assert.equal(spec.description, 'unreachable');
  assert.equal(spec.contextValue, 'connection unreachable configured');
});

test('guest item: icon by state, description, menus only for fitting verbs', () => {
  const s = guestItemSpec({ ...g('web', 'qemu'), vcpus: 2, memoryBytes: 512 * 1024 ** 2 }, 'QEMU');
  assert.equal(s.description, 'running · 2 vCPU · 512 MiB');
  assert.deepEqual(s.icon, { id: 'vm-running', color: 'charts.green' });
  assert.equal(s.contextValue, 'guest kind-qemu state-running can-shutdown can-reboot can-suspend can-forceOff');
  const st = guestItemSpec(g('db', 'lxc', 'stopped'), 'LXC');
  assert.equal(st.icon.id, 'vm-outline');
  assert.match(st.contextValue, /can-start can-delete$/);
});
