// The one guest picker (over the model, not the tree), the connection picker, what Add Host… offers
// and saves, and how ssh's questions are asked. A fake UI records what would be shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inventory, RemoteHost } from '../../src/core/inventory';
import type { Backend, ConnectionConfig, Guest } from '../../src/core/model';
import { guestItems, pickConnection, pickGuest, pickGuests, PickerUi, PickItem, PickOptions } from '../../src/extension/pickers';
import { addHostItems, askpassQuestion, destinationProblem, newHostEntry } from '../../src/extension/hostQuestions';
import { askpassKind } from '../../src/core/host/askpass';

const listed = new Map<string, Guest[]>();
const backend = (config: ConnectionConfig): Backend => ({
  config,
  connect: async () => {},
  close: async () => {},
  list: async () => listed.get(config.id) ?? [],
  get: async () => undefined,
  perform: async () => {},
  definition: async () => ({ language: 'xml', text: '' }),
  subscribe: () => true,
});
const guest = (name: string, kind: Guest['kind'], state: Guest['state'] = 'running'): Guest => ({
  id: `id-${name}`,
  name,
  kind,
  state,
  rawState: state,
  vcpus: 1,
});

function model(): Inventory {
  listed.clear();
  listed.set('qemu-system', [guest('labvm', 'qemu'), guest('off', 'qemu', 'stopped')]);
  listed.set('containers', [guest('labpod', 'container')]);
  listed.set('lab2/qemu-system', [guest('remotevm', 'qemu')]);
  const inv = new Inventory({
    discover: async (_h, p) => [{ id: `${p}qemu-system`, label: 'QEMU/KVM (qemu:///system)', type: 'libvirt', uri: 'qemu:///system' }],
    remoteHost: (e) => ({ label: e.destination, connect: async () => {}, dispose: async () => {} }) as unknown as RemoteHost,
    backend,
  });
  inv.setLocalConnections([
    { id: 'qemu-system', label: 'QEMU/KVM (qemu:///system)', type: 'libvirt', uri: 'qemu:///system' },
    { id: 'containers', label: 'Docker/Podman', type: 'docker' },
  ]);
  inv.setHosts([{ id: 'lab2', label: 'sshhost-lab', destination: 'sshhost-lab' }]);
  return inv;
}

/** Answers each pick with `choose(items)`, and records what was shown. */
function fakeUi(choose: (items: readonly PickItem<unknown>[]) => number[] | undefined = () => [0]) {
  const shown: Array<{ items: readonly PickItem<unknown>[]; opts: PickOptions; many: boolean }> = [];
  const infos: string[] = [];
  const ui: PickerUi = {
    async pick(items, opts) {
      shown.push({ items, opts, many: false });
      const i = choose(items);
      return i ? items[i[0]] : undefined;
    },
    async pickMany(items, opts) {
      shown.push({ items, opts, many: true });
      const i = choose(items);
      return i ? i.map((k) => items[k]) : undefined;
    },
    info: (m) => void infos.push(m),
  };
  return { ui, shown, infos };
}

test('pickGuest opens the model (connections start on demand) and offers the fitting guests of every host', async () => {
  const inv = model();
  const { ui, shown } = fakeUi((items) => [items.findIndex((i) => i.label === 'remotevm')]);
  const r = await pickGuest(ui, inv, { title: 'virtscope: Shut Down', filter: (g) => g.state === 'running' });
  assert.deepEqual(
    shown[0].items.map((i) => [i.label, i.detail]),
    [
      ['labvm', 'QEMU/KVM domains on QEMU/KVM (qemu:///system)'],
      ['labpod', 'Containers on Docker/Podman'],
      ['remotevm', 'QEMU/KVM domains on QEMU/KVM (qemu:///system) on sshhost-lab'],
    ],
  );
  assert.equal(shown[0].opts.title, 'virtscope: Shut Down');
  assert.equal(r?.guest?.name, 'remotevm');
  assert.equal(r?.conn.config.id, 'lab2/qemu-system');
  await inv.dispose();
});

test('pickGuest: none fits → the user is told and nothing is shown; cancelled → undefined', async () => {
  const inv = model();
  const { ui, shown, infos } = fakeUi();
  assert.equal(await pickGuest(ui, inv, { title: 'Trace', filter: (g) => g.kind === 'lxc', none: 'Trace: no running QEMU guest.' }), undefined);
  assert.deepEqual(infos, ['Trace: no running QEMU guest.']);
  assert.equal(shown.length, 0);
  const cancel = fakeUi(() => undefined);
  assert.equal(await pickGuest(cancel.ui, inv, { title: 'Inspect' }), undefined);
  await inv.dispose();
});

test('pickGuests: several at once (Run Benchmark), an empty choice is a choice', async () => {
  const inv = model();
  const { ui, shown } = fakeUi((items) => items.map((_, i) => i));
  const refs = await pickGuests(ui, inv, { title: 'Run Benchmark: guests', filter: (g) => g.state === 'running' });
  assert.equal(shown[0].many, true);
  assert.deepEqual(
    refs?.map((r) => r.guest?.name),
    ['labvm', 'labpod', 'remotevm'],
  );
  const none = fakeUi(() => []);
  assert.deepEqual(await pickGuests(none.ui, inv, { title: 'Run Benchmark: guests' }), []);
  await inv.dispose();
});

test('guestItems: a guest gone since the query is left out', async () => {
  const inv = model();
  await inv.open();
  const refs = inv.guests();
  listed.set('containers', []);
  await inv.connection('containers')!.refresh();
  assert.deepEqual(
    guestItems(inv, refs).map((i) => i.label),
    ['labvm', 'off', 'remotevm'],
  );
  await inv.dispose();
});

test('pickConnection: label, the remote host and state; Host Overview rows are found by URI', async () => {
  const inv = model();
  await inv.open();
  const { ui, shown } = fakeUi((items) => [items.length - 1]);
  const c = await pickConnection(ui, inv, { title: 'Host Overview' });
  assert.deepEqual(
    shown[0].items.map((i) => [i.label, i.description, i.detail]),
    [
      ['QEMU/KVM (qemu:///system)', 'connected', 'qemu:///system'],
      ['Docker/Podman', 'connected', undefined],
      ['QEMU/KVM (qemu:///system)', 'sshhost-lab · connected', 'qemu:///system'],
    ],
  );
  assert.equal(c?.config.id, 'lab2/qemu-system');
  await inv.dispose();
});

test('Add Host… offers the concrete hosts of ~/.ssh/config (added ones last), then "enter user@host[:port]"', () => {
  const config = 'Host *\n  User me\nHost sshhost-lab 10.81.0.2\n  HostName 10.81.0.2\nHost kvm? web1\n';
  const items = addHostItems(config, [{ id: 'sshhost-lab', destination: 'sshhost-lab' }]);
  assert.deepEqual(
    items.map((i) => [i.label, i.description]),
    [
      ['10.81.0.2', 'from ~/.ssh/config'],
      ['web1', 'from ~/.ssh/config'],
      ['sshhost-lab', 'added already'],
      ['Enter user@host[:port]…', 'a host not in ~/.ssh/config'],
    ],
  );
  assert.deepEqual(
    addHostItems(undefined, []).map((i) => i.value),
    [{ kind: 'enter' }],
    'no ~/.ssh/config: only the input',
  );
});

test('Add Host… saves destination, port and label only; a typo or a duplicate gets a clear message', () => {
  const existing = [{ id: 'kvm1', destination: 'root@kvm1' }];
  assert.deepEqual(newHostEntry('admin@kvm2:2222', existing), { id: 'admin@kvm2-2222', label: 'admin@kvm2:2222', destination: 'admin@kvm2', port: 2222 });
  assert.deepEqual(newHostEntry(' sshhost-lab ', existing), { id: 'sshhost-lab', label: 'sshhost-lab', destination: 'sshhost-lab' });
  assert.throws(() => newHostEntry('root@kvm1', existing), /root@kvm1 is added already/);
  assert.equal(newHostEntry('kvm1', [{ id: 'kvm1', destination: 'other' }]).id, 'kvm1-2', 'ids stay unique');
  assert.match(destinationProblem('root@kvm1:99999')!, /port must be 1-65535.*Type user@host/);
  assert.match(destinationProblem('-oProxyCommand=x')!, /cannot start with "-"/);
  assert.equal(destinationProblem('root@[::1]:22'), undefined);
});

test("ssh's questions: a new host key is a modal with the fingerprint; passphrases and passwords are hidden", () => {
  const hostKey =
    "The authenticity of host '10.81.0.2 (10.81.0.2)' can't be established.\nED25519 key fingerprint is SHA256:abc.\nAre you sure you want to continue connecting (yes/no/[fingerprint])?";
  const q = askpassQuestion({ host: 'sshhost-lab', prompt: hostKey, kind: askpassKind(hostKey) });
  assert.equal(q.type, 'confirm');
  assert.ok(q.type === 'confirm' && q.detail.includes('SHA256:abc') && /sshhost-lab/.test(q.message));
  const pass = askpassQuestion({ host: 'kvm1', prompt: "Enter passphrase for key '/root/.ssh/id_ed25519': ", kind: 'passphrase' });
  assert.deepEqual(pass, { type: 'input', title: 'SSH key passphrase for kvm1', prompt: "Enter passphrase for key '/root/.ssh/id_ed25519':", password: true });
  const pw = askpassQuestion({ host: 'kvm1', prompt: "root@kvm1's password: ", kind: 'password' });
  assert.ok(pw.type === 'input' && pw.password);
  const other = askpassQuestion({ host: 'kvm1', prompt: 'Token: ', kind: 'other' });
  assert.ok(other.type === 'input' && other.password, 'an unknown question may be a secret: hidden');
});
