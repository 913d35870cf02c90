// The Guests tree renders the model: hosts at the top (this machine first, then remote hosts by
// label), their connections, kind groups, guests; an unreachable host shows SSH's reason; listing
// starts nothing; a change fires only its node; other features hook children in. guestTree.ts imports
// vscode: a minimal stub stands in for it. The model is the real Inventory over fake backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TreeItem } from './vscode-tree-stub'; // installs the vscode stub the views import
import type { Backend, ConnectionConfig, Guest } from '../../src/core/model';
import type { RemoteHost } from '../../src/core/inventory';
import { SshUnreachableError } from '../../src/core/host/ssh';

const guests = new Map<string, Guest[]>();
const fakeBackend = (config: ConnectionConfig): Backend => ({
  config,
  connect: async () => {},
  close: async () => {},
  list: async () => (guests.get(config.id) ?? []).map((g) => ({ ...g })),
  get: async () => undefined,
  perform: async () => {},
  definition: async () => ({ language: 'xml', text: '' }),
  subscribe: () => true,
});
const g = (name: string, kind: Guest['kind'] = 'qemu'): Guest => ({ id: name, name, kind, state: 'running', rawState: 'running' });

async function setup() {
  const { Inventory } = await import('../../src/core/inventory');
  const { GuestTreeProvider } = await import('../../src/views/guestTree');
  const refuse = new Map<string, string>();
  const model = new Inventory({
    discover: async (_h, p) => [{ id: `${p}lxc-tools`, type: 'lxc', label: 'LXC (lxc-tools)' }],
    remoteHost: (e) =>
      ({
        label: e.destination,
        connect: async () => {
          const r = refuse.get(e.id);
          if (r) throw new SshUnreachableError(['ssh'], e.destination, r);
        },
        dispose: async () => {},
      }) as unknown as RemoteHost,
    backend: (c) => fakeBackend(c),
    connection: { debounceMs: 5 },
    hostRetryMinMs: 10_000,
  });
  model.setLocalConnections([
    { id: 'qemu-system', label: 'QEMU/KVM (qemu:///system)', type: 'libvirt', uri: 'qemu:///system' },
    { id: 'lxc-tools', label: 'LXC (lxc-tools)', type: 'lxc' },
  ]);
  const tree = new GuestTreeProvider(model);
  const fired: unknown[] = [];
  tree.onDidChangeTreeData((n) => fired.push(n));
  return { model, tree, refuse, fired };
}

const labels = (tree: { getTreeItem(n: never): { label?: unknown } }, nodes: unknown[]) => nodes.map((n) => String(tree.getTreeItem(n as never).label));

test('top level: This machine first, then remote hosts by label; under each its connections, then kind groups and guests', async () => {
  guests.clear();
  guests.set('qemu-system', [g('labvm')]);
  guests.set('lxc-tools', [g('labct', 'lxc')]);
  guests.set('b/lxc-tools', [g('remotect', 'lxc')]);
  const { model, tree } = await setup();
  model.setHosts([
    { id: 'b', label: 'zulu', destination: 'root@zulu' },
    { id: 'a', label: 'alpha', destination: 'alpha' },
  ]);
  const hosts = tree.getChildren();
  assert.deepEqual(labels(tree, hosts), ['This machine', 'alpha', 'zulu']);
  assert.equal(tree.getTreeItem(hosts[0]).contextValue, 'host local');
  assert.equal(tree.getTreeItem(hosts[1]).contextValue, 'host remote idle');
  // listing the tree starts nothing: the model is opened by the view being shown
  assert.deepEqual(
    model.connections.map((c) => c.status.state),
    ['idle', 'idle'],
  );
  await model.open();
  assert.equal(tree.getTreeItem(hosts[2]).description, '1 connection');
  const local = tree.getChildren(hosts[0]);
  assert.deepEqual(labels(tree, local), ['QEMU/KVM (qemu:///system)', 'LXC (lxc-tools)']);
  assert.match(String(tree.getTreeItem(local[0]).contextValue), /^connection connected configured$/);
  const remoteConn = tree.getChildren(hosts[2]);
  assert.equal(tree.getTreeItem(remoteConn[0]).contextValue, 'connection connected discovered', 'Remove Connection does not apply: it was found on the host');
  const [group] = tree.getChildren(remoteConn[0]);
  const [row] = tree.getChildren(group);
  assert.equal(tree.getTreeItem(row).label, 'remotect');
  assert.equal(tree.getParent(tree.getParent(tree.getParent(row)!)!), hosts[2]);
  await model.dispose();
  tree.dispose();
});

test("an unreachable host shows SSH's own reason and a reconnect row; a change fires only that host's node", async () => {
  guests.clear();
  guests.set('qemu-system', [g('labvm')]);
  const { model, tree, refuse, fired } = await setup();
  refuse.set('far', 'ssh: connect to host 10.81.0.2 port 22: Connection refused');
  model.setHosts([{ id: 'far', destination: 'root@far' }]);
  await model.open();
  const [localNode, farNode] = tree.getChildren();
  fired.length = 0;
  await model.reconnectHost('far');
  assert.ok(fired.length > 0 && fired.every((n) => n === farNode), "only the remote host's node was redrawn");
  const item = tree.getTreeItem(farNode);
  assert.equal(item.description, 'unreachable');
  assert.equal(item.contextValue, 'host remote unreachable');
  const kids = tree.getChildren(farNode);
  assert.deepEqual(labels(tree, kids), ['ssh: connect to host 10.81.0.2 port 22: Connection refused', 'Retrying by itself — Reconnect now']);
  assert.equal((tree.getTreeItem(kids[1]).command as { command: string }).command, 'virtscope.host.reconnect');
  assert.equal(tree.getTreeItem(tree.getChildren(tree.getChildren(tree.getChildren(localNode)[0])[0])[0]).label, 'labvm', 'this machine is as it was');
  await model.dispose();
  tree.dispose();
});

test('child providers add nodes under guests and connections; the guest row becomes expandable', async () => {
  guests.clear();
  guests.set('qemu-system', [g('labvm')]);
  const { model, tree } = await setup();
  await model.open();
  const off = tree.addChildProvider({
    children: (parent) =>
      parent.kind === 'guest' ? [{ kind: 'extra', parent, treeItem: () => new TreeItem(`snapshot of ${parent.guest!.name}`, 0) as never }] : [],
    hasChildren: (n) => n.guest?.name === 'labvm',
  });
  const conn = tree.connectionNode(model.connection('qemu-system')!);
  const row = tree.getChildren(tree.getChildren(conn)[0])[0];
  assert.equal(tree.getTreeItem(row).collapsibleState, 1 /* Collapsed */);
  assert.deepEqual(labels(tree, tree.getChildren(row)), ['snapshot of labvm']);
  off.dispose();
  assert.equal(tree.getTreeItem(row).collapsibleState, 0 /* None */);
  await model.dispose();
  tree.dispose();
});

test('the tree listens to the model once, and not after dispose (no listeners pile up on settings reloads)', async () => {
  const { model, tree } = await setup();
  for (const ev of ['hosts', 'host', 'status', 'guests'] as const) assert.equal(model.listenerCount(ev), 1, ev);
  model.setLocalConnections([{ id: 'x', type: 'lxc' }]);
  model.setLocalConnections([{ id: 'y', type: 'lxc' }]);
  for (const ev of ['hosts', 'host', 'status', 'guests'] as const) assert.equal(model.listenerCount(ev), 1, `${ev} after reloads`);
  tree.dispose();
  for (const ev of ['hosts', 'host', 'status', 'guests'] as const) assert.equal(model.listenerCount(ev), 0, `${ev} after dispose`);
  await model.dispose();
});

test('adding a host keeps the nodes of everything else (their rows are not rebuilt)', async () => {
  guests.clear();
  guests.set('qemu-system', [g('labvm')]);
  const { model, tree } = await setup();
  await model.open();
  const [localNode] = tree.getChildren();
  const conn = tree.getChildren(localNode)[0];
  const row = tree.getChildren(tree.getChildren(conn)[0])[0];
  model.setHosts([{ id: 'new', destination: 'new' }]);
  const [localAgain, added] = tree.getChildren();
  assert.equal(localAgain, localNode);
  assert.equal(tree.getChildren(localAgain)[0], conn);
  assert.equal(tree.getChildren(tree.getChildren(conn)[0])[0], row);
  assert.equal(tree.getTreeItem(added).label, 'new');
  await model.dispose();
  tree.dispose();
});
