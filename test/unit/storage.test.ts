// Storage pools, volumes and networks: RPC encodings against a fake libvirtd, the XML readers,
// which guests use a volume, and the refusal to delete a used volume without the guest's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as P from '../../src/core/libvirt/protocol';
import { XdrReader, XdrWriter } from '../../src/core/libvirt/xdr';
import { LibvirtNetworks, LibvirtStorage } from '../../src/core/backends/libvirtStorage';
import { guestDevices, networkFacts, objectNameProblem, poolFacts, usersOf, volumeFacts } from '../../src/core/storage/model';
import { networkItemSpec, poolItemSpec, volumeItemSpec } from '../../src/core/storage/itemSpec';
import { BackendError } from '../../src/core/model';
import { escapeXml } from '../../src/core/xmlTree';
import { fakeLibvirtd, Handler } from './fake-libvirtd';

const HOSTILE = `vol "it's" <ü> & ☃.qcow2`;
const POOL: P.RemotePool = { name: 'pool "p"', uuid: Buffer.alloc(16, 1) };
const NET: P.RemoteNetwork = { name: 'net ☃', uuid: Buffer.alloc(16, 2) };
const DOM: P.RemoteDomain = { name: 'web "1"', uuid: Buffer.alloc(16, 3), id: 4 };
const volPath = (n: string) => `/srv/p/${n}`;
const vol = (name: string): P.RemoteVolume => ({ pool: POOL.name, name, key: volPath(name) });

const bytesOf = (fill: (w: XdrWriter) => void) => {
  const w = new XdrWriter();
  fill(w);
  return Buffer.from(w.finish());
};

test('XML facts: pool path, volume format, network forward/bridge/addresses, guest disks and MACs', () => {
  assert.deepEqual(poolFacts(`<pool type='dir'><name>p</name><target><path>/srv/p</path></target></pool>`), { type: 'dir', path: '/srv/p' });
  assert.deepEqual(volumeFacts(`<volume><name>v</name><target><path>/srv/p/v</path><format type='qcow2'/></target></volume>`), {
    format: 'qcow2',
    path: '/srv/p/v',
  });
  assert.deepEqual(
    networkFacts(
      `<network><name>n</name><bridge name='virbr9'/><ip address='10.99.0.1' netmask='255.255.255.0'><dhcp><range start='10.99.0.2' end='10.99.0.9'/></dhcp></ip></network>`,
    ),
    {
      bridge: 'virbr9',
      forward: 'isolated',
      addresses: ['10.99.0.1/24'],
      dhcp: true,
    },
  );
  assert.equal(networkFacts(`<network><forward mode='nat'/></network>`).forward, 'nat');
  const g = guestDevices(
    'g',
    `<domain><devices><disk type='file'><source file='/srv/p/a &amp; b'/></disk><disk type='volume'><source pool='p' volume='v'/></disk><interface type='network'><mac address='52:54:00:AA:BB:CC'/></interface></devices></domain>`,
  );
  assert.deepEqual(g, { name: 'g', disks: ['/srv/p/a & b', 'p/v'], macs: ['52:54:00:aa:bb:cc'] });
  assert.deepEqual(usersOf({ pool: 'p', name: 'v', path: '/srv/p/v', key: '/srv/p/v' }, [g]), ['g']);
  assert.deepEqual(usersOf({ pool: 'p', name: 'a & b', path: '/srv/p/a & b', key: 'k' }, [g]), ['g']);
  assert.deepEqual(usersOf({ pool: 'p', name: 'x', path: '/srv/p/x', key: '/srv/p/x' }, [g]), []);
  assert.match(objectNameProblem('a/b', 'volume')!, /"\/"/);
  assert.equal(objectNameProblem(HOSTILE, 'volume'), undefined);
});

/** A daemon with one pool (volumes by name), one network and one guest using `used`. */
function storageDaemon(used: string) {
  const vols = new Map<string, string>([
    [used, 'qcow2'],
    ['free.raw', 'raw'],
  ]);
  const domXml = `<domain><name>${escapeXml(DOM.name)}</name><devices><disk type='file' device='disk'><source file='${escapeXml(volPath(used))}'/></disk><interface type='network'><mac address='52:54:00:00:00:01'/></interface></devices></domain>`;
  let netActive = true;
  const handlers: Record<number, Handler> = {
    [P.Proc.CONNECT_LIST_ALL_STORAGE_POOLS]: (r) => (
      assert.deepEqual([r.int(), r.uint()], [1, 0]),
      (w) => P.encodeNamedList(w, [POOL], P.REMOTE_STORAGE_POOL_LIST_MAX)
    ),
    [P.Proc.STORAGE_POOL_LOOKUP_BY_NAME]: (r) =>
      r.string(P.REMOTE_STRING_MAX) === POOL.name ? (w) => P.encodeNamed(w, POOL) : { error: P.ErrorCode.NO_STORAGE_POOL, message: 'no pool' },
    [P.Proc.STORAGE_POOL_GET_INFO]: () => (w) => P.encodePoolInfo(w, { state: 2, capacity: 10 * 2 ** 30, allocation: 2 ** 30, available: 9 * 2 ** 30 }),
    [P.Proc.STORAGE_POOL_GET_AUTOSTART]: () => (w) => w.int(1),
    [P.Proc.STORAGE_POOL_GET_XML_DESC]: () => (w) => w.string(`<pool type='dir'><target><path>/srv/p</path></target></pool>`),
    [P.Proc.STORAGE_POOL_LIST_ALL_VOLUMES]: (r) => (P.decodeNamed(r, 'pool'), (w) => P.encodeVolumeList(w, [...vols.keys()].map(vol))),
    [P.Proc.STORAGE_VOL_LOOKUP_BY_NAME]: (r) => {
      P.decodeNamed(r, 'pool');
      const name = r.string(P.REMOTE_STRING_MAX);
      return vols.has(name) ? (w) => P.encodeVolume(w, vol(name)) : { error: P.ErrorCode.NO_STORAGE_VOL, message: 'no vol' };
    },
    [P.Proc.STORAGE_VOL_GET_INFO]: () => (w) => P.encodeVolumeInfo(w, { type: 0, capacity: 2 ** 30, allocation: 2 ** 20 }),
    [P.Proc.STORAGE_VOL_GET_XML_DESC]: (r) => {
      const v = P.decodeVolume(r);
      return (w) =>
        w.string(`<volume><name>${escapeXml(v.name)}</name><target><path>${escapeXml(v.key)}</path><format type='${vols.get(v.name)}'/></target></volume>`);
    },
    [P.Proc.STORAGE_VOL_CREATE_XML]: (r) => {
      P.decodeNamed(r, 'pool');
      const xml = r.string(P.REMOTE_STRING_MAX);
      const name = /<name>(.*?)<\/name>/
        .exec(xml)![1]
        .replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
      vols.set(name, /format type='(\w+)'/.exec(xml)![1]);
      return (w) => P.encodeVolume(w, vol(name));
    },
    [P.Proc.STORAGE_VOL_DELETE]: (r) => (vols.delete(P.decodeVolume(r).name), () => undefined),
    [P.Proc.CONNECT_LIST_ALL_DOMAINS]: () => (w) => P.encodeListAllDomains(w, [DOM]),
    [P.Proc.DOMAIN_GET_XML_DESC]: () => (w) => w.string(domXml),
    [P.Proc.CONNECT_LIST_ALL_NETWORKS]: () => (w) => P.encodeNamedList(w, [NET], P.REMOTE_NETWORK_LIST_MAX),
    [P.Proc.NETWORK_LOOKUP_BY_NAME]: () => (w) => P.encodeNamed(w, NET),
    [P.Proc.NETWORK_IS_ACTIVE]: () => (w) => w.int(netActive ? 1 : 0),
    [P.Proc.NETWORK_GET_AUTOSTART]: () => (w) => w.int(0),
    [P.Proc.NETWORK_GET_XML_DESC]: () => (w) =>
      w.string(`<network><name>n</name><forward mode='nat'/><bridge name='virbr9'/><ip address='10.99.0.1' prefix='24'><dhcp/></ip></network>`),
    [P.Proc.NETWORK_GET_DHCP_LEASES]: (r) => {
      P.decodeNamed(r, 'network');
      assert.equal(
        r.optional((x) => x.string(P.REMOTE_STRING_MAX)),
        null,
      );
      assert.deepEqual([r.int(), r.uint()], [1, 0]);
      return (w) =>
        P.encodeDhcpLeases(w, [
          {
            iface: 'virbr9',
            expirytime: 1800000000,
            type: 0,
            mac: '52:54:00:00:00:01',
            iaid: null,
            ipaddr: '10.99.0.5',
            prefix: 24,
            hostname: 'web',
            clientid: null,
          },
        ]);
    },
    [P.Proc.NETWORK_DESTROY]: () => ((netActive = false), () => undefined),
    [P.Proc.NETWORK_UNDEFINE]: () => () => undefined,
  };
  const d = fakeLibvirtd(handlers);
  return { ...d, vols, storage: new LibvirtStorage(async () => d.client), networks: new LibvirtNetworks(async () => d.client) };
}

test('pools and volumes: listed with sizes, formats and the guests that use each volume', async () => {
  const d = storageDaemon(HOSTILE);
  const [pool] = await d.storage.pools();
  assert.deepEqual([pool.name, pool.state, pool.active, pool.autostart, pool.type, pool.path], [POOL.name, 'running', true, true, 'dir', '/srv/p']);
  const vols = await d.storage.volumes(POOL.name);
  assert.deepEqual(
    vols.map((v) => [v.name, v.format, v.usedBy]),
    [
      ['free.raw', 'raw', []],
      [HOSTILE, 'qcow2', [DOM.name]],
    ],
  );
  assert.match(volumeItemSpec(vols[1]).description, /^qcow2 · 1\.0 GiB \(1\.0 MiB on disk\) · used by web "1"$/);
  assert.equal(poolItemSpec(pool).description, 'running · 1.0 GiB of 10 GiB used · autostart');
  // encodings: the volume and pool structures byte for byte
  const infoCall = d.calls.find((c) => c.proc === P.Proc.STORAGE_VOL_GET_INFO)!;
  assert.ok([vol('free.raw'), vol(HOSTILE)].some((v) => infoCall.body.equals(bytesOf((w) => P.encodeVolume(w, v)))));
  assert.deepEqual(
    d.calls.find((c) => c.proc === P.Proc.STORAGE_POOL_GET_INFO)!.body,
    bytesOf((w) => P.encodeNamed(w, POOL)),
  );
  d.client.destroy();
});

test('volume lists asked for together read the guests once; networks without leases read no guest', async () => {
  const d = storageDaemon(HOSTILE);
  const count = (proc: number) => d.procs().filter((p) => p === proc).length;
  const lists = await Promise.all([d.storage.volumes(POOL.name), d.storage.volumes(POOL.name), d.storage.volumes(POOL.name)]);
  assert.deepEqual(
    lists.map((l) => l.find((v) => v.name === HOSTILE)!.usedBy),
    [[DOM.name], [DOM.name], [DOM.name]],
  );
  assert.equal(count(P.Proc.CONNECT_LIST_ALL_DOMAINS), 1, 'one read of the guests for three lists');
  assert.equal(count(P.Proc.DOMAIN_GET_XML_DESC), 1);
  await d.storage.volumes(POOL.name);
  assert.equal(count(P.Proc.CONNECT_LIST_ALL_DOMAINS), 2, 'a later list reads afresh');
  await d.networks.stop(NET.name);
  const [n] = await d.networks.list();
  assert.deepEqual([n.active, n.leases], [false, []]);
  assert.equal(count(P.Proc.CONNECT_LIST_ALL_DOMAINS), 2, 'no lease: no guest read');
  d.client.destroy();
});

test('volume delete: refused while a guest uses it (nothing sent), allowed with that guest named', async () => {
  const d = storageDaemon(HOSTILE);
  await assert.rejects(
    d.storage.deleteVolume(POOL.name, HOSTILE),
    (e: BackendError) => e.code === 'EBUSY' && /used by "web "1""/.test(e.message) && /Type the guest's name/.test(e.message),
  );
  await assert.rejects(d.storage.deleteVolume(POOL.name, HOSTILE, 'someone else'), (e: BackendError) => e.code === 'EBUSY');
  assert.ok(!d.procs().includes(P.Proc.STORAGE_VOL_DELETE), 'no delete reached the daemon');
  await d.storage.deleteVolume(POOL.name, HOSTILE, DOM.name);
  assert.ok(!d.vols.has(HOSTILE));
  await d.storage.deleteVolume(POOL.name, 'free.raw');
  await assert.rejects(d.storage.deleteVolume(POOL.name, 'free.raw'), (e: BackendError) => e.code === 'ENOENT');
  await assert.rejects(d.storage.volumes('nope'), (e: BackendError) => e.code === 'ENOENT' && /storage pool "nope" no longer exists/.test(e.message));
  d.client.destroy();
});

test('volume create: name escaped in the XML, size in bytes, bad input refused before any call', async () => {
  const d = storageDaemon('x');
  const v = await d.storage.createVolume(POOL.name, { name: HOSTILE, format: 'qcow2', capacity: 5 * 2 ** 20 });
  assert.equal(v.name, HOSTILE);
  const call = d.calls.find((c) => c.proc === P.Proc.STORAGE_VOL_CREATE_XML)!;
  const r = new XdrReader(call.body);
  assert.deepEqual(P.decodeNamed(r, 'pool'), POOL);
  assert.equal(
    r.string(P.REMOTE_STRING_MAX),
    `<volume><name>vol &quot;it&apos;s&quot; &lt;ü&gt; &amp; ☃.qcow2</name><capacity unit='bytes'>5242880</capacity><target><format type='qcow2'/></target></volume>`,
  );
  assert.equal(r.uint(), 0);
  const before = d.calls.length;
  await assert.rejects(d.storage.createVolume(POOL.name, { name: 'a/b', format: 'raw', capacity: 1 }), (e: BackendError) => e.code === 'EINVAL');
  await assert.rejects(d.storage.createVolume(POOL.name, { name: 'ok', format: 'raw', capacity: 0 }), (e: BackendError) => e.code === 'EINVAL');
  assert.equal(d.calls.length, before);
  d.client.destroy();
});

test('networks: forward, bridge, addresses, DHCP leases matched to guests by MAC; delete stops first', async () => {
  const d = storageDaemon('x');
  const [n] = await d.networks.list();
  assert.deepEqual([n.name, n.active, n.forward, n.bridge, n.addresses, n.dhcp], [NET.name, true, 'nat', 'virbr9', ['10.99.0.1/24'], true]);
  assert.deepEqual(n.leases, [{ ip: '10.99.0.5', prefix: 24, mac: '52:54:00:00:00:01', hostname: 'web', expiry: 1800000000, guest: DOM.name }]);
  assert.equal(networkItemSpec(n).description, 'nat · virbr9 · 10.99.0.1/24');
  await d.networks.delete(NET.name);
  assert.deepEqual(d.procs().slice(-3), [P.Proc.NETWORK_IS_ACTIVE, P.Proc.NETWORK_DESTROY, P.Proc.NETWORK_UNDEFINE]);
  assert.deepEqual(
    d.calls.at(-1)!.body,
    bytesOf((w) => P.encodeNamed(w, NET)),
  );
  d.client.destroy();
});

test('RPC: autostart, start/stop, clone-from and the DHCP lease reply are encoded as remote_protocol.x says', async () => {
  const d = fakeLibvirtd({
    [P.Proc.STORAGE_POOL_SET_AUTOSTART]: () => () => undefined,
    [P.Proc.NETWORK_SET_AUTOSTART]: () => () => undefined,
    [P.Proc.STORAGE_POOL_CREATE]: () => () => undefined,
    [P.Proc.NETWORK_CREATE]: () => () => undefined,
    [P.Proc.STORAGE_VOL_CREATE_XML_FROM]: () => (w) => P.encodeVolume(w, vol('copy')),
  });
  await d.client.storagePoolSetAutostart(POOL, true);
  await d.client.networkSetAutostart(NET, false);
  await d.client.storagePoolCreate(POOL, 0);
  await d.client.networkCreate(NET);
  const copy = await d.client.storageVolCreateXMLFrom(POOL, '<volume/>', vol('src'), 0);
  assert.equal(copy.name, 'copy');
  assert.deepEqual(d.procs(), [90, 48, 78, 39, 125]);
  assert.deepEqual(
    d.calls[0].body,
    bytesOf((w) => (P.encodeNamed(w, POOL), w.int(1))),
  );
  assert.deepEqual(
    d.calls[1].body,
    bytesOf((w) => (P.encodeNamed(w, NET), w.int(0))),
  );
  assert.deepEqual(
    d.calls[2].body,
    bytesOf((w) => (P.encodeNamed(w, POOL), w.uint(0))),
  );
  assert.deepEqual(
    d.calls[3].body,
    bytesOf((w) => P.encodeNamed(w, NET)),
  );
  assert.deepEqual(
    d.calls[4].body,
    bytesOf((w) => (P.encodeNamed(w, POOL), w.string('<volume/>'), P.encodeVolume(w, vol('src')), w.uint(0))),
  );
  d.client.destroy();
});

test('sizes typed by a user', async () => {
  const { parseSize, bytes } = await import('../../src/core/storage/model');
  assert.equal(parseSize('10G'), 10 * 2 ** 30);
  assert.equal(parseSize('512 MiB'), 512 * 2 ** 20);
  assert.equal(parseSize('1.5T'), 1.5 * 2 ** 40);
  assert.equal(parseSize('4096'), 4096);
  for (const bad of ['', '0', '-1G', 'ten', '1X']) assert.equal(parseSize(bad), undefined, bad);
  assert.equal(bytes(1536), '1.5 KiB');
});

// ---- Clone Guest ---------------------------------------------------------------------------

test('clone XML: new name, no UUID, no MACs, NVRAM path dropped; volume names follow the guest', async () => {
  const { cloneDomainXml, cloneVolumeName } = await import('../../src/core/backends/libvirtClone');
  const { parseXml } = await import('../../src/core/xmlTree');
  const xml = cloneDomainXml(
    parseXml(`<domain type='kvm'><name>web</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid><os><nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram></os>
      <devices><interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface></devices></domain>`),
    `web "2" ☃`,
  );
  const root = parseXml(xml);
  assert.equal(root.children.find((c) => c.name === 'name')!.text, `web "2" ☃`);
  assert.ok(!xml.includes('<uuid') && !xml.includes('<mac') && !xml.includes('web_VARS'));
  assert.match(xml, /<source network='default'\/>/);
  assert.equal(cloneVolumeName('web.qcow2', 'web', 'web2', 'vda'), 'web2.qcow2');
  assert.equal(cloneVolumeName('disk0.img', 'web', 'new', 'vdb'), 'new-vdb.img');
});

test('clone: a running guest is refused before any copy; a failed define removes the copied volumes', async () => {
  const { LibvirtClone } = await import('../../src/core/backends/libvirtClone');
  let state = 1;
  const made: string[] = [];
  const d = fakeLibvirtd({
    [P.Proc.DOMAIN_LOOKUP_BY_NAME]: (r) =>
      r.string(P.REMOTE_STRING_MAX) === DOM.name ? (w) => P.encodeDomain(w, DOM) : { error: P.ErrorCode.NO_DOMAIN, message: 'no domain' },
    [P.Proc.DOMAIN_GET_STATE]: () => (w) => w.int(state).int(0),
    [P.Proc.DOMAIN_GET_XML_DESC]: () => (w) =>
      w.string(
        `<domain><name>${escapeXml(DOM.name)}</name><devices><disk type='file' device='disk'><source file='/srv/p/a.qcow2'/><target dev='vda'/></disk></devices></domain>`,
      ),
    [P.Proc.STORAGE_VOL_LOOKUP_BY_PATH]: () => (w) => P.encodeVolume(w, vol('a.qcow2')),
    [P.Proc.STORAGE_POOL_LOOKUP_BY_NAME]: () => (w) => P.encodeNamed(w, POOL),
    [P.Proc.STORAGE_VOL_GET_XML_DESC]: () => (w) => w.string(`<volume><target><format type='qcow2'/></target></volume>`),
    [P.Proc.STORAGE_VOL_GET_INFO]: () => (w) => P.encodeVolumeInfo(w, { type: 0, capacity: 1024, allocation: 1024 }),
    [P.Proc.STORAGE_VOL_CREATE_XML_FROM]: () => (made.push('copy'), (w) => P.encodeVolume(w, vol('web-vda.qcow2'))),
    [P.Proc.STORAGE_VOL_GET_PATH]: () => (w) => w.string(volPath('web-vda.qcow2')),
    [P.Proc.DOMAIN_DEFINE_XML_FLAGS]: () => ({ error: P.ErrorCode.INTERNAL_ERROR, message: 'define failed on purpose' }),
    [P.Proc.STORAGE_VOL_DELETE]: (r) => (made.push(`deleted ${P.decodeVolume(r).name}`), () => undefined),
  });
  const cloner = new LibvirtClone(
    async () => d.client,
    (c) => c.domainLookupByName(DOM.name),
  );
  await assert.rejects(cloner.clone('web'), (e: BackendError) => e.code === 'EREFUSED' && /must be shut off/.test(e.message));
  assert.ok(!d.procs().includes(P.Proc.STORAGE_VOL_CREATE_XML_FROM));
  state = 5;
  await assert.rejects(cloner.clone(DOM.name), (e: BackendError) => e.code === 'EEXIST');
  await assert.rejects(cloner.clone('copy'), /define failed on purpose/);
  assert.deepEqual(made, ['copy', 'deleted web-vda.qcow2'], 'the copied volume was removed again');
  d.client.destroy();
});
