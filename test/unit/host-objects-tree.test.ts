// The tree's host objects: a Snapshots folder under guests that have snapshots, the snapshot tree
// (parent → children, current marked), Storage (pools → volumes) and Networks (→ leases) under a
// connection whose backend has them. guestTree.ts imports vscode: a small stub stands in for it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import './vscode-tree-stub'; // before the views: they import vscode
import type { TreeItem } from './vscode-tree-stub';
import { parseSnapshotXml } from '../../src/core/snapshots/model';

const snapXml = (name: string, parent?: string, time = 1) =>
  `<domainsnapshot><name>${name}</name><state>shutoff</state>${parent ? `<parent><name>${parent}</name></parent>` : ''}<creationTime>${time}</creationTime><memory snapshot='no'/></domainsnapshot>`;

function fakeBackend() {
  const snaps = [parseSnapshotXml(snapXml('base')), parseSnapshotXml(snapXml('child', 'base', 2)), parseSnapshotXml(snapXml('other', undefined, 3))];
  snaps[1].current = true;
  const guest = { id: 'g1', name: 'vm', kind: 'qemu', state: 'stopped', rawState: 'shut off' };
  const lxc = { id: 'c1', name: 'ct', kind: 'container', state: 'running', rawState: 'running' };
  const backend = {
    config: { id: 'conn' },
    capabilities: (g?: { kind: string }) =>
      !g
        ? {
            storage: {
              pools: async () => [
                { name: 'pool', state: 'running', active: true, autostart: false, type: 'dir', path: '/p', capacity: 4096, allocation: 1024, available: 3072 },
              ],
              volumes: async () => [
                { pool: 'pool', name: 'vm.qcow2', key: '/p/vm.qcow2', path: '/p/vm.qcow2', format: 'qcow2', capacity: 2048, allocation: 512, usedBy: ['vm'] },
              ],
              onChange: () => () => undefined,
            },
            networks: {
              list: async () => [
                {
                  name: 'net',
                  active: true,
                  autostart: true,
                  bridge: 'br0',
                  forward: 'nat',
                  addresses: ['10.99.0.1/24'],
                  dhcp: true,
                  leases: [{ ip: '10.99.0.5', prefix: 24, mac: 'm', expiry: 0, guest: 'vm' }],
                },
              ],
              onChange: () => () => undefined,
            },
          }
        : g.kind === 'qemu'
          ? { snapshots: { naming: 'user', list: async () => snaps } }
          : {},
  };
  const guests = [guest, lxc];
  return {
    ...backend,
    config: { id: 'conn', type: 'libvirt' as const, uri: 'qemu:///system' },
    connect: async () => {},
    close: async () => {},
    list: async () => guests.map((g) => ({ ...g })),
    get: async () => undefined,
    perform: async () => {},
    definition: async () => ({ language: 'xml' as const, text: '' }),
    subscribe: () => true,
  };
}

/** The tree over a model with one connection (the fake backend); its connection node. */
async function treeWithConnection() {
  const { GuestTreeProvider } = await import('../../src/views/guestTree');
  const { Inventory } = await import('../../src/core/inventory');
  const model = new Inventory({ discover: async () => [], backend: () => fakeBackend() as never });
  model.setLocalConnections([{ id: 'conn', type: 'libvirt', uri: 'qemu:///system' }]);
  await model.open();
  const tree = new GuestTreeProvider(model);
  const [host] = tree.getChildren();
  const [root] = tree.getChildren(host);
  return { tree, root, model };
}

test('tree: a guest with snapshots expands to "Snapshots" → the snapshot tree, current marked; others do not expand', async () => {
  const { tree, root, model } = await treeWithConnection();
  after(() => model.dispose());
  const kids = tree.getChildren(root);
  const groups = kids.filter((k) => k.kind === 'group');
  const guestNodes = groups.flatMap((g) => tree.getChildren(g));
  const vm = guestNodes.find((n) => n.kind === 'guest' && n.guestId === 'g1')!;
  const ct = guestNodes.find((n) => n.kind === 'guest' && n.guestId === 'c1')!;
  assert.equal((tree.getTreeItem(vm) as unknown as TreeItem).collapsibleState, 1);
  assert.equal((tree.getTreeItem(ct) as unknown as TreeItem).collapsibleState, 0);
  assert.deepEqual(tree.getChildren(ct), []);
  const [folder] = tree.getChildren(vm);
  assert.equal(folder.kind, 'snapshots');
  assert.equal((tree.getTreeItem(folder) as unknown as TreeItem).description, '', 'nothing said before it is listed');
  const fired = new Promise<unknown>((resolve) => tree.onDidChangeTreeData((n) => resolve(n)));
  assert.deepEqual(tree.getChildren(folder), [], 'first ask starts the listing');
  assert.equal(await fired, folder, 'the folder is fired once listed');
  const roots = tree.getChildren(folder);
  assert.deepEqual(
    roots.map((n) => (n.kind === 'snapshot' ? n.info.name : '?')),
    ['base', 'other'],
  );
  assert.equal((tree.getTreeItem(folder) as unknown as TreeItem).description, '3');
  const child = tree.getChildren(roots[0]);
  assert.deepEqual(
    child.map((n) => (n.kind === 'snapshot' ? n.info.name : '?')),
    ['child'],
  );
  const item = tree.getTreeItem(child[0]) as unknown as TreeItem;
  assert.match(item.description!, /^current · /);
  assert.equal(item.contextValue, 'snapshot location-internal content-stopped current');
  assert.equal(tree.getParent(child[0]), roots[0]);
  assert.equal(tree.getParent(folder), vm);
  assert.equal((tree.getTreeItem(roots[0]) as unknown as TreeItem).collapsibleState, 2, 'a snapshot with children shows them');
});

test('tree: Storage (pools → volumes) and Networks (→ leases) under a libvirt connection', async () => {
  const { tree, root, model } = await treeWithConnection();
  after(() => model.dispose());
  const kids = tree.getChildren(root);
  const storage = kids.find((k) => k.kind === 'storage')!;
  const networks = kids.find((k) => k.kind === 'networks')!;
  assert.ok(storage && networks, kids.map((k) => k.kind).join(','));
  const objects = tree.hostObjects;
  const [pool] = await objects.children(storage);
  assert.equal((tree.getTreeItem(pool) as unknown as TreeItem).contextValue, 'pool state-active autostart-off');
  const [vol] = await objects.children(pool);
  const vi = tree.getTreeItem(vol) as unknown as TreeItem;
  assert.equal(vi.label, 'vm.qcow2');
  assert.match(vi.description!, /used by vm$/);
  assert.equal(vi.contextValue, 'volume used');
  const [net] = await objects.children(networks);
  assert.equal((tree.getTreeItem(net) as unknown as TreeItem).description, 'nat · br0 · 10.99.0.1/24 · autostart');
  const [lease] = tree.getChildren(net);
  assert.equal((tree.getTreeItem(lease) as unknown as TreeItem).label, '10.99.0.5/24');
  assert.equal(tree.getParent(lease), net);
});
