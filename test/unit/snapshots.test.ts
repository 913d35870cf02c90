// Snapshots: the RPC encodings of the eight snapshot procedures against a fake libvirtd, the
// snapshot XML reader, and the safety rules that refuse before libvirt is called.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as P from '../../src/core/libvirt/protocol';
import { XdrReader, XdrWriter } from '../../src/core/libvirt/xdr';
import { LibvirtSnapshots } from '../../src/core/backends/libvirtSnapshots';
import { childrenByParent, guestFacts, parseSnapshotXml, SnapshotInfo } from '../../src/core/snapshots/model';
import { planCreate, planDelete, planRevert, snapshotNameProblem, SnapshotContext } from '../../src/core/snapshots/safety';
import { BackendError } from '../../src/core/model';
import { escapeXml } from '../../src/core/xmlTree';
import { fakeLibvirtd, Handler } from './fake-libvirtd';

const DOM: P.RemoteDomain = { name: 'snap "guest"', uuid: P.uuidFromString('6695eb01-f6a4-8304-79aa-97f2502e193f'), id: -1 };
const HOSTILE = `it's a "snap" <1> & ünïcødé ☃`;

const domainXml = (format: string, extra = '', devices = '') => `<domain type='qemu'><name>snap</name><os><type>hvm</type>${extra}</os><devices>${devices}
  <disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='/var/lib/x/a.img'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/><readonly/></disk>
</devices></domain>`;

function snapXml(s: { name: string; parent?: string; state?: string; time?: number; memory?: string; disk?: string; description?: string }): string {
  return `<domainsnapshot><name>${escapeXml(s.name)}</name>${s.description ? `<description>${escapeXml(s.description)}</description>` : ''}
  <state>${s.state ?? 'shutoff'}</state>${s.parent ? `<parent><name>${escapeXml(s.parent)}</name></parent>` : ''}
  <creationTime>${s.time ?? 1700000000}</creationTime><memory snapshot='${s.memory ?? 'no'}'/>
  <disks><disk name='vda' snapshot='${s.disk ?? 'internal'}'/><disk name='sda' snapshot='no'/></disks>
  <domain type='qemu'><name>NOT-THE-SNAPSHOT</name><description>nor this</description><devices><disk type='file' device='disk'><target dev='vdz'/></disk></devices></domain>
</domainsnapshot>`;
}

// ---- the snapshot XML and the guest's facts ---------------------------------------------

test('snapshot XML: own fields only (not the <domain> copy inside), kinds and content', () => {
  const s = parseSnapshotXml(snapXml({ name: HOSTILE, parent: 'base', state: 'running', memory: 'internal', description: 'a & b' }));
  assert.equal(s.name, HOSTILE);
  assert.equal(s.description, 'a & b');
  assert.equal(s.parent, 'base');
  assert.equal(s.creationTime, 1700000000);
  assert.equal(s.content, 'memory');
  assert.equal(s.location, 'internal');
  assert.deepEqual(s.disks, [
    { name: 'vda', snapshot: 'internal' },
    { name: 'sda', snapshot: 'no' },
  ]);
  assert.equal(parseSnapshotXml(snapXml({ name: 'd', state: 'disk-snapshot', disk: 'external' })).content, 'disk-only');
  assert.equal(parseSnapshotXml(snapXml({ name: 'd', state: 'disk-snapshot', disk: 'external' })).location, 'external');
  assert.equal(parseSnapshotXml(snapXml({ name: 'm', state: 'running', memory: 'external', disk: 'internal' })).location, 'mixed');
  assert.equal(parseSnapshotXml(snapXml({ name: 'off' })).content, 'stopped');
});

test('guest facts: disk formats, the CD-ROM left out, UEFI pflash, agent channel', () => {
  const f = guestFacts(domainXml('qcow2', "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"));
  assert.equal(f.disks.length, 2);
  assert.equal(f.disks[0].format, 'qcow2');
  assert.equal(f.pflash, true);
  assert.equal(f.agent, false);
  assert.equal(guestFacts(domainXml('raw')).pflash, false);
});

test('tree order: children under parents, by creation time; unknown parent = root', () => {
  const mk = (name: string, parent: string | undefined, t: number) => ({ ...parseSnapshotXml(snapXml({ name, parent, time: t })) });
  const by = childrenByParent([mk('c2', 'a', 3), mk('a', undefined, 1), mk('c1', 'a', 2), mk('orphan', 'gone', 4)]);
  assert.deepEqual(
    by.get('')!.map((s) => s.name),
    ['a', 'orphan'],
  );
  assert.deepEqual(
    by.get('a')!.map((s) => s.name),
    ['c1', 'c2'],
  );
});

// ---- safety rules ----------------------------------------------------------------------

const ctx = (over: Partial<SnapshotContext> & { format?: string; extra?: string; devices?: string } = {}): SnapshotContext => ({
  libVersion: 9_000_000,
  running: false,
  facts: guestFacts(domainXml(over.format ?? 'qcow2', over.extra ?? '', over.devices ?? '')),
  existing: [],
  ...over,
});
const info = (name: string, o: Omit<Parameters<typeof snapXml>[0], 'name'> = {}): SnapshotInfo => parseSnapshotXml(snapXml({ ...o, name }));

test('names: empty, "/", control characters, spaces around are refused; quotes and unicode are fine', () => {
  assert.match(snapshotNameProblem('')!, /needs a name/);
  assert.match(snapshotNameProblem('a/b')!, /"\/"/);
  assert.match(snapshotNameProblem('a\nb')!, /control/);
  assert.match(snapshotNameProblem(' a')!, /space/);
  assert.equal(snapshotNameProblem(HOSTILE), undefined);
});

test('create: qcow2 disks → internal, atomic, name and description escaped; memory only when running', () => {
  const off = planCreate({ name: HOSTILE, description: '<b>&', memory: true }, ctx());
  assert.ok(off.ok);
  assert.equal(off.location, 'internal');
  assert.equal(off.flags, P.SnapshotCreateFlags.ATOMIC);
  assert.equal(parseSnapshotXml(off.xml.replace('</domainsnapshot>', '<state>shutoff</state></domainsnapshot>')).name, HOSTILE);
  assert.ok(!off.xml.includes('<memory'));
  const on = planCreate({ name: 'x', memory: true }, ctx({ running: true }));
  assert.ok(on.ok && on.xml.includes("<memory snapshot='internal'/>"));
});

test('create: a raw disk on libvirt 9.0 is refused with the reason (qcow2, external revert in 9.7)', () => {
  const p = planCreate({ name: 'x', memory: false }, ctx({ format: 'raw' }));
  assert.ok(!p.ok);
  assert.match(p.reason, /internal snapshots need qcow2 on every disk, and vda \(raw\) is not/);
  assert.match(p.reason, /libvirt 9\.0\.0 on this host cannot revert external snapshots \(that arrives in libvirt 9\.7\)/);
});

test('create: disk-only of a running guest is external: refused on 9.0, allowed on 9.7 (disk-only flags)', () => {
  const old = planCreate({ name: 'x', memory: false }, ctx({ running: true }));
  assert.ok(!old.ok);
  assert.match(old.reason, /disk-only snapshot of a running guest is external/);
  const neu = planCreate({ name: 'x', memory: false }, ctx({ running: true, libVersion: 9_007_000 }));
  assert.ok(neu.ok);
  assert.equal(neu.location, 'external');
  assert.equal(neu.flags, P.SnapshotCreateFlags.DISK_ONLY | P.SnapshotCreateFlags.ATOMIC);
});

test('create: UEFI pflash guests get no internal snapshot; duplicate names are refused', () => {
  const p = planCreate({ name: 'x', memory: false }, ctx({ extra: "<loader type='pflash'>/x</loader>" }));
  assert.ok(!p.ok && /pflash/.test(p.reason));
  const d = planCreate({ name: 'a', memory: false }, ctx({ existing: [info('a')] }));
  assert.ok(!d.ok && /already has a snapshot named "a"/.test(d.reason));
});

test('create: mixing kinds is allowed only with the risk said', () => {
  const p = planCreate({ name: 'new', memory: false }, ctx({ existing: [info('ext', { state: 'disk-snapshot', disk: 'external' })] }));
  assert.ok(p.ok);
  assert.equal(p.risks.length, 1);
  assert.match(p.risks[0], /already has external snapshots and this one will be internal/);
  const same = planCreate({ name: 'new', memory: false }, ctx({ existing: [info('int')] }));
  assert.ok(same.ok && same.risks.length === 0);
});

test('revert: external on 9.0 refused; internal says what is lost', () => {
  const ext = planRevert(info('e', { state: 'disk-snapshot', disk: 'external' }), ctx());
  assert.ok(!ext.ok);
  assert.match(ext.reason, /external snapshot, and libvirt 9\.0\.0 on this host cannot revert those/);
  assert.ok(planRevert(info('e', { state: 'disk-snapshot', disk: 'external' }), ctx({ libVersion: 9_007_000 })).ok);
  const r = planRevert(info('i', { state: 'running', memory: 'internal' }), ctx({ running: true }));
  assert.ok(r.ok);
  assert.match(r.lost, /Everything written to the guest's disks since 2023-11-14 22:13:20 UTC, and everything in its memory now/);
  assert.match(r.lost, /resumes as it was/);
});

test('delete: one or with children (flag), children that stay are said', () => {
  const kids = [info('k1', { parent: 'a' })];
  const one = planDelete(info('a'), kids, false, ctx());
  assert.ok(one.ok);
  assert.equal(one.flags, 0);
  assert.match(one.risks[0], /1 child snapshot\(s\) stay/);
  const all = planDelete(info('a'), kids, true, ctx());
  assert.ok(all.ok);
  assert.equal(all.flags, P.SnapshotDeleteFlags.CHILDREN);
  assert.deepEqual(all.removed, ['a', 'k1']);
  const old = planDelete(info('e', { state: 'disk-snapshot', disk: 'external' }), [], false, ctx({ libVersion: 8_010_000 }));
  assert.ok(!old.ok && /cannot delete external snapshots/.test(old.reason));
});

// ---- RPC encodings against a fake libvirtd -----------------------------------------------

interface FakeSnap {
  name: string;
  xml: string;
  parent?: string;
}

/** A fake daemon with one domain and its snapshots, answering the snapshot procedures. */
function snapshotDaemon(opts: { version?: number; format?: string; running?: boolean; snaps?: FakeSnap[]; current?: string } = {}) {
  const snaps: FakeSnap[] = opts.snaps ?? [];
  let current = opts.current;
  const snapRef = (name: string): P.RemoteSnapshot => ({ name, dom: DOM });
  const readSnap = (r: XdrReader) => P.decodeSnapshot(r).name;
  const noSnap = (name: string) => ({
    error: P.ErrorCode.NO_DOMAIN_SNAPSHOT,
    message: `Domain snapshot not found: no domain snapshot with matching name '${name}'`,
  });
  const handlers: Record<number, Handler> = {
    [P.Proc.CONNECT_GET_LIB_VERSION]: () => (w) => w.uhyper(opts.version ?? 9_000_000),
    [P.Proc.DOMAIN_LOOKUP_BY_NAME]: () => (w) => P.encodeDomain(w, DOM),
    [P.Proc.DOMAIN_GET_STATE]: () => (w) => w.int(opts.running ? 1 : 5).int(0),
    [P.Proc.DOMAIN_GET_XML_DESC]: () => (w) => w.string(domainXml(opts.format ?? 'qcow2')),
    [P.Proc.DOMAIN_LIST_ALL_SNAPSHOTS]: (r) => {
      P.decodeDomain(r);
      assert.equal(r.int(), 1, 'need_results');
      assert.equal(r.uint(), P.SnapshotListFlags.TOPOLOGICAL);
      return (w) =>
        P.encodeSnapshotList(
          w,
          snaps.map((s) => snapRef(s.name)),
        );
    },
    [P.Proc.DOMAIN_SNAPSHOT_GET_XML_DESC]: (r) => {
      const name = readSnap(r);
      const s = snaps.find((x) => x.name === name);
      return s ? (w) => w.string(s.xml) : noSnap(name);
    },
    [P.Proc.DOMAIN_SNAPSHOT_LOOKUP_BY_NAME]: (r) => {
      P.decodeDomain(r);
      const name = r.string(P.REMOTE_STRING_MAX);
      return snaps.some((x) => x.name === name) ? (w) => P.encodeSnapshot(w, snapRef(name)) : noSnap(name);
    },
    [P.Proc.DOMAIN_SNAPSHOT_CURRENT]: () => (current ? (w) => P.encodeSnapshot(w, snapRef(current!)) : noSnap('current')),
    [P.Proc.DOMAIN_SNAPSHOT_CREATE_XML]: (r) => {
      P.decodeDomain(r);
      const xml = r.string(P.REMOTE_STRING_MAX);
      r.uint();
      const name = parseSnapshotXml(xml.replace('</domainsnapshot>', '<state>shutoff</state></domainsnapshot>')).name;
      snaps.push({ name, xml: snapXml({ name, parent: current }), parent: current });
      current = name;
      return (w) => P.encodeSnapshot(w, snapRef(name));
    },
    [P.Proc.DOMAIN_REVERT_TO_SNAPSHOT]: (r) => {
      current = readSnap(r);
      return () => undefined;
    },
    [P.Proc.DOMAIN_SNAPSHOT_DELETE]: (r) => {
      const name = readSnap(r);
      const flags = r.uint();
      const gone = new Set([name]);
      if (flags & P.SnapshotDeleteFlags.CHILDREN) for (const s of snaps) if (s.parent && gone.has(s.parent)) gone.add(s.name);
      snaps.splice(0, snaps.length, ...snaps.filter((s) => !gone.has(s.name)));
      return () => undefined;
    },
    [P.Proc.DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN]: (r) => {
      const name = readSnap(r);
      r.int();
      const flags = r.uint();
      const out = new Set<string>();
      const walk = (p: string) => {
        for (const s of snaps) {
          if (s.parent !== p || out.has(s.name)) continue;
          out.add(s.name);
          if (flags & P.SnapshotListFlags.DESCENDANTS) walk(s.name);
        }
      };
      walk(name);
      return (w) => P.encodeSnapshotList(w, [...out].map(snapRef));
    },
    [P.Proc.DOMAIN_SNAPSHOT_GET_PARENT]: (r) => {
      const name = readSnap(r);
      const p = snaps.find((s) => s.name === name)?.parent;
      return p ? (w) => P.encodeSnapshot(w, snapRef(p)) : { error: P.ErrorCode.NO_DOMAIN_SNAPSHOT, message: `snapshot '${name}' does not have a parent` };
    },
  };
  const d = fakeLibvirtd(handlers);
  const snapshots = new LibvirtSnapshots(
    async () => d.client,
    (c) => c.domainLookupByName(DOM.name),
  );
  return { ...d, snapshots, snaps };
}

const tree = (): FakeSnap[] => [
  { name: 'base', xml: snapXml({ name: 'base', time: 1 }) },
  { name: HOSTILE, xml: snapXml({ name: HOSTILE, parent: 'base', time: 2 }), parent: 'base' },
  { name: 'leaf', xml: snapXml({ name: 'leaf', parent: HOSTILE, time: 3 }), parent: HOSTILE },
];

test('RPC: each snapshot call is encoded as remote_protocol.x says (args byte for byte)', async () => {
  const d = snapshotDaemon({ snaps: tree(), current: 'leaf' });
  const snap: P.RemoteSnapshot = { name: HOSTILE, dom: DOM };
  const expect = (fill: (w: XdrWriter) => void) => {
    const w = new XdrWriter();
    fill(w);
    return Buffer.from(w.finish());
  };
  await d.client.snapshotGetXMLDesc(snap, P.SnapshotXmlFlags.SECURE);
  await d.client.domainListAllSnapshots(DOM, P.SnapshotListFlags.TOPOLOGICAL);
  await d.client.snapshotListAllChildren({ name: 'base', dom: DOM }, P.SnapshotListFlags.DESCENDANTS);
  const parent = await d.client.snapshotGetParent(snap);
  await d.client.revertToSnapshot(snap, P.SnapshotRevertFlags.RUNNING);
  const cur = await d.client.snapshotCurrent(DOM);
  const s = (x: P.RemoteSnapshot) => (w: XdrWriter) => P.encodeSnapshot(w, x);
  assert.deepEqual(
    d.calls[0].body,
    expect((w) => (s(snap)(w), w.uint(1))),
  );
  assert.deepEqual(
    d.calls[1].body,
    expect((w) => (P.encodeDomain(w, DOM), w.int(1).uint(1 << 10))),
  );
  assert.deepEqual(
    d.calls[2].body,
    expect((w) => (s({ name: 'base', dom: DOM })(w), w.int(1).uint(1))),
  );
  assert.deepEqual(
    d.calls[3].body,
    expect((w) => (s(snap)(w), w.uint(0))),
  );
  assert.deepEqual(
    d.calls[4].body,
    expect((w) => (s(snap)(w), w.uint(1))),
  );
  assert.deepEqual(
    d.calls[5].body,
    expect((w) => (P.encodeDomain(w, DOM), w.uint(0))),
  );
  assert.deepEqual(parent, { name: 'base', dom: DOM });
  assert.equal(cur.name, HOSTILE, 'the revert made it current');
  assert.deepEqual(d.procs(), [186, 274, 275, 244, 192, 191]);
  const kids = await d.client.snapshotListAllChildren({ name: 'base', dom: DOM }, P.SnapshotListFlags.DESCENDANTS);
  assert.deepEqual(
    kids.map((k) => k.name),
    [HOSTILE, 'leaf'],
  );
  await assert.rejects(d.client.snapshotGetParent({ name: 'base', dom: DOM }), (e: BackendError) => e.code === P.ErrorCode.NO_DOMAIN_SNAPSHOT);
  const created = await d.client.domainSnapshotCreateXML(DOM, `<domainsnapshot><name>${escapeXml('n')}</name></domainsnapshot>`, P.SnapshotCreateFlags.ATOMIC);
  assert.equal(created.name, 'n');
  assert.deepEqual(
    d.calls.at(-1)!.body,
    expect((w) => (P.encodeDomain(w, DOM), w.string('<domainsnapshot><name>n</name></domainsnapshot>').uint(128))),
  );
  await d.client.snapshotDelete({ name: 'n', dom: DOM }, P.SnapshotDeleteFlags.CHILDREN);
  assert.deepEqual(
    d.calls.at(-1)!.body,
    expect((w) => (s({ name: 'n', dom: DOM })(w), w.uint(1))),
  );
  assert.deepEqual(d.procs().slice(-3), [244, 185, 193]);
  d.client.destroy();
});

test('capability: list marks the current snapshot and keeps hostile names intact', async () => {
  const d = snapshotDaemon({ snaps: tree(), current: HOSTILE });
  const list = await d.snapshots.list();
  assert.deepEqual(
    list.map((s) => [s.name, s.parent, s.current]),
    [
      ['base', undefined, false],
      [HOSTILE, 'base', true],
      ['leaf', HOSTILE, false],
    ],
  );
  d.client.destroy();
});

test('capability: a guest without a current snapshot lists fine', async () => {
  const d = snapshotDaemon();
  assert.deepEqual(await d.snapshots.list(), []);
  d.client.destroy();
});

test('capability: create on qcow2 takes an internal, atomic snapshot with the hostile name', async () => {
  const d = snapshotDaemon();
  const made = await d.snapshots.create({ name: HOSTILE, description: 'd "q"', memory: false });
  assert.equal(made.name, HOSTILE);
  const call = d.calls.find((c) => c.proc === P.Proc.DOMAIN_SNAPSHOT_CREATE_XML)!;
  const r = new XdrReader(call.body);
  P.decodeDomain(r);
  const xml = r.string(P.REMOTE_STRING_MAX);
  assert.equal(r.uint(), P.SnapshotCreateFlags.ATOMIC);
  assert.match(xml, /<name>it&apos;s a &quot;snap&quot; &lt;1&gt; &amp; ünïcødé ☃<\/name>/);
  d.client.destroy();
});

test('capability: unsafe verbs are refused before libvirt is called', async () => {
  const raw = snapshotDaemon({ format: 'raw' });
  await assert.rejects(raw.snapshots.create({ name: 'x', memory: false }), (e: BackendError) => e.code === 'EREFUSED' && /qcow2/.test(e.message));
  assert.ok(!raw.procs().includes(P.Proc.DOMAIN_SNAPSHOT_CREATE_XML), 'no CREATE_XML reached the daemon');
  raw.client.destroy();

  const ext = snapshotDaemon({ snaps: [{ name: 'e', xml: snapXml({ name: 'e', state: 'disk-snapshot', disk: 'external' }) }] });
  await assert.rejects(ext.snapshots.revert('e'), (e: BackendError) => e.code === 'EREFUSED' && /9\.7/.test(e.message));
  assert.ok(!ext.procs().includes(P.Proc.DOMAIN_REVERT_TO_SNAPSHOT), 'no REVERT reached the daemon');
  // mixing kinds needs the risk accepted
  await assert.rejects(ext.snapshots.create({ name: 'i', memory: false }), (e: BackendError) => e.code === 'ERISK');
  assert.ok(!ext.procs().includes(P.Proc.DOMAIN_SNAPSHOT_CREATE_XML));
  await ext.snapshots.create({ name: 'i', memory: false }, { acceptRisks: true });
  assert.ok(ext.procs().includes(P.Proc.DOMAIN_SNAPSHOT_CREATE_XML));
  ext.client.destroy();
});

test('capability: revert and delete (one, with children) reach libvirt with the right flags', async () => {
  const d = snapshotDaemon({ snaps: tree(), current: 'leaf' });
  await d.snapshots.revert('base');
  assert.equal((await d.snapshots.list()).find((s) => s.current)?.name, 'base');
  await d.snapshots.delete(HOSTILE, true);
  assert.deepEqual(
    (await d.snapshots.list()).map((s) => s.name),
    ['base'],
  );
  await assert.rejects(d.snapshots.delete('leaf', false), (e: BackendError) => e.code === 'ENOENT' && /no longer exists/.test(e.message));
  d.client.destroy();
});

// ---- how a snapshot shows in the tree ------------------------------------------------------

test('tree item: current marked, time, content, kind; markdown in names escaped; menus match contextValue', async () => {
  const { snapshotItemSpec } = await import('../../src/core/snapshots/itemSpec');
  const s = { ...info('*bold* [x](y)', { state: 'running', memory: 'internal', time: 1700000000 }), current: true };
  const spec = snapshotItemSpec(s, 2);
  assert.equal(spec.label, '*bold* [x](y)');
  assert.equal(spec.description, 'current · 2023-11-14 22:13 · with memory · internal');
  assert.match(spec.tooltip, /\\\*bold\\\* \\\[x\\\]\\\(y\\\)/);
  assert.match(spec.tooltip, /2 child snapshots/);
  assert.equal(spec.contextValue, 'snapshot location-internal content-memory current has-children');
  assert.match(snapshotItemSpec(info('e', { state: 'disk-snapshot', disk: 'external' }), 0).description, /disk only · external$/);
  const menus: Array<{ command: string; when: string; group?: string }> = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'))
    .contributes.menus['view/item/context'];
  const on = (cmd: string, ctxValue: string) =>
    menus.some((m) => m.command === cmd && new RegExp(/viewItem =~ \/(.*)\//.exec(m.when)?.[1] ?? '^$').test(ctxValue));
  assert.ok(on('virtscope.snapshot.revert', spec.contextValue));
  assert.ok(on('virtscope.snapshot.delete', spec.contextValue));
  assert.ok(!on('virtscope.snapshot.revert', 'snapshots'), 'the folder is not a snapshot');
  assert.equal(menus.find((m) => m.command === 'virtscope.snapshot.delete')?.group, '9_destructive@0');
});

// ---- lxc-tools: lxc-snapshot ---------------------------------------------------------------

test('lxc-snapshot -L lines parse into names, folders and times; other lines are ignored', async () => {
  const { parseLxcSnapshotList } = await import('../../src/core/backends/lxcSnapshots');
  assert.deepEqual(parseLxcSnapshotList('snap0 (/var/lib/lxc/c d/snaps) 2026:12:03 14:18:19\nfirst comment\nsnap1 (/x) 2026:01:02 03:04:05\n'), [
    { name: 'snap0', dir: '/var/lib/lxc/c d/snaps', time: Date.UTC(2026, 11, 3, 14, 18, 19) / 1000 },
    { name: 'snap1', dir: '/x', time: Date.UTC(2026, 0, 2, 3, 4, 5) / 1000 },
  ]);
  assert.deepEqual(parseLxcSnapshotList('No snapshots\n'), []);
});

test('lxc: create and restore are refused while the container runs (stop first offered), nothing run', async () => {
  const { LxcSnapshots } = await import('../../src/core/backends/lxcSnapshots');
  const { localHost } = await import('../../src/core/host/local');
  const ran: string[][] = [];
  let state: 'running' | 'stopped' = 'running';
  const snaps = new LxcSnapshots(
    {
      host: localHost,
      run: async (args) => (ran.push(args), args.includes('-L') ? 'snap0 (/nonexistent/snaps) 2026:12:03 14:18:19\n' : ''),
      pathArgs: () => ['-P', '/nonexistent'],
      state: async () => state,
    },
    'c "1"',
  );
  const plan = await snaps.planCreate({ name: 'x', memory: false });
  assert.ok(!plan.ok && plan.stopFirst);
  assert.match(plan.reason, /"c "1"" is running: lxc-snapshot copies its whole root file system/);
  await assert.rejects(snaps.create({ name: 'x', memory: false }), (e: BackendError) => e.code === 'EREFUSED');
  const rv = await snaps.planRevert('snap0');
  assert.ok(!rv.ok && rv.stopFirst);
  await assert.rejects(snaps.revert('snap0'), (e: BackendError) => e.code === 'EREFUSED');
  assert.ok(
    ran.every((a) => a.includes('-L')),
    `only listings ran: ${JSON.stringify(ran)}`,
  );
  state = 'stopped';
  const ok = await snaps.planRevert('snap0');
  assert.ok(ok.ok && /every change since is lost/.test(ok.lost));
  await snaps.revert('snap0');
  assert.deepEqual(ran.at(-1), ['-n', 'c "1"', '-P', '/nonexistent', '-r', 'snap0']);
});

test('quiesce: only disk-only of a running guest with an agent channel, on a libvirt that can revert it', () => {
  const devices = "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
  const old = planCreate({ name: 'q', memory: false, quiesce: true }, ctx({ running: true, devices }));
  assert.ok(!old.ok && /9\.7/.test(old.reason));
  const ok = planCreate({ name: 'q', memory: false, quiesce: true }, ctx({ running: true, devices, libVersion: 9_007_000 }));
  assert.ok(ok.ok);
  assert.equal(ok.flags, P.SnapshotCreateFlags.DISK_ONLY | P.SnapshotCreateFlags.ATOMIC | P.SnapshotCreateFlags.QUIESCE);
  const noAgent = planCreate({ name: 'q', memory: false, quiesce: true }, ctx({ running: true, libVersion: 9_007_000 }));
  assert.ok(!noAgent.ok && /guest agent/.test(noAgent.reason));
  const withMemory = planCreate({ name: 'q', memory: true, quiesce: true }, ctx({ running: true }));
  assert.ok(!withMemory.ok && /quiescing needs a disk-only snapshot/.test(withMemory.reason));
});
