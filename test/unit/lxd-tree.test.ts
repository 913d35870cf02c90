// An LXD cluster is one root beside the hosts: members with their instances (by member) or the
// instances directly (flat), projects as a level only when there are several, an offline member and
// its instances shown as such. The model is the real Inventory over a fake backend that lists what
// an LXD cluster lists; the instance and member objects are shaped as the lab cluster's
// (scripts/lab/lxd-cluster.sh, LXD 5.0.2) answers to /1.0/instances?recursion=1 and
// /1.0/cluster/members?recursion=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import './vscode-tree-stub'; // installs the vscode stub the views import
import type { Backend, ClusterMember, ConnectionConfig, Guest } from '../../src/core/model';
import type { LxdClusterMember, LxdInstance } from '../../src/core/backends/lxd/types';
import { guestOfInstance, lxdBytes, lxdGuestId, memberOf, parseLxdGuestId } from '../../src/core/backends/lxdBackend';
import { clusterChildren, levelChildren, memberItemSpec } from '../../src/core/clusterTree';
import { instanceYaml, parseInstanceYaml } from '../../src/core/backends/lxdDefinitions';
import { parseLxd } from '../../src/core/config';
import { DefinitionRejectedError } from '../../src/core/editing/errors';

const rawMember = (n: number, status = 'Online', message = 'Fully operational'): LxdClusterMember => ({
  server_name: `member${n}`,
  url: `https://10.82.0.${n}:8443`,
  database: true,
  status,
  message,
  architecture: 'x86_64',
  roles: n === 1 ? ['database-leader', 'database'] : ['database'],
  failure_domain: 'default',
  description: '',
  config: {},
  groups: ['default'],
});

const rawInstance = (name: string, location: string, status = 'Running', project = 'default'): LxdInstance => ({
  name,
  status,
  status_code: status === 'Running' ? 103 : 102,
  type: 'container',
  architecture: 'x86_64',
  location,
  project,
  description: '',
  ephemeral: false,
  stateful: false,
  profiles: ['default'],
  created_at: '2026-12-03T17:02:11.5Z',
  last_used_at: '2026-12-03T17:02:13.1Z',
  config: { 'image.description': 'virtscope lab busybox (Debian busybox-static)', 'limits.memory': '256MiB', 'limits.cpu': '2' },
  devices: {},
});

test('instances and members as the model has them: kind, state, member, project; an offline member makes its instances "unknown" in its words', () => {
  const members = [memberOf(rawMember(1)), memberOf(rawMember(2, 'Offline', 'No heartbeat for 31s (2026-12-03 17:10:01)'))];
  assert.deepEqual(members[1], {
    name: 'member2',
    status: 'offline',
    rawStatus: 'Offline',
    message: 'No heartbeat for 31s (2026-12-03 17:10:01)',
    roles: ['database'],
    failureDomain: 'default',
    url: 'https://10.82.0.2:8443',
    architecture: 'x86_64',
  });
  const up = guestOfInstance(rawInstance('c1', 'member1'), members);
  assert.deepEqual(up, {
    id: 'c1',
    name: 'c1',
    kind: 'lxd-container',
    state: 'running',
    rawState: 'Running',
    vcpus: 2,
    maxMemoryBytes: 256 * 1024 ** 2,
    image: 'virtscope lab busybox (Debian busybox-static)',
    location: 'member1',
    project: 'default',
  });
  const away = guestOfInstance(rawInstance('c2', 'member2'), members);
  assert.equal(away.state, 'unknown');
  assert.match(away.rawState, /^Offline \(member member2: No heartbeat for 31s/);
  assert.equal(guestOfInstance({ ...rawInstance('v1', 'member1', 'Frozen'), type: 'virtual-machine' }, members).kind, 'lxd-vm');
  assert.equal(guestOfInstance(rawInstance('v1', 'member1', 'Frozen'), members).state, 'paused');
  assert.equal(lxdGuestId('web', 'shop'), 'shop/web');
  assert.deepEqual(parseLxdGuestId('shop/web'), { name: 'web', project: 'shop' });
  assert.deepEqual(parseLxdGuestId('web'), { name: 'web', project: 'default' });
  assert.equal(lxdBytes('1GB'), 1e9);
  assert.equal(lxdBytes('50%'), undefined);
});

test("clusterChildren: by member (counts), flat (by name), projects as a level only when there are several; a member row says offline with LXD's message", () => {
  const members = [memberOf(rawMember(2)), memberOf(rawMember(1)), memberOf(rawMember(3, 'Offline', 'No heartbeat for 31s'))];
  const guests = [rawInstance('b', 'member1'), rawInstance('a', 'member2'), rawInstance('c', 'member1')].map((i) => guestOfInstance(i, members));
  const connected = { state: 'connected' } as const;
  const byMember = clusterChildren(connected, members, guests, 'member');
  assert.deepEqual(
    byMember.map((c) => (c.type === 'member' ? `${c.member.name}:${c.count}` : c.type)),
    ['member1:2', 'member2:1', 'member3:0'],
  );
  assert.deepEqual(
    clusterChildren(connected, members, guests, 'flat').map((c) => (c.type === 'guest' ? c.guest.name : c.type)),
    ['a', 'b', 'c'],
  );
  const spec = memberItemSpec(members[2], 0);
  assert.equal(spec.description, 'Offline — No heartbeat for 31s · 0 instances');
  assert.equal(spec.contextValue, 'member status-offline');
  assert.equal(memberItemSpec(members[1], 2).contextValue, 'member status-online can-evacuate');
  // a second project: projects first, members under each
  const more = [...guests, guestOfInstance(rawInstance('shop1', 'member2', 'Stopped', 'shop'), members)];
  const top = clusterChildren(connected, members, more, 'member');
  assert.deepEqual(
    top.map((c) => (c.type === 'project' ? `${c.project}:${c.count}` : c.type)),
    ['default:3', 'shop:1'],
  );
  assert.deepEqual(
    levelChildren(members, more, 'flat', 'shop').map((c) => (c.type === 'guest' ? c.guest.id : c.type)),
    ['shop/shop1'],
  );
  // a standalone server has no members: its instances directly
  assert.deepEqual(
    clusterChildren(connected, [], guests, 'member').map((c) => c.type),
    ['guest', 'guest', 'guest'],
  );
  const down = clusterChildren({ state: 'unreachable', message: 'cannot talk to LXD', hint: 'Is it running?', since: 0 }, members, guests, 'member');
  assert.deepEqual(
    down.map((c) => (c.type === 'message' ? c.label : c.type)),
    ['cannot talk to LXD', 'How to fix: Is it running?'],
  );
});

// ---- the tree over the real model ------------------------------------------------------------------

let members: ClusterMember[] = [];
let guests: Guest[] = [];
const fakeLxd = (config: ConnectionConfig): Backend => ({
  config,
  connect: async () => {},
  close: async () => {},
  list: async () => guests.map((x) => ({ ...x })),
  get: async () => undefined,
  perform: async () => {},
  definition: async () => ({ language: 'yaml', text: '' }),
  subscribe: () => true,
  members: () => members,
});

async function setup() {
  const { Inventory } = await import('../../src/core/inventory');
  const { GuestTreeProvider } = await import('../../src/views/guestTree');
  const model = new Inventory({ discover: async () => [], backend: (c) => fakeLxd(c), connection: { debounceMs: 5 } });
  model.setLocalConnections([]);
  model.setClusters(parseLxd([{ name: 'lab', socket: '/var/lib/virtscope-lxd/1/unix.socket' }]).clusters);
  const tree = new GuestTreeProvider(model);
  const fired: unknown[] = [];
  tree.onDidChangeTreeData((n) => fired.push(n));
  return { model, tree, fired };
}

const label = (tree: { getTreeItem(n: never): { label?: unknown; description?: unknown } }, n: unknown) => {
  const it = tree.getTreeItem(n as never);
  return `${String(it.label)} [${String(it.description)}]`;
};

test('the cluster is one root beside the hosts: members, their instances, the by member / flat toggle, an offline member', async () => {
  members = [1, 2, 3].map((n) => memberOf(rawMember(n)));
  guests = [rawInstance('t-a', 'member1'), rawInstance('t-b', 'member2', 'Stopped'), rawInstance('t-c', 'member1')].map((i) => guestOfInstance(i, members));
  const { model, tree, fired } = await setup();
  await model.open();
  const roots = tree.getChildren();
  assert.deepEqual(
    roots.map((n) => n.kind),
    ['host', 'cluster'],
  );
  const root = roots[1];
  assert.equal(label(tree, root), 'lab [3 members · 3 instances]');
  assert.equal(tree.getTreeItem(root).contextValue, 'cluster connected grouping-member clustered');
  const ms = tree.getChildren(root);
  assert.deepEqual(
    ms.map((n) => label(tree, n)),
    ['member1 [online · 2 instances]', 'member2 [online · 1 instance]', 'member3 [online · 0 instances]'],
  );
  const onOne = tree.getChildren(ms[0]);
  assert.deepEqual(
    onOne.map((n) => label(tree, n)),
    ['t-a [running · 2 vCPU · 256 MiB]', 't-c [running · 2 vCPU · 256 MiB]'],
  );
  assert.match(String(tree.getTreeItem(onOne[0]).contextValue), /^guest kind-lxd-container state-running can-shutdown/);
  assert.equal(tree.getParent(tree.getParent(onOne[0])!), root);
  assert.equal(tree.nodeOf(model.clusters[0], 't-c'), onOne[1], 'nodeOf finds the node the tree shows');

  tree.setClusterGrouping('flat');
  assert.ok(fired.includes(root), 'the toggle redraws the cluster root');
  const flat = tree.getChildren(root);
  assert.deepEqual(
    flat.map((n) => label(tree, n)),
    ['t-a [running · 2 vCPU · 256 MiB · member1]', 't-b [stopped · 2 vCPU · 256 MiB · member2]', 't-c [running · 2 vCPU · 256 MiB · member1]'],
  );
  tree.setClusterGrouping('member');

  // member2 stops answering: its row and its instances say so after the next list
  members = [memberOf(rawMember(1)), memberOf(rawMember(2, 'Offline', 'No heartbeat for 31s')), memberOf(rawMember(3))];
  guests = guests.map((x) => guestOfInstance(rawInstance(x.name, x.location!, x.rawState), members));
  fired.length = 0;
  await model.clusters[0].refresh();
  assert.ok(fired.includes(root), 'a change of members redraws the cluster root');
  const after = tree.getChildren(root);
  assert.equal(label(tree, after[1]), 'member2 [Offline — No heartbeat for 31s · 1 instance]');
  const [b] = tree.getChildren(after[1]);
  assert.equal(tree.getTreeItem(b).description, 'Offline (member member2: No heartbeat for 31s) · 2 vCPU · 256 MiB');
  assert.equal(tree.getTreeItem(root).description, '3 members · 3 instances · 1 offline');
  await model.dispose();
  tree.dispose();
});

test('several projects: a project level above the members', async () => {
  members = [1, 2].map((n) => memberOf(rawMember(n)));
  guests = [rawInstance('t-a', 'member1'), rawInstance('t-s', 'member2', 'Running', 'shop')].map((i) => guestOfInstance(i, members));
  const { model, tree } = await setup();
  await model.open();
  const root = tree.getChildren()[1];
  const projects = tree.getChildren(root);
  assert.deepEqual(
    projects.map((n) => label(tree, n)),
    ['default [1 instance]', 'shop [1 instance]'],
  );
  const shopMembers = tree.getChildren(projects[1]);
  assert.deepEqual(
    shopMembers.map((n) => label(tree, n)),
    ['member1 [online · 0 instances]', 'member2 [online · 1 instance]'],
  );
  const [s] = tree.getChildren(shopMembers[1]);
  assert.equal(tree.getTreeItem(s).label, 't-s');
  assert.equal(tree.nodeOf(model.clusters[0], 'shop/t-s'), s);
  await model.dispose();
  tree.dispose();
});

test('virtscope.lxd: sockets (here or on a host) and pinned HTTPS urls; bad entries are said and the rest load', () => {
  const { clusters, problems } = parseLxd([
    { name: 'lab', socket: '/var/lib/virtscope-lxd/1/unix.socket' },
    { name: 'far', socket: '/var/snap/lxd/common/lxd/unix.socket', host: 'kvm1' },
    { name: 'tls', url: 'https://10.0.0.5:8443/', fingerprint: 'AB:'.repeat(31) },
    { name: 'lab', socket: '/x' },
    { name: 'both', socket: '/x', url: 'https://a' },
    { name: 'nofp', url: 'https://a:8443' },
    { name: 'rel', socket: 'relative/unix.socket' },
  ]);
  assert.deepEqual(clusters, [
    { id: 'lxd/lab', type: 'lxd', label: 'lab', socketPath: '/var/lib/virtscope-lxd/1/unix.socket' },
    { id: 'lxd/far', type: 'lxd', label: 'far', socketPath: '/var/snap/lxd/common/lxd/unix.socket', hostId: 'kvm1' },
  ]);
  assert.equal(problems.length, 5);
  assert.match(problems[0], /entry 3 \("tls"\): an https url needs the server certificate's SHA-256 fingerprint/);
  assert.match(problems[1], /duplicate name "lab"/);
  assert.match(problems[2], /either a socket path or an https:\/\/ url/);
  const fp = 'ab'.repeat(32);
  assert.deepEqual(parseLxd([{ name: 'tls', url: 'https://10.0.0.5:8443/', fingerprint: fp.toUpperCase() }]).clusters, [
    { id: 'lxd/tls', type: 'lxd', label: 'tls', url: 'https://10.0.0.5:8443', fingerprint: fp },
  ]);
});

test("an instance's config as YAML: the round trip keeps every writable field; what LXD would not take is refused with why", () => {
  const put = {
    architecture: 'x86_64',
    config: { 'limits.memory': '256MiB', 'user.note': 'yes: a colon', 'boot.autostart': 'true' },
    devices: { root: { path: '/', pool: 'data', type: 'disk' } },
    ephemeral: false,
    profiles: ['default'],
    stateful: false,
    description: 'web front',
  };
  const text = instanceYaml(put);
  assert.match(text, /^architecture: x86_64\nconfig:\n {2}limits\.memory: 256MiB\n/);
  assert.deepEqual(parseInstanceYaml(text), put);
  assert.equal(instanceYaml(parseInstanceYaml(text)), text, 'stable: reading what was written gives the same text');
  // a number typed where LXD wants a string is kept as LXD's string
  assert.equal(parseInstanceYaml(text.replace('limits.memory: 256MiB', 'limits.cpu: 2')).config['limits.cpu'], '2');
  assert.throws(
    () => parseInstanceYaml('config: [a, b\n'),
    (e: unknown) => e instanceof DefinitionRejectedError && /not valid YAML/.test((e as Error).message),
  );
  assert.throws(() => parseInstanceYaml('- a\n'), /must be a mapping/);
  assert.throws(() => parseInstanceYaml(`${text}name: other\n`), /"name" cannot be edited here/);
  assert.throws(() => parseInstanceYaml('devices:\n  eth0: bridged\n'), /device "eth0" must be a mapping/);
});

test('an event about one instance re-reads only that instance (get), not the whole cluster; other events relist', async () => {
  const { Connection } = await import('../../src/core/connection');
  let emit: (ev: import('../../src/core/model').BackendEvent) => void = () => {};
  const calls: string[] = [];
  let state: Guest['state'] = 'stopped';
  const one = () => ({ ...guestOfInstance(rawInstance('t-a', 'member1')), state, rawState: state });
  const backend: Backend = {
    ...fakeLxd({ id: 'lxd/x', type: 'lxd' }),
    list: async () => (calls.push('list'), [one()]),
    get: async (id) => (calls.push(`get ${id}`), id === 't-a' ? one() : undefined),
    subscribe: (l) => ((emit = l), true),
  };
  const conn = new Connection({ id: 'lxd/x', type: 'lxd' }, () => backend, { debounceMs: 5 });
  await conn.start();
  calls.length = 0;
  const diffs: unknown[] = [];
  conn.on('guests', (d) => diffs.push(d));
  state = 'running';
  emit({ type: 'changed', reason: 'instance-started', name: 't-a', guestId: 't-a', only: true });
  emit({ type: 'changed', reason: 'instance-created', name: 'gone', guestId: 'gone', only: true });
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(calls, ['get t-a', 'get gone']);
  assert.deepEqual(diffs, [{ added: [], changed: ['t-a'], removed: [] }]);
  assert.equal(conn.guest('t-a')?.state, 'running');
  calls.length = 0;
  emit({ type: 'changed', reason: 'member status' });
  emit({ type: 'changed', reason: 'instance-stopped', guestId: 't-a', only: true });
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(calls, ['list'], 'a relist covers the instance too');
  await conn.dispose();
});

test('an HTTPS entry whose stored server certificate is not the one the settings pin is refused before any connection', async () => {
  const { LxdBackend } = await import('../../src/core/backends/lxdBackend');
  const { makeClientCertificate } = await import('../../src/core/backends/lxdTrust');
  const a = await makeClientCertificate();
  const creds = { clientCert: a.cert, clientKey: a.key, serverCert: a.cert };
  // a closed port on loopback: reaching it at all would fail otherwise (ECONNREFUSED), not with ECERT
  const b = new LxdBackend({ id: 'lxd/tls', type: 'lxd', url: 'https://127.0.0.1:1', fingerprint: 'ab'.repeat(32) }, { credentials: async () => creds });
  await assert.rejects(
    b.connect(),
    (e: unknown) => (e as { code?: string }).code === 'ECERT' && /is not the one virtscope\.lxd pins/.test((e as Error).message),
  );
  const none = new LxdBackend({ id: 'lxd/tls', type: 'lxd', url: 'https://127.0.0.1:1', fingerprint: 'ab'.repeat(32) }, { credentials: async () => undefined });
  await assert.rejects(none.connect(), /no client certificate is stored for it/);
  await Promise.all([b.close(), none.close()]);
});
