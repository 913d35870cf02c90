// Storage pools, volumes and networks against the real libvirtd (qemu:///system): a directory pool
// of this file's own under a temp dir, volumes with hostile names, a guest using one (delete refused
// without its name), and an isolated network (no forward, 10.99.x) with a hostile name. Never touches
// the lab's pool or network; everything made here is removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import * as P from '../../src/core/libvirt/protocol';
import { BackendError } from '../../src/core/model';
import { escapeXml } from '../../src/core/xmlTree';

const URI = 'qemu:///system';
const TAG = `vs-store-it-${process.pid}`;
const POOL = `${TAG} pool "ü"`;
const VOL = `disk "it's" ☃ & <1>.qcow2`;
const RAW = 'plain volume.raw';
const GUEST = `${TAG}-guest`;
const NET = `${TAG} net ☃`;
// a free 10.99.N.0/24 on this machine, chosen from the pid
const SUBNET = `10.99.${100 + (process.pid % 100)}`;

let dir = '';
let backend: LibvirtBackend;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vs-store-it-'));
  chmodSync(dir, 0o755);
  backend = new LibvirtBackend({ id: 'store-it', type: 'libvirt', uri: URI });
  await backend.connect();
  const c = await backend.client();
  const pool = await c.storagePoolDefineXML(`<pool type='dir'><name>${escapeXml(POOL)}</name><target><path>${escapeXml(dir)}</path></target></pool>`, 0);
  await c.storagePoolCreate(pool, 0);
  await c.networkDefineXML(
    `<network><name>${escapeXml(NET)}</name><bridge name='vsit${process.pid % 10000}' stp='off'/><ip address='${SUBNET}.1' prefix='24'><dhcp><range start='${SUBNET}.10' end='${SUBNET}.20'/></dhcp></ip></network>`,
  );
});

after(async () => {
  try {
    const c = await backend.client();
    const dom = await c.domainLookupByName(GUEST).catch(() => undefined);
    if (dom) await c.domainUndefine(dom);
    const net = await c.networkLookupByName(NET).catch(() => undefined);
    if (net) {
      if (await c.networkIsActive(net)) await c.networkDestroy(net);
      await c.networkUndefine(net);
    }
    const pool = await c.storagePoolLookupByName(POOL).catch(() => undefined);
    if (pool) {
      for (const v of await c.storagePoolListAllVolumes(pool).catch(() => [])) await c.storageVolDelete(v, 0).catch(() => undefined);
      if ((await c.storagePoolGetInfo(pool)).state !== 0) await c.storagePoolDestroy(pool);
      await c.storagePoolUndefine(pool);
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const storage = () => capability(backend, undefined, 'storage')!;
const networks = () => capability(backend, undefined, 'networks')!;

test('pool: listed with its path and sizes; autostart on and off', async () => {
  const pool = (await storage().pools()).find((p) => p.name === POOL)!;
  assert.ok(pool, 'our pool is listed');
  assert.deepEqual([pool.type, pool.path, pool.active, pool.autostart], ['dir', dir, true, false]);
  assert.ok(pool.capacity > 0);
  await storage().setPoolAutostart(POOL, true);
  assert.equal((await storage().pools()).find((p) => p.name === POOL)!.autostart, true);
  await storage().setPoolAutostart(POOL, false);
});

test('volumes: create qcow2 and raw with hostile names; a guest using one blocks its delete unless named', async () => {
  const q = await storage().createVolume(POOL, { name: VOL, format: 'qcow2', capacity: 8 * 2 ** 20 });
  assert.equal(q.name, VOL);
  assert.equal(q.format, 'qcow2');
  assert.equal(q.path, path.join(dir, VOL));
  assert.ok(existsSync(q.path));
  await storage().createVolume(POOL, { name: RAW, format: 'raw', capacity: 2 ** 20 });
  const c = await backend.client();
  await c.domainDefineXMLFlags(
    `<domain type='qemu'><name>${GUEST}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os><devices>` +
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${escapeXml(q.path)}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`,
    0,
  );
  const vols = await storage().volumes(POOL);
  assert.deepEqual(
    vols.map((v) => [v.name, v.usedBy]).sort(),
    [
      [RAW, []],
      [VOL, [GUEST]],
    ].sort(),
  );
  await assert.rejects(storage().deleteVolume(POOL, VOL), (e: BackendError) => e.code === 'EBUSY' && e.message.includes(`"${GUEST}"`));
  assert.ok(existsSync(q.path), 'the refused delete left the file');
  await storage().deleteVolume(POOL, VOL, GUEST);
  assert.ok(!existsSync(q.path));
  await storage().deleteVolume(POOL, RAW);
  assert.deepEqual(await storage().volumes(POOL), []);
});

test('clone: a volume copied through STORAGE_VOL_CREATE_XML_FROM keeps format and content size', async () => {
  await storage().createVolume(POOL, { name: 'src.qcow2', format: 'qcow2', capacity: 4 * 2 ** 20 });
  const copy = await storage().cloneVolume(POOL, 'src.qcow2', 'copy "1".qcow2');
  assert.equal(copy.format, 'qcow2');
  assert.equal(copy.capacity, 4 * 2 ** 20);
  assert.deepEqual((await storage().volumes(POOL)).map((v) => v.name).sort(), ['copy "1".qcow2', 'src.qcow2']);
});

test('network: isolated, inactive until started; start shows bridge and address; stop, delete', async () => {
  let n = (await networks().list()).find((x) => x.name === NET)!;
  assert.ok(n, 'our network is listed');
  assert.deepEqual([n.active, n.forward, n.addresses, n.dhcp], [false, 'isolated', [`${SUBNET}.1/24`], true]);
  await networks().start(NET);
  n = (await networks().list()).find((x) => x.name === NET)!;
  assert.equal(n.active, true);
  assert.equal(n.bridge, `vsit${process.pid % 10000}`);
  assert.deepEqual(n.leases, []);
  await networks().setAutostart(NET, true);
  assert.equal((await networks().list()).find((x) => x.name === NET)!.autostart, true);
  await networks().stop(NET);
  await networks().delete(NET);
  assert.ok(!(await networks().list()).some((x) => x.name === NET));
  await assert.rejects(networks().start(NET), (e: BackendError) => e.code === 'ENOENT');
});

test('Clone Guest: a stopped guest with its disk copied through the volume API, new name, UUID and MAC', async (t) => {
  const orig = `${TAG}-orig`;
  const copyName = `${TAG}-copy "☃"`;
  const c = await backend.client();
  t.after(async () => {
    for (const n of [orig, copyName]) {
      const d = await c.domainLookupByName(n).catch(() => undefined);
      if (d) await c.domainUndefine(d);
    }
  });
  const disk = await storage().createVolume(POOL, { name: `${orig}.qcow2`, format: 'qcow2', capacity: 4 * 2 ** 20 });
  const mac = '52:54:00:12:34:56';
  const dom = await c.domainDefineXMLFlags(
    `<domain type='qemu'><name>${orig}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os><devices>` +
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${escapeXml(disk.path)}'/><target dev='vda' bus='virtio'/></disk>` +
      `<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface></devices></domain>`,
    0,
  );
  const cloner = capability(backend, { id: P.uuidToString(dom.uuid), name: orig, kind: 'qemu', state: 'stopped', rawState: 'shut off' }, 'clone')!;
  const r = await cloner.clone(copyName);
  assert.equal(r.name, copyName);
  assert.notEqual(r.uuid, P.uuidToString(dom.uuid));
  assert.deepEqual(r.disks, [path.join(dir, `${TAG}-copy "☃".qcow2`)]);
  assert.ok(existsSync(r.disks[0]));
  const xml = await c.domainGetXMLDesc(await c.domainLookupByName(copyName), 0);
  assert.ok(!xml.includes(mac), 'a new MAC');
  assert.match(xml, /<mac address='52:54:00:/);
  assert.ok(xml.includes(escapeXml(r.disks[0]).replace(/&quot;/g, '"')) || xml.includes(escapeXml(r.disks[0])), 'the copy uses its own disk');
  const vols = await storage().volumes(POOL);
  assert.deepEqual(vols.find((v) => v.path === r.disks[0])?.usedBy, [copyName]);
  assert.deepEqual(vols.find((v) => v.path === disk.path)?.usedBy, [orig]);
  await assert.rejects(cloner.clone(copyName), (e: BackendError) => e.code === 'EEXIST');
});

test('pool delete: stops and undefines, the files stay', async () => {
  await storage().deletePool(POOL);
  assert.ok(!(await storage().pools()).some((p) => p.name === POOL));
  assert.ok(existsSync(path.join(dir, 'src.qcow2')), "the volumes' data stay");
  const c = await backend.client();
  await assert.rejects(c.storagePoolLookupByName(POOL), (e: { code?: number }) => e.code === P.ErrorCode.NO_STORAGE_POOL);
});
