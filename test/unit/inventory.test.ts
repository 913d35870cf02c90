// The model (hosts → connections → guests): this machine first and remote hosts by label, connections
// started only when opened, a remote host's connections discovered on it, an unreachable host with
// SSH's own reason that comes back by itself, settings edits that leave unchanged hosts alone, typed
// events, and the guest queries the commands and pickers use. Fake backends and hosts, as in
// connection.test.ts; the real SshHost is covered by host-ssh.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inventory, RemoteHost, sshReasonOf } from '../../src/core/inventory';
import { SshUnreachableError } from '../../src/core/host/ssh';
import type { Host } from '../../src/core/host/host';
import { HostEntry, LOCAL_HOST_ID } from '../../src/core/hosts';
import { Backend, BackendEvent, ConnectionConfig, Guest } from '../../src/core/model';

const guest = (id: string, state: Guest['state'] = 'running'): Guest => ({ id, name: id, kind: 'qemu', state, rawState: state });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(probe: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

/** Guests per connection id; a connection whose id is in `down` refuses to connect. */
const world = { guests: new Map<string, Guest[]>(), down: new Set<string>(), made: [] as Array<{ id: string; host: string }> };

class FakeBackend implements Backend {
  constructor(
    readonly config: ConnectionConfig,
    readonly host: Host,
  ) {
    world.made.push({ id: config.id, host: host.label });
  }
  async connect() {
    if (world.down.has(this.config.id)) throw new Error(`${this.config.id} is down`);
  }
  async close() {}
  async list() {
    if (world.down.has(this.config.id)) throw new Error(`${this.config.id} is down`);
    return (world.guests.get(this.config.id) ?? []).map((g) => ({ ...g }));
  }
  async get() {
    return undefined;
  }
  async perform() {}
  async definition() {
    return { language: 'xml' as const, text: '' };
  }
  subscribe(_l: (ev: BackendEvent) => void) {
    return true;
  }
}

/** A remote host whose ssh fails with `refuse` while it is set. */
class FakeRemote {
  refuse: string | undefined;
  connects = 0;
  disposed = false;
  constructor(readonly label: string) {}
  async connect() {
    this.connects++;
    if (this.refuse) throw new SshUnreachableError(['ssh'], this.label, this.refuse);
  }
  /** The link's probe: here the same as a new connection. */
  check() {
    return this.connect();
  }
  async dispose() {
    this.disposed = true;
  }
}

function setup(opts: { discover?: (host: Host, prefix: string) => Promise<ConnectionConfig[]> } = {}) {
  world.guests.clear();
  world.down.clear();
  world.made = [];
  const remotes = new Map<string, FakeRemote>();
  const discovered: string[] = [];
  const inv = new Inventory({
    discover:
      opts.discover ??
      (async (host, prefix) => {
        discovered.push(host.label);
        return [{ id: `${prefix}lxc-tools`, type: 'lxc', label: 'LXC (lxc-tools)' }];
      }),
    remoteHost: (e: HostEntry) => {
      const r = new FakeRemote(e.label ?? e.destination);
      remotes.set(e.id, r);
      return r as unknown as RemoteHost;
    },
    backend: (config, host) => new FakeBackend(config, host),
    connection: { debounceMs: 5, reconnectMinMs: 10, reconnectMaxMs: 20 },
    hostRetryMinMs: 20,
    hostRetryMaxMs: 80,
  });
  return { inv, remotes, discovered };
}

const LOCAL: ConnectionConfig[] = [
  { id: 'qemu-system', type: 'libvirt', uri: 'qemu:///system' },
  { id: 'lxc-tools', type: 'lxc' },
];

test("this machine first, then the remote hosts by label; a remote host's connections are discovered on it, with its prefix", async () => {
  const { inv, discovered } = setup();
  inv.setLocalConnections(LOCAL);
  inv.setHosts([
    { id: 'zeta', destination: 'root@zeta' },
    { id: 'alpha', label: 'Alpha', destination: 'alpha' },
  ]);
  assert.deepEqual(
    inv.hosts.map((h) => h.id),
    [LOCAL_HOST_ID, 'alpha', 'zeta'],
  );
  assert.equal(inv.hosts[0].label, 'This machine');
  assert.equal(inv.host('zeta')!.label, 'root@zeta');
  assert.equal(inv.host('alpha')!.status.state, 'idle', 'nothing is reached before a view or picker opens the model');
  assert.deepEqual(discovered, []);
  await inv.open();
  assert.deepEqual(discovered.sort(), ['Alpha', 'root@zeta']);
  assert.deepEqual(
    inv.host('alpha')!.connections.map((c) => c.config.id),
    ['alpha/lxc-tools'],
  );
  assert.equal(inv.host('alpha')!.status.state, 'ready');
  assert.deepEqual(
    inv.connections.map((c) => c.config.id),
    ['qemu-system', 'lxc-tools', 'alpha/lxc-tools', 'zeta/lxc-tools'],
  );
  assert.deepEqual(world.made.find((m) => m.id === 'zeta/lxc-tools')?.host, 'root@zeta', 'the backend is built on the remote host');
  assert.equal(world.made.find((m) => m.id === 'qemu-system')?.host, 'this machine');
  assert.equal(inv.hostOf(inv.connection('zeta/lxc-tools')!)?.id, 'zeta');
  await inv.dispose();
});

test('connections start only when the model is opened (a view shown, a picker asked), never by being listed', async () => {
  const { inv } = setup();
  world.guests.set('qemu-system', [guest('vm1')]);
  inv.setLocalConnections(LOCAL);
  assert.deepEqual(
    inv.connections.map((c) => c.status.state),
    ['idle', 'idle'],
  );
  assert.deepEqual(inv.guests(), []);
  inv.setVisible(true);
  await until(() => inv.connections.every((c) => c.status.state === 'connected'), 'connected after the view is shown');
  assert.deepEqual(
    inv.guests().map((r) => r.guestId),
    ['vm1'],
  );
  // a connection added later starts at once, since the model is open
  inv.setLocalConnections([...LOCAL, { id: 'test', type: 'libvirt', uri: 'test:///default' }]);
  await until(() => inv.connection('test')!.status.state === 'connected', 'the new connection starts');
  await inv.dispose();
});

test('guest queries: filtered, in host and connection order, by name; a ref reads the guest live', async () => {
  const { inv } = setup({ discover: async (_h, p) => [{ id: `${p}qemu`, type: 'libvirt', uri: 'qemu:///system' }] });
  world.guests.set('qemu-system', [guest('zz'), guest('aa', 'stopped')]);
  world.guests.set('lxc-tools', [{ ...guest('ct'), kind: 'lxc' }]);
  world.guests.set('far/qemu', [guest('remotevm')]);
  inv.setLocalConnections(LOCAL);
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  await inv.open();
  assert.deepEqual(
    inv.guests().map((r) => r.guest!.name),
    ['aa', 'zz', 'ct', 'remotevm'],
  );
  assert.deepEqual(
    inv.guests((g) => g.state === 'running').map((r) => r.guestId),
    ['zz', 'ct', 'remotevm'],
  );
  assert.deepEqual(
    inv.guests((g, c) => g.kind === 'qemu' && inv.hostOf(c)?.remote === true).map((r) => r.guestId),
    ['remotevm'],
  );
  const ref = inv.guests((g) => g.name === 'zz')[0];
  world.guests.set('qemu-system', [guest('aa', 'stopped')]);
  await ref.conn.refresh();
  assert.equal(ref.guest, undefined, 'gone once the connection no longer lists it');
  await inv.dispose();
});

test("an unreachable host shows SSH's own reason and comes back by itself with back-off; the other hosts are not disturbed", async () => {
  const { inv, remotes } = setup();
  world.guests.set('qemu-system', [guest('vm1')]);
  inv.setLocalConnections(LOCAL);
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  const events: string[] = [];
  inv.on('host', (h) => events.push(`${h.id}:${h.status.state}`));
  remotes.get('far')!.refuse = 'ssh: connect to host far port 22: Connection refused';
  await inv.open();
  const far = inv.host('far')!;
  assert.equal(far.status.state, 'unreachable');
  assert.equal(far.status.state === 'unreachable' && far.status.reason, 'ssh: connect to host far port 22: Connection refused');
  assert.equal(inv.connection('qemu-system')!.status.state, 'connected', 'this machine is unaffected');
  await until(() => remotes.get('far')!.connects >= 3, 'retried by itself');
  const s = inv.host('far')!.status;
  assert.ok(s.state === 'unreachable' && s.retryInMs > 20, `the delay grows: ${JSON.stringify(s)}`);
  remotes.get('far')!.refuse = undefined;
  await until(() => inv.host('far')!.status.state === 'ready', 'back by itself', 3000);
  await until(() => inv.connection('far/lxc-tools')?.status.state === 'connected', 'its connections start');
  assert.ok(
    events.every((e) => e.startsWith('far:')),
    `only the remote host changed: ${events.join(', ')}`,
  );
  await inv.dispose();
});

test('a remote host that drops after it was up: a connection going down makes the model probe ssh; unreachable, then back', async () => {
  const { inv, remotes } = setup();
  world.guests.set('far/lxc-tools', [{ ...guest('remotect'), kind: 'lxc' }]);
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  await inv.open();
  const conn = inv.connection('far/lxc-tools')!;
  await until(() => conn.status.state === 'connected', 'connected');
  remotes.get('far')!.refuse = 'Connection closed by 10.81.0.2 port 22';
  world.down.add('far/lxc-tools');
  await conn.refresh();
  await until(() => inv.host('far')!.status.state === 'unreachable', 'the host is unreachable');
  const s = inv.host('far')!.status;
  assert.equal(s.state === 'unreachable' && s.reason, 'Connection closed by 10.81.0.2 port 22');
  remotes.get('far')!.refuse = undefined;
  world.down.delete('far/lxc-tools');
  await until(() => inv.host('far')!.status.state === 'ready' && conn.status.state === 'connected', 'back, with its guests', 3000);
  assert.deepEqual(
    inv.guests().map((r) => r.guest!.name),
    ['remotect'],
  );
  assert.equal(inv.connection('far/lxc-tools'), conn, 'the same connection: not rebuilt');
  await inv.dispose();
});

test('a service down on a reachable host keeps its own back-off (no probe loop)', async () => {
  const { inv, remotes } = setup();
  world.down.add('far/lxc-tools');
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  await inv.open();
  await sleep(150);
  assert.equal(inv.host('far')!.status.state, 'ready');
  assert.equal(inv.connection('far/lxc-tools')!.status.state, 'unreachable');
  // the connection retries every 10-20 ms; each failure probes ssh once, and nothing more
  const connects = remotes.get('far')!.connects;
  assert.ok(connects < 30, `ssh probed ${connects} times in 150 ms`);
  await inv.dispose();
});

test('settings edits: unchanged hosts and connections stay as they are; removed ones are closed', async () => {
  const { inv, remotes, discovered } = setup();
  inv.setLocalConnections(LOCAL);
  inv.setHosts([
    { id: 'a', destination: 'a' },
    { id: 'b', destination: 'b' },
  ]);
  await inv.open();
  const qemu = inv.connection('qemu-system');
  const aConn = inv.connection('a/lxc-tools');
  let hostsEvents = 0;
  inv.on('hosts', () => hostsEvents++);
  inv.setHosts([
    { id: 'a', destination: 'a' },
    { id: 'c', destination: 'c', port: 2222 },
  ]);
  inv.setLocalConnections([...LOCAL]);
  assert.equal(hostsEvents, 1);
  assert.equal(inv.connection('qemu-system'), qemu, 'an unchanged local connection is kept');
  assert.equal(inv.connection('a/lxc-tools'), aConn, 'an unchanged host keeps its connections');
  await until(() => remotes.get('b')!.disposed, 'the removed host is closed');
  await until(() => inv.host('c')?.status.state === 'ready', 'the new host is reached (the model is open)');
  assert.equal(discovered.filter((d) => d === 'a').length, 1, 'a is not discovered again');
  inv.setLocalConnections(LOCAL, { rebuild: true });
  assert.notEqual(inv.connection('qemu-system'), qemu, 'rebuild: new connections (e.g. a new poll interval)');
  await inv.dispose();
});

test('Reconnect Host discovers again: new services appear, vanished ones go', async () => {
  let services = ['lxc-tools'];
  const { inv } = setup({ discover: async (_h, p) => services.map((s) => ({ id: `${p}${s}`, type: 'lxc' as const })) });
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  await inv.open();
  assert.deepEqual(
    inv.host('far')!.connections.map((c) => c.config.id),
    ['far/lxc-tools'],
  );
  services = ['containers'];
  world.down.add('far/containers');
  await inv.reconnectHost('far');
  assert.deepEqual(
    inv.host('far')!.connections.map((c) => c.config.id),
    ['far/containers'],
  );
  assert.equal(inv.connection('far/containers')!.status.state, 'unreachable');
  world.down.delete('far/containers');
  await inv.reconnectHost('far');
  assert.equal(inv.connection('far/containers')!.status.state, 'connected', 'Reconnect tries a service that was down now');
  await inv.dispose();
});

test('typed events carry the connection: status and guest diffs', async () => {
  const { inv } = setup();
  world.guests.set('qemu-system', [guest('vm1')]);
  inv.setLocalConnections(LOCAL.slice(0, 1));
  const seen: string[] = [];
  inv.on('status', (c, s) => seen.push(`${c.config.id} ${s.state}`));
  inv.on('guests', (c, d) => seen.push(`${c.config.id} +${d.added.join(',')}`));
  await inv.open();
  assert.deepEqual(seen, ['qemu-system connecting', 'qemu-system connected', 'qemu-system +vm1']);
  await inv.dispose();
});

test('sshReasonOf: the SshUnreachableError itself or as a cause; else nothing', () => {
  const e = new SshUnreachableError(['ssh'], 'h', 'Host key verification failed.');
  assert.equal(sshReasonOf(e), 'Host key verification failed.');
  assert.equal(sshReasonOf(new Error('wrapped', { cause: e })), 'Host key verification failed.');
  assert.equal(sshReasonOf(new Error('plain')), undefined);
});

test('while a host is unreachable its connections do not retry on their own (one ssh attempt per retry, not one per connection)', async () => {
  let lists = 0;
  const { inv, remotes } = setup({ discover: async (_h, p) => ['a', 'b', 'c'].map((n) => ({ id: `${p}${n}`, type: 'lxc' as const })) });
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  await inv.open();
  await until(() => inv.host('far')!.connections.every((c) => c.status.state === 'connected'), 'connected');
  remotes.get('far')!.refuse = 'Connection timed out';
  for (const n of ['a', 'b', 'c']) world.down.add(`far/${n}`);
  const made = world.made.length;
  await Promise.all(inv.host('far')!.connections.map((c) => c.refresh()));
  await until(() => inv.host('far')!.status.state === 'unreachable', 'unreachable');
  // a Refresh of one connection meanwhile fails once, and does not start that connection's own retries
  await inv.connection('far/a')!.refresh();
  lists = world.made.length;
  await sleep(120); // connections back off 10-20 ms on their own: several rounds if they were not held
  assert.equal(world.made.length, lists, `backends made while the host is down: ${world.made.length - made}`);
  remotes.get('far')!.refuse = undefined;
  for (const n of ['a', 'b', 'c']) world.down.delete(`far/${n}`);
  await until(() => inv.host('far')!.connections.every((c) => c.status.state === 'connected'), 'all back, together with the host', 3000);
  await inv.dispose();
});

test('a cancelled ssh question: the host is not retried by itself (the question does not come back); Reconnect asks again', async () => {
  const { inv, remotes } = setup();
  inv.setHosts([{ id: 'far', destination: 'far' }]);
  remotes.get('far')!.refuse = 'Host key verification failed.';
  inv.declined('far');
  await inv.open();
  const s = inv.host('far')!.status;
  assert.ok(s.state === 'unreachable' && s.retryInMs === 0, JSON.stringify(s));
  await sleep(100);
  assert.equal(remotes.get('far')!.connects, 1, 'no automatic retry');
  remotes.get('far')!.refuse = undefined;
  await inv.reconnectHost('far');
  assert.equal(inv.host('far')!.status.state, 'ready');
  await inv.dispose();
});

test('a typed qemu+ssh:// connection reuses the Host of the virtscope.hosts entry with its destination (one master)', async () => {
  const { inv } = setup();
  inv.setHosts([{ id: 'kvm1', destination: 'root@kvm1' }]);
  inv.setLocalConnections([
    { id: 'typed', type: 'libvirt', uri: 'qemu+ssh://root@kvm1/system' },
    { id: 'other', type: 'libvirt', uri: 'qemu+ssh://root@kvm2/system' },
    { id: 'own-key', type: 'libvirt', uri: 'qemu+ssh://root@kvm1/system?keyfile=/k' },
  ]);
  await inv.open();
  const hostOf = (id: string) => world.made.find((m) => m.id === id)?.host;
  assert.equal(hostOf('typed'), 'root@kvm1');
  assert.equal(hostOf('other'), 'this machine', 'no entry: the libvirt backend makes its own SSH host');
  assert.equal(hostOf('own-key'), 'this machine', "other ssh options: not the entry's master");
  await inv.dispose();
});
