// The connection manager's own logic (debounce, diff, reconnect, polling only while visible),
// driven by a scripted in-memory backend. The real backends are covered by test/integration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, ConnectionStatus, diffGuests, GuestDiff } from '../../src/core/connection';
import { Backend, BackendError, BackendEvent, ConnectionConfig, Guest, Verb } from '../../src/core/model';

class Scripted implements Backend {
  static up = true;
  static guests: Guest[] = [];
  static lists = 0;
  listener?: (ev: BackendEvent) => void;
  constructor(
    readonly config: ConnectionConfig,
    private pushes: boolean,
  ) {}
  async connect() {
    if (!Scripted.up) throw new BackendError('socket gone', 'ENOENT', 'start the daemon');
  }
  async close() {}
  async list() {
    Scripted.lists++;
    if (!Scripted.up) throw new BackendError('connection closed');
    return Scripted.guests.map((g) => ({ ...g }));
  }
  async get(id: string) {
    return Scripted.guests.find((g) => g.id === id);
  }
  async perform(id: string, verb: Verb) {
    const g = Scripted.guests.find((x) => x.id === id)!;
    Object.assign(g, { state: verb === 'start' ? 'running' : 'stopped' });
  }
  async definition() {
    return { language: 'xml' as const, text: '<domain/>' };
  }
  subscribe(l: (ev: BackendEvent) => void) {
    this.listener = l;
    return this.pushes;
  }
}

const cfg: ConnectionConfig = { id: 't', type: 'libvirt', uri: 'test:///' };
const guest = (id: string, state: Guest['state'] = 'running'): Guest => ({ id, name: id, kind: 'qemu', state, rawState: state });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('diffGuests reports added, changed, removed', () => {
  const a = new Map([
    ['1', guest('1')],
    ['2', guest('2')],
  ]);
  const b = new Map([
    ['1', guest('1', 'paused')],
    ['3', guest('3')],
  ]);
  assert.deepEqual(diffGuests(a, b), { added: ['3'], changed: ['1'], removed: ['2'] });
});

test('events are debounced into one relist and only changed guests are reported', async () => {
  Scripted.up = true;
  Scripted.guests = [guest('a'), guest('b')];
  let backend!: Scripted;
  const c = new Connection(cfg, (k) => (backend = new Scripted(k, true)), { debounceMs: 30 });
  await c.start();
  assert.equal(c.status.state, 'connected');
  const diffs: GuestDiff[] = [];
  c.on('guests', (d) => diffs.push(d));
  Scripted.lists = 0;
  Scripted.guests[1] = guest('b', 'paused');
  for (let i = 0; i < 10; i++) backend.listener!({ type: 'changed', guestId: 'b', reason: 'suspended' });
  await sleep(80);
  assert.equal(Scripted.lists, 1, 'ten events → one relist');
  assert.deepEqual(diffs, [{ added: [], changed: ['b'], removed: [] }]);
  await c.dispose();
});

test('unreachable with reason and hint, then reconnects by itself', async () => {
  Scripted.up = false;
  Scripted.guests = [guest('a')];
  const c = new Connection(cfg, (k) => new Scripted(k, true), { reconnectMinMs: 20, reconnectMaxMs: 40 });
  await c.start();
  assert.equal(c.status.state, 'unreachable');
  assert.equal((c.status as { hint?: string }).hint, 'start the daemon');
  Scripted.up = true;
  for (let i = 0; i < 50 && (c.status.state as string) !== 'connected'; i++) await sleep(10);
  assert.equal(c.status.state as string, 'connected');
  assert.equal(c.guests.size, 1);
  await c.dispose();
});

test('a disconnect event empties the list, marks unreachable, and reconnects', async () => {
  Scripted.up = true;
  Scripted.guests = [guest('a')];
  let backend!: Scripted;
  const c = new Connection(cfg, (k) => (backend = new Scripted(k, true)), { reconnectMinMs: 20 });
  await c.start();
  const first = backend;
  const states: string[] = [];
  c.on('status', (s) => states.push(s.state));
  first.listener!({ type: 'disconnected', error: new Error('libvirtd went away') });
  assert.equal(c.status.state, 'unreachable');
  assert.equal(c.guests.size, 0);
  for (let i = 0; i < 50 && (c.status.state as string) !== 'connected'; i++) await sleep(10);
  assert.deepEqual(states, ['unreachable', 'connecting', 'connected']);
  assert.notEqual(backend, first, 'a fresh backend after reconnect');
  // a late event from the dead backend is ignored
  first.listener!({ type: 'disconnected', error: new Error('stale') });
  assert.equal(c.status.state as string, 'connected');
  await c.dispose();
});

test('backends without events are polled only while visible', async () => {
  Scripted.up = true;
  Scripted.guests = [guest('a')];
  const c = new Connection(cfg, (k) => new Scripted(k, false), { pollMs: 15 });
  await c.start();
  Scripted.lists = 0;
  await sleep(60);
  assert.equal(Scripted.lists, 0, 'hidden: no polling');
  c.setVisible(true);
  await sleep(70);
  assert.ok(Scripted.lists >= 2, `visible: polled ${Scripted.lists} times`);
  c.setVisible(false);
  const n = Scripted.lists;
  await sleep(60);
  assert.ok(Scripted.lists <= n + 1, 'hidden again: polling stopped');
  assert.equal(c.polling, false);
  await c.dispose();
});

test('perform runs the verb and refreshes', async () => {
  Scripted.up = true;
  Scripted.guests = [guest('a', 'stopped')];
  const c = new Connection(cfg, (k) => new Scripted(k, true));
  await c.start();
  await c.perform('a', 'start');
  assert.equal(c.guest('a')?.state, 'running');
  await c.dispose();
});

/** A Logger that records every call as [level, message]. */
function recordingLogger() {
  const calls: [string, string][] = [];
  const at = (level: string) => (msg: string) => void calls.push([level, msg]);
  return { calls, log: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } };
}

test('an outage is logged once (warn) and its end once (info); retries only at debug', async () => {
  const { LibvirtBackend } = await import('../../src/core/backends/libvirt');
  const os = await import('node:os');
  const path = await import('node:path');
  // A socket path that does not exist (nothing is created): every attempt fails with ENOENT.
  const absent = path.join(os.tmpdir(), `virtscope-absent-${process.pid}`, 'libvirt-sock');
  const { calls, log } = recordingLogger();
  let attempts = 0;
  let up = false;
  Scripted.up = true;
  Scripted.guests = [guest('a')];
  const c = new Connection(
    { id: 'down', type: 'libvirt', uri: 'qemu:///system', socketPath: absent },
    (k) => (attempts++, up ? new Scripted(k, true) : new LibvirtBackend(k)),
    { reconnectMinMs: 5, reconnectMaxMs: 10, log },
  );
  await c.start();
  for (let i = 0; i < 200 && attempts < 8; i++) await sleep(5);
  assert.ok(attempts >= 8, `${attempts} attempts`);
  up = true;
  for (let i = 0; i < 200 && (c.status.state as string) !== 'connected'; i++) await sleep(5);
  assert.equal(c.status.state as string, 'connected');
  await c.dispose();
  const warns = calls.filter(([l]) => l === 'warn');
  assert.equal(warns.length, 1, `one warning for the whole outage, got: ${JSON.stringify(warns)}`);
  assert.match(warns[0][1], /^down: unreachable: libvirt socket .* does not exist/);
  const infos = calls.filter(([l]) => l === 'info');
  assert.equal(infos.length, 1, JSON.stringify(infos));
  assert.match(infos[0][1], /^down: reachable again after \d+(\.\d)? s/);
  assert.equal(calls.filter(([l]) => l === 'error').length, 0);
});

test('a bare error from a refresh in flight does not replace the fuller reason of the same outage', async () => {
  class Held extends Scripted {
    static release: ((e: Error) => void) | undefined;
    override async list() {
      if (!Held.release) return super.list();
      return new Promise<Guest[]>((_, reject) => (Held.release = reject));
    }
  }
  Scripted.up = true;
  Scripted.guests = [guest('a')];
  let backend!: Held;
  const c = new Connection(cfg, (k) => (backend = new Held(k, true)), { reconnectMinMs: 60_000, reconnectMaxMs: 60_000 });
  await c.start();
  const statuses: ConnectionStatus[] = [];
  c.on('status', (s: ConnectionStatus) => statuses.push(s));
  Held.release = () => undefined;
  const refreshing = c.refresh(); // list() now hangs until the "daemon dies"
  await sleep(1);
  const full = new BackendError('libvirt connection to qemu:///system (/var/run/libvirt/libvirt-sock) lost: closed', 'ECONNRESET', 'Start the libvirt daemon');
  backend.listener!({ type: 'disconnected', error: full });
  Held.release(new BackendError('libvirt connection closed by the daemon', 'ECONNRESET'));
  Held.release = undefined;
  await refreshing;
  const s = c.status;
  assert.equal(s.state, 'unreachable');
  assert.equal(s.state === 'unreachable' && s.message, full.message);
  assert.equal(s.state === 'unreachable' && s.hint, 'Start the libvirt daemon');
  for (const x of statuses) {
    if (x.state === 'unreachable') assert.equal(x.message, full.message, 'no later bare reason was ever shown');
  }
  await c.dispose();
});
