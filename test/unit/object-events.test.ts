// Storage-pool and network lifecycle events: the RPC client registers for them with libvirt's
// procedures and layouts, LibvirtObjectEvents registers only while someone listens (again on a new
// connection, and lets go when the last listener leaves), and the tree relists its Storage and
// Networks groups once per burst of events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import './vscode-tree-stub'; // before the views: they import vscode
import { LibvirtObjectEvents, ObjectChange } from '../../src/core/backends/libvirtObjectEvents';
import * as P from '../../src/core/libvirt/protocol';
import { XdrReader } from '../../src/core/libvirt/xdr';
import { ConnectionObjects, OBJECT_EVENT_DEBOUNCE_MS } from '../../src/views/hostObjectsTree';
import type { ConnectionNode } from '../../src/views/guestTree';
import { fakeLibvirtd } from './fake-libvirtd';

const POOL = { name: "pool 'x'", uuid: Buffer.alloc(16, 1) };
const NET = { name: 'net1', uuid: Buffer.alloc(16, 2) };
const tick = () => new Promise((r) => setTimeout(r, 10));

function eventDaemon() {
  let next = 40;
  const registerArgs: { proc: number; eventID: number; object: unknown }[] = [];
  const register = (proc: number) => (r: XdrReader) => {
    registerArgs.push({ proc, eventID: r.int(), object: r.optional((x) => P.decodeNamed(x, 'object')) });
    const id = next++;
    return (w: { int(v: number): unknown }) => void w.int(id);
  };
  const d = fakeLibvirtd({
    [P.Proc.CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY]: register(P.Proc.CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY),
    [P.Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY]: register(P.Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY),
    [P.Proc.CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY]: () => () => undefined,
    [P.Proc.CONNECT_NETWORK_EVENT_DEREGISTER_ANY]: () => () => undefined,
  });
  const poolEvent = (callbackID: number, event: number) =>
    d.send(P.Proc.STORAGE_POOL_EVENT_LIFECYCLE, (w) => P.encodeObjectLifecycleMsg(w, { callbackID, object: POOL, event, detail: 0 }));
  const netEvent = (callbackID: number, event: number) =>
    d.send(P.Proc.NETWORK_EVENT_LIFECYCLE, (w) => P.encodeObjectLifecycleMsg(w, { callbackID, object: NET, event, detail: 0 }));
  return { ...d, registerArgs, poolEvent, netEvent };
}

test('client: registers for pool and network lifecycle events (procedures 368 and 313) and emits what arrives', async () => {
  const d = eventDaemon();
  assert.equal(await d.client.storagePoolEventRegisterAny(P.ObjectEventId.LIFECYCLE), 40);
  assert.equal(await d.client.networkEventRegisterAny(P.ObjectEventId.LIFECYCLE, NET), 41);
  assert.deepEqual(d.registerArgs, [
    { proc: 368, eventID: 0, object: null },
    { proc: 313, eventID: 0, object: NET },
  ]);
  const pools: P.ObjectLifecycleMsg[] = [];
  const nets: P.ObjectLifecycleMsg[] = [];
  d.client.on('poolLifecycle', (m) => pools.push(m));
  d.client.on('networkLifecycle', (m) => nets.push(m));
  d.poolEvent(40, 2);
  d.netEvent(41, 3);
  await tick();
  assert.deepEqual(pools, [{ callbackID: 40, object: POOL, event: 2, detail: 0 }]);
  assert.deepEqual(nets, [{ callbackID: 41, object: NET, event: 3, detail: 0 }]);
  await d.client.storagePoolEventDeregisterAny(40);
  assert.deepEqual(d.calls.at(-1)!.body, Buffer.from([0, 0, 0, 40]));
  d.client.destroy();
});

test('client: a pool event that does not decode closes the connection with a clear reason', async () => {
  const d = eventDaemon();
  const closed = new Promise<Error | undefined>((resolve) => d.client.once('close', resolve));
  d.send(P.Proc.STORAGE_POOL_EVENT_LIFECYCLE, (w) => w.int(1));
  assert.match(String(await closed), /malformed storage pool event message: truncated XDR data/);
});

test('object events: registered only while someone listens, delivered by kind, let go when the last listener leaves', async () => {
  const d = eventDaemon();
  const events = new LibvirtObjectEvents(() => d.client);
  assert.deepEqual(d.procs(), [], 'nobody listens: nothing registered');
  const seen: ObjectChange[] = [];
  const stopPools = events.on('storage', (c) => seen.push(c));
  const stopNets = events.on('networks', (c) => seen.push(c));
  await events.ready();
  assert.deepEqual(d.procs(), [368, 313]);
  d.poolEvent(40, 0);
  d.netEvent(41, 2);
  d.poolEvent(99, 3); // someone else's callback on this connection
  await tick();
  assert.deepEqual(seen, [
    { kind: 'storage', name: POOL.name, reason: 'defined' },
    { kind: 'networks', name: 'net1', reason: 'started' },
  ]);
  stopPools();
  stopNets();
  await tick();
  assert.deepEqual(d.procs(), [368, 313, 369, 314]);
  d.poolEvent(40, 3);
  await tick();
  assert.equal(seen.length, 2, 'no events after the last listener left');
  d.client.destroy();
});

test('object events: a new connection registers again and its events arrive', async () => {
  const first = eventDaemon();
  const second = eventDaemon();
  let current = first.client;
  const events = new LibvirtObjectEvents(() => current);
  const seen: string[] = [];
  events.on('networks', (c) => seen.push(c.reason));
  await events.ready();
  first.client.destroy();
  current = second.client;
  await events.attach(second.client);
  assert.deepEqual(second.procs(), [313]);
  second.netEvent(40, 3);
  await tick();
  assert.deepEqual(seen, ['stopped']);
  second.client.destroy();
});

test('tree: pool and network events relist Storage and Networks once per burst', async () => {
  const listeners: Record<string, (c: ObjectChange) => void> = {};
  let poolLists = 0;
  const caps = {
    storage: { pools: async () => (poolLists++, []), onChange: (l: (c: ObjectChange) => void) => ((listeners.storage = l), () => delete listeners.storage) },
    networks: { list: async () => [], onChange: (l: (c: ObjectChange) => void) => ((listeners.networks = l), () => delete listeners.networks) },
  };
  const backend = { capabilities: () => caps };
  const conn = { config: { id: 'c' }, status: { state: 'connected' }, requireBackend: () => backend };
  const fired: string[] = [];
  const objects = new ConnectionObjects((n) => fired.push(n.kind));
  const [storage, networks] = objects.connectionChildren({ conn } as unknown as ConnectionNode);
  assert.deepEqual([storage.kind, networks.kind], ['storage', 'networks']);
  await objects.children(storage);
  assert.equal(poolLists, 1);
  listeners.storage({ kind: 'storage', name: 'p', reason: 'defined' });
  listeners.storage({ kind: 'storage', name: 'p', reason: 'started' });
  listeners.networks({ kind: 'networks', name: 'n', reason: 'started' });
  assert.deepEqual(fired, [], 'debounced');
  await new Promise((r) => setTimeout(r, OBJECT_EVENT_DEBOUNCE_MS + 50));
  assert.deepEqual(fired.sort(), ['networks', 'storage']);
  await objects.children(storage);
  assert.equal(poolLists, 2, 'the Storage group listed again');
  // the tree asks again (a refresh of the connection): the same subscription serves the new nodes
  objects.connectionChildren({ conn } as unknown as ConnectionNode);
  assert.ok(listeners.storage, 'still subscribed');
  objects.dispose();
  assert.deepEqual(Object.keys(listeners), [], 'unsubscribed on dispose');
});
