// Storage-pool and network lifecycle events against the real libvirtd (qemu:///system): a change made
// outside with virsh (pool-define-as, pool-start, net-define, net-start, ...) reaches the storage and
// networks capabilities, and the tree's Storage and Networks groups list it, within 2 s. Only this
// file's own directory pool (under a temp dir) and isolated network (no forward, 10.99.x); both are
// removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import '../unit/vscode-tree-stub'; // before the views: they import vscode
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import type { ObjectChange } from '../../src/core/backends/libvirtObjectEvents';
import { capability } from '../../src/core/capabilities';
import { escapeXml } from '../../src/core/xmlTree';
import { ConnectionObjects, ConnectionObjectNode } from '../../src/views/hostObjectsTree';
import type { ConnectionNode } from '../../src/views/guestTree';
import { libvirtScratch, virshOn, waitFor } from './util';

const URI = 'qemu:///system';
const TAG = `vs-ev-it-${process.pid}`;
const POOL = `${TAG} pool "ü"`;
const NET = `${TAG}-net`;
const SUBNET = `10.99.${(process.pid % 100) + 1}`;
const { virsh, quietly } = virshOn(URI);

let dir = '';
let backend: LibvirtBackend;

before(async () => {
  ({ dir, backend } = await libvirtScratch('vs-ev-it-', 'ev-it', URI));
});

after(async () => {
  try {
    quietly('pool-destroy', POOL);
    quietly('pool-undefine', POOL);
    quietly('net-destroy', NET);
    quietly('net-undefine', NET);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('virsh pool-define-as / pool-start / pool-destroy / pool-undefine outside: each seen within 2 s', async () => {
  const seen: ObjectChange[] = [];
  const stop = capability(backend, undefined, 'storage')!.onChange((c) => c.name === POOL && seen.push(c));
  try {
    await backend.objectEvents.ready();
    assert.equal(backend.objectEvents.error, undefined);
    const steps: [string[], string][] = [
      [['pool-define-as', POOL, 'dir', '--target', dir], 'defined'],
      [['pool-start', POOL], 'started'],
      [['pool-destroy', POOL], 'stopped'],
      [['pool-undefine', POOL], 'undefined'],
    ];
    for (const [args, reason] of steps) {
      virsh(...args);
      await waitFor(() => seen.some((c) => c.reason === reason), 2000, `the pool ${reason} event after virsh ${args[0]}`);
    }
  } finally {
    stop();
  }
});

test("the tree's Storage and Networks groups list a pool and a network made outside within 2 s", async () => {
  const conn = { config: { id: 'ev-it' }, status: { state: 'connected' }, requireBackend: () => backend };
  const fired: ConnectionObjectNode[] = [];
  const objects = new ConnectionObjects((n) => fired.push(n));
  try {
    const [storage, networks] = objects.connectionChildren({ conn } as unknown as ConnectionNode);
    const names = async (n: ConnectionObjectNode) => (await objects.children(n)).map((c) => ('view' in c ? c.view.name : ''));
    assert.ok(!(await names(storage)).includes(POOL));
    assert.ok(!(await names(networks)).includes(NET));
    await backend.objectEvents.ready();

    virsh('pool-define-as', POOL, 'dir', '--target', dir);
    virsh('pool-start', POOL);
    const poolMs = await waitFor(async () => fired.includes(storage) && (await names(storage)).includes(POOL), 2000, 'the new pool in the Storage group');

    const xml = path.join(dir, 'net.xml');
    writeFileSync(
      xml,
      `<network><name>${escapeXml(NET)}</name><bridge name='vsev${process.pid % 10000}' stp='off'/><ip address='${SUBNET}.1' prefix='24'/></network>`,
    );
    virsh('net-define', xml);
    virsh('net-start', NET);
    const netMs = await waitFor(async () => fired.includes(networks) && (await names(networks)).includes(NET), 2000, 'the new network in the Networks group');
    const [net] = (await objects.children(networks)).filter((c) => 'view' in c && c.view.name === NET);
    assert.ok(net && 'view' in net && 'active' in net.view && net.view.active, 'listed as started');
    console.log(`# seen in the tree after ${poolMs} ms (pool) and ${netMs} ms (network)`);
  } finally {
    objects.dispose();
  }
});
