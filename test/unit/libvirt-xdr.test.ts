import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrError, XdrReader, XdrWriter } from '../../src/core/libvirt/xdr';
import * as P from '../../src/core/libvirt/protocol';
import { kindForUri, mapDomainState, parseDeviceTargets } from '../../src/core/backends/libvirt';
import { parseLibvirtUri, resolveLibvirtUri } from '../../src/core/libvirt/transport';
import { BackendError } from '../../src/core/model';

const roundTrip = (write: (w: XdrWriter) => void) => {
  const w = new XdrWriter(4); // tiny on purpose: exercises growth
  write(w);
  const buf = w.finish();
  assert.equal(buf.length % 4, 0, 'XDR output is 4-byte aligned');
  return new XdrReader(Buffer.from(buf));
};

test('xdr: int, uint, hyper, uhyper, double, bool', () => {
  const r = roundTrip((w) =>
    w
      .int(-5)
      .int(0x7fffffff)
      .int(-0x80000000)
      .uint(0)
      .uint(0xffffffff)
      .hyper(-(2n ** 63n))
      .hyper(2n ** 63n - 1n)
      .uhyper(2n ** 64n - 1n)
      .uhyper(12345)
      .double(-1.5e300)
      .bool(true)
      .bool(false),
  );
  assert.equal(r.int(), -5);
  assert.equal(r.int(), 0x7fffffff);
  assert.equal(r.int(), -0x80000000);
  assert.equal(r.uint(), 0);
  assert.equal(r.uint(), 0xffffffff);
  assert.equal(r.hyper(), -(2n ** 63n));
  assert.equal(r.hyper(), 2n ** 63n - 1n);
  assert.equal(r.uhyper(), 2n ** 64n - 1n);
  assert.equal(r.uhyperNumber(), 12345);
  assert.equal(r.double(), -1.5e300);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  assert.equal(r.remaining, 0);
});

test('xdr: writer rejects out-of-range ints', () => {
  assert.throws(() => new XdrWriter().int(2 ** 31), XdrError);
  assert.throws(() => new XdrWriter().uint(-1), XdrError);
  assert.throws(() => new XdrWriter().int(1.5), XdrError);
});

test('xdr: string (padding, UTF-8, empty), opaque, fixed opaque', () => {
  const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const r = roundTrip((w) =>
    w
      .string('')
      .string('a')
      .string('abcd')
      .string('vm "ü"; $(x)')
      .opaque(Buffer.from([1, 2, 3]))
      .fixedOpaque(uuid, 16)
      .int(7),
  );
  assert.equal(r.string(100), '');
  assert.equal(r.string(100), 'a');
  assert.equal(r.string(100), 'abcd');
  assert.equal(r.string(100), 'vm "ü"; $(x)');
  assert.deepEqual([...r.opaque(10)], [1, 2, 3]);
  assert.deepEqual(r.fixedOpaque(16), uuid);
  assert.equal(r.int(), 7, 'padding consumed exactly');
});

test('xdr: optional and arrays', () => {
  const r = roundTrip((w) =>
    w
      .optional(null, (x, v: string) => x.string(v))
      .optional('yes', (x, v) => x.string(v))
      .array([1, 2, 3], (x, v) => x.int(v))
      .array([], (x, v: number) => x.int(v)),
  );
  assert.equal(
    r.optional((x) => x.string(10)),
    null,
  );
  assert.equal(
    r.optional((x) => x.string(10)),
    'yes',
  );
  assert.deepEqual(
    r.array((x) => x.int(), 10, 4),
    [1, 2, 3],
  );
  assert.deepEqual(
    r.array((x) => x.int(), 10, 4),
    [],
  );
});

test('xdr: typed params of every type', () => {
  const params: P.TypedParam[] = [
    { field: 'i', type: P.TypedParamType.INT, value: -3 },
    { field: 'ui', type: P.TypedParamType.UINT, value: 4000000000 },
    { field: 'l', type: P.TypedParamType.LLONG, value: -(2 ** 40) },
    { field: 'ul', type: P.TypedParamType.ULLONG, value: 2 ** 52 + 1 },
    { field: 'd', type: P.TypedParamType.DOUBLE, value: 0.25 },
    { field: 'b', type: P.TypedParamType.BOOLEAN, value: true },
    { field: 's', type: P.TypedParamType.STRING, value: 'vda' },
  ];
  const r = roundTrip((w) => w.array(params, (x, p) => P.encodeTypedParam(x, p)));
  const back = P.decodeTypedParams(r, 16);
  assert.deepEqual(back, params);
  assert.deepEqual(P.typedParamsToRecord(back), { i: -3, ui: 4000000000, l: -(2 ** 40), ul: 2 ** 52 + 1, d: 0.25, b: true, s: 'vda' });
  assert.throws(() => P.encodeTypedParam(new XdrWriter(), { field: 'x', type: 99, value: 1 }), /unknown typed parameter type 99/);
  const bad = roundTrip((w) => w.string('x').int(42).int(0));
  assert.throws(() => P.decodeTypedParam(bad), /unknown typed parameter type 42 for x at offset 8/);
});

test('xdr: remote_nonnull_domain, domain info, stats records, lifecycle message, remote_error', () => {
  const dom: P.RemoteDomain = { name: 'vm "ü"', uuid: P.uuidFromString('6695eb01-f6a4-8304-79aa-97f2502e193f'), id: -1 };
  assert.deepEqual(P.decodeDomain(roundTrip((w) => P.encodeDomain(w, dom))), dom);
  assert.equal(P.uuidToString(dom.uuid), '6695eb01-f6a4-8304-79aa-97f2502e193f');
  assert.throws(() => P.uuidFromString('nope'), XdrError);

  const info: P.DomainInfo = { state: 1, maxMem: 8388608, memory: 2097152, nrVirtCpu: 2, cpuTime: 123456789 };
  assert.deepEqual(P.decodeDomainInfo(roundTrip((w) => P.encodeDomainInfo(w, info))), info);

  assert.deepEqual(P.decodeListAllDomains(roundTrip((w) => P.encodeListAllDomains(w, [dom, dom]))), [dom, dom]);

  const records = [{ dom, params: [{ field: 'state.state', type: P.TypedParamType.INT, value: 5 }] }];
  assert.deepEqual(P.decodeAllDomainStats(roundTrip((w) => P.encodeAllDomainStats(w, records))), [{ dom, params: { 'state.state': 5 } }]);

  const msg: P.LifecycleEventMsg = { callbackID: 3, dom, event: P.LifecycleEvent.SUSPENDED, detail: 0 };
  assert.deepEqual(P.decodeLifecycleEventMsg(roundTrip((w) => P.encodeLifecycleEventMsg(w, msg))), msg);
  assert.equal(P.describeLifecycleEvent(5, 1), 'stopped (destroyed)');
  assert.equal(P.describeLifecycleEvent(42, 0), 'event 42');

  const err = P.decodeRemoteError(roundTrip((w) => P.encodeRemoteError(w, { code: 42, domain: 12, message: 'Domain not found', str1: 'x' })));
  assert.equal(err.code, 42);
  assert.equal(err.domain, 12);
  assert.equal(err.message, 'Domain not found');
  assert.equal(err.str1, 'x');
  assert.equal(err.str2, null);
});

test('xdr reader: every read is bounds-checked with a clear message', () => {
  const r = new XdrReader(Buffer.alloc(6));
  r.int();
  assert.throws(() => r.int('state'), { name: 'XdrError', message: 'truncated XDR data reading state at offset 4: needs 4 bytes, only 2 left' });
  assert.throws(() => new XdrReader(Buffer.alloc(4)).hyper('cpuTime'), /reading cpuTime at offset 0: needs 8 bytes, only 4 left/);
  assert.throws(() => new XdrReader(Buffer.from([0, 0, 0, 2])).bool('flag'), /invalid XDR bool reading flag at offset 0: 2/);
  assert.throws(() => new XdrReader(Buffer.from([0, 0, 0, 7])).optional((x) => x.int(), 'dom'), /invalid optional discriminant 7 reading dom at offset 0/);
});

test('xdr reader: lengths are checked against the maximum and the remaining bytes before allocating', () => {
  const len = (n: number, extra = 0) => Buffer.concat([Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]), Buffer.alloc(extra)]);
  assert.throws(() => new XdrReader(len(10, 4)).string(100, 'hostname'), {
    message: 'hostname length 10 at offset 0 runs past the end of the data: needs at least 10 bytes, only 4 left',
  });
  assert.throws(() => new XdrReader(len(200, 400)).string(100, 'name'), { message: 'name length 200 at offset 0 exceeds the protocol maximum 100' });
  // a forged count of 0xFFFFFFFF: refused by the maximum…
  assert.throws(() => new XdrReader(len(0xffffffff)).array(() => 0, P.REMOTE_DOMAIN_LIST_MAX, P.MIN_DOMAIN_BYTES, 'domain list'), {
    message: 'domain list length 4294967295 at offset 0 exceeds the protocol maximum 16384',
  });
  // …and, with no maximum, by the bytes that remain (no 4-billion-entry array is built)
  assert.throws(
    () => new XdrReader(len(0xffffffff, 8)).array(() => 0, 0xffffffff, 24, 'records'),
    /records length 4294967295 at offset 0 runs past the end of the data: needs at least 103079215080 bytes, only 8 left/,
  );
  assert.throws(() => new XdrReader(len(3, 2)).opaque(10, 'cookie'), /cookie length 3 at offset 0 runs past the end/);
  // padding must be present too
  assert.throws(() => new XdrReader(len(1, 1)).string(10, 's'), /truncated XDR data reading s at offset 4: needs 4 bytes, only 1 left/);
});

test('mapDomainState: libvirt state + reason → guest state', () => {
  const S = P.DomainState;
  assert.deepEqual(mapDomainState(S.RUNNING, 1), { state: 'running', rawState: 'running' });
  assert.deepEqual(mapDomainState(S.BLOCKED), { state: 'running', rawState: 'idle' });
  assert.deepEqual(mapDomainState(S.PAUSED, P.DomainPausedReason.USER), { state: 'paused', rawState: 'paused' });
  assert.equal(mapDomainState(S.PAUSED, P.DomainPausedReason.STARTING_UP).state, 'starting');
  assert.equal(mapDomainState(S.PAUSED, P.DomainPausedReason.SHUTTING_DOWN).state, 'stopping');
  assert.equal(mapDomainState(S.PAUSED, P.DomainPausedReason.CRASHED).state, 'crashed');
  assert.deepEqual(mapDomainState(S.SHUTDOWN), { state: 'stopping', rawState: 'in shutdown' });
  assert.deepEqual(mapDomainState(S.SHUTOFF, P.DomainShutoffReason.DESTROYED), { state: 'stopped', rawState: 'shut off' });
  assert.equal(mapDomainState(S.SHUTOFF, P.DomainShutoffReason.CRASHED).state, 'crashed');
  assert.equal(mapDomainState(S.CRASHED).state, 'crashed');
  assert.deepEqual(mapDomainState(S.PMSUSPENDED), { state: 'pmsuspended', rawState: 'pmsuspended' });
  assert.deepEqual(mapDomainState(S.NOSTATE), { state: 'unknown', rawState: 'no state' });
  assert.deepEqual(mapDomainState(99), { state: 'unknown', rawState: 'state 99' });
});

test('kindForUri', () => {
  assert.equal(kindForUri('qemu:///system'), 'qemu');
  assert.equal(kindForUri('test+unix:///default'), 'qemu');
  assert.equal(kindForUri('lxc:///system'), 'libvirt-lxc');
  assert.equal(kindForUri('LXC+unix:///system'), 'libvirt-lxc');
});

test('URI → socket path and CONNECT_OPEN name', () => {
  const only = (...paths: string[]) => ({ exists: (p: string) => paths.includes(p), euid: 0 });
  const legacy = '/var/run/libvirt/libvirt-sock';

  let ep = resolveLibvirtUri('test+unix:///default', only(legacy));
  assert.equal(ep.socketPath, legacy);
  assert.equal(ep.name, 'test:///default');
  assert.equal(ep.driver, 'test');

  ep = resolveLibvirtUri('test+unix:///tmp/bench dir/node.xml', only(legacy));
  assert.equal(ep.name, 'test:///tmp/bench dir/node.xml');

  ep = resolveLibvirtUri('qemu:///system', only(legacy, '/var/run/libvirt/virtqemud-sock'));
  assert.equal(ep.socketPath, legacy, 'libvirt-sock wins when it exists');
  assert.equal(ep.name, 'qemu:///system');

  ep = resolveLibvirtUri('qemu:///system', only('/var/run/libvirt/virtqemud-sock'));
  assert.equal(ep.socketPath, '/var/run/libvirt/virtqemud-sock', 'modular daemon when libvirt-sock is missing');
  assert.equal(ep.daemon, 'virtqemud');

  ep = resolveLibvirtUri('lxc:///system', only('/var/run/libvirt/virtlxcd-sock'));
  assert.equal(ep.socketPath, '/var/run/libvirt/virtlxcd-sock');
  assert.equal(ep.name, 'lxc:///system');

  ep = resolveLibvirtUri('qemu:///system', only());
  assert.equal(ep.socketPath, legacy, 'nothing exists: name the classic socket');
  assert.deepEqual(ep.candidates, [legacy, '/var/run/libvirt/virtqemud-sock']);

  ep = resolveLibvirtUri('qemu:///system?socket=%2Ftmp%2Fmy%20sock&foo=bar&mode=legacy', only());
  assert.equal(ep.socketPath, '/tmp/my sock');
  assert.equal(ep.name, 'qemu:///system?foo=bar', 'client parameters are stripped, others pass through');

  ep = resolveLibvirtUri('qemu:///system?mode=direct', only(legacy));
  assert.equal(ep.socketPath, '/var/run/libvirt/virtqemud-sock');

  ep = resolveLibvirtUri('qemu:///system', { ...only(legacy), socketPath: '/srv/custom.sock' });
  assert.equal(ep.socketPath, '/srv/custom.sock');

  ep = resolveLibvirtUri('qemu:///system', { ...only(), readOnly: true });
  assert.equal(ep.socketPath, '/var/run/libvirt/libvirt-sock-ro');

  ep = resolveLibvirtUri('qemu:///session', { exists: () => false, euid: 1000, env: { XDG_RUNTIME_DIR: '/run/user/1000' } });
  assert.equal(ep.socketPath, '/run/user/1000/libvirt/libvirt-sock');
  assert.equal(ep.name, 'qemu:///session');

  ep = resolveLibvirtUri('qemu:///system?name=qemu%3A%2F%2F%2Fembed', only(legacy));
  assert.equal(ep.name, 'qemu:///embed');

  assert.throws(
    () => resolveLibvirtUri('qemu+ssh://root@host/system'),
    (e: unknown) => e instanceof BackendError && e.code === 'EINVAL' && /reached over SSH/.test(e.message),
  );
  assert.throws(() => resolveLibvirtUri('qemu://host/system'), /transport "tls"/);
  assert.throws(() => resolveLibvirtUri('qemu+unix://host/system'), /remote server \(host\)/);
  assert.throws(() => resolveLibvirtUri('not a uri'), /not a libvirt connection URI/);

  const u = parseLibvirtUri('qemu+ssh://me@example.org:2222/system?keyfile=%2Fk');
  assert.deepEqual([u.driver, u.transport, u.user, u.server, u.port, u.path], ['qemu', 'ssh', 'me', 'example.org', 2222, '/system']);
  assert.deepEqual(u.params, [['keyfile', '/k']]);
});

test('parseDeviceTargets: interface and disk targets from domain XML', () => {
  const xml = `<domain><devices>
    <disk type='file' device='disk'><source file='/a &amp; b.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type="file" device="cdrom"><target dev="sdb"/></disk>
    <filesystem type='mount'><target dir='/'/></filesystem>
    <interface type='bridge'><mac address='52:54:00:4d:00:1e'/><target dev='vs-&quot;x'/><guest dev='eth0'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:01'/></interface>
  </devices></domain>`;
  assert.deepEqual(parseDeviceTargets(xml), { interfaces: ['vs-"x'], disks: ['vda', 'sdb'] });
  assert.deepEqual(parseDeviceTargets('<domain/>'), { interfaces: [], disks: [] });
});

test('bulk stats with a DomainCache: the same domain object while its bytes stay, a new one when they change', () => {
  const cache = new P.DomainCache();
  const dom = (name: string, b: number, id: number): P.RemoteDomain => ({ name, uuid: Buffer.alloc(16, b), id });
  const reply = (doms: P.RemoteDomain[]) =>
    roundTrip((w) =>
      P.encodeAllDomainStats(
        w,
        doms.map((d) => ({ dom: d, params: [{ field: 'state.state', type: P.TypedParamType.INT, value: d.id }] })),
      ),
    );
  const first = P.decodeAllDomainStats(reply([dom('a', 1, 1), dom('bb', 2, 2), dom('ccc', 3, -1)]), cache);
  assert.deepEqual(
    first.map((r) => r.dom),
    [dom('a', 1, 1), dom('bb', 2, 2), dom('ccc', 3, -1)],
  );
  assert.ok(Object.isFrozen(first[0].dom), 'shared objects cannot be changed by a caller');
  const again = P.decodeAllDomainStats(reply([dom('a', 1, 1), dom('bb', 2, 2), dom('ccc', 3, -1)]), cache);
  again.forEach((r, i) => assert.equal(r.dom, first[i].dom, `slot ${i} reused`));
  // another id (started), uuid, name, or order: a new object with the new values, and the params still follow
  const changed = P.decodeAllDomainStats(reply([dom('a', 1, 7), dom('bb', 9, 2), dom('cc', 3, -1), dom('a', 1, 7)]), cache);
  assert.deepEqual(
    changed.map((r) => r.dom),
    [dom('a', 1, 7), dom('bb', 9, 2), dom('cc', 3, -1), dom('a', 1, 7)],
  );
  changed.forEach((r, i) => assert.notEqual(r.dom, first[i]?.dom));
  assert.deepEqual(
    changed.map((r) => r.params['state.state']),
    [7, 2, -1, 7],
  );
  // a cut-short reply fails as it does without the cache
  const full = reply([dom('a', 1, 1)]);
  const bytes = Buffer.from((full as unknown as { buf: Buffer }).buf.subarray(0, 4 + 4 + 4 + 8));
  const withCache = () => P.decodeAllDomainStats(new XdrReader(bytes), cache);
  const without = () => P.decodeAllDomainStats(new XdrReader(bytes));
  assert.throws(without, XdrError);
  assert.throws(
    withCache,
    (e: Error) =>
      e instanceof XdrError &&
      e.message ===
        (() => {
          try {
            without();
          } catch (x) {
            return (x as Error).message;
          }
        })(),
  );
});
