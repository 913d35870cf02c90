// Snapshots against the real libvirtd (qemu:///system), on a small QEMU guest of this file's own
// (a qcow2 disk made with qemu-img, no OS: TCG sits in the firmware, which is enough for memory
// snapshots). Never touches the lab's guests. Checks a revert restores the disk content written
// before the snapshot (read back with qemu-io), the tree with hostile names, a refused unsafe
// action with its reason, and delete with children. Everything made here is removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import * as P from '../../src/core/libvirt/protocol';
import { BackendError, Guest } from '../../src/core/model';
import { escapeXml } from '../../src/core/xmlTree';
import type { Snapshots } from '../../src/core/snapshots/snapshots';

const URI = 'qemu:///system';
const NAME = `vs-snap-it-${process.pid}`;
const FIRST = `first "snap" it's ☃ <1>`;
const SECOND = 'second snapshot with spaces & ünïcode';
const MEM = 'with memory 名前';

let dir = '';
let disk = '';
let backend: LibvirtBackend;
let snaps: Snapshots;
let uuid = '';

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 })),
  );
}

/** Fills the first 64 KiB of the (stopped) guest's disk with `byte`. */
async function writePattern(byte: number): Promise<void> {
  const r = await run('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x${byte.toString(16)} 0 64k`, disk]);
  assert.equal(r.code, 0, r.stderr);
}

/** Whether the first 64 KiB of the (stopped) guest's disk hold `byte` throughout. */
async function hasPattern(byte: number): Promise<boolean> {
  const r = await run('qemu-io', ['-f', 'qcow2', '-r', '-U', '-c', `read -P 0x${byte.toString(16)} 0 64k`, disk]);
  return r.code === 0 && !/verification failed/i.test(r.stdout + r.stderr);
}

const domainXml = () => `<domain type='qemu'>
  <name>${escapeXml(NAME)}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${escapeXml(disk)}'/><target dev='vda' bus='virtio'/></disk>
    <memballoon model='none'/>
  </devices>
</domain>`;

const guest = (): Guest => ({ id: uuid, name: NAME, kind: 'qemu', state: 'stopped', rawState: 'shut off' });

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vs-snap-it-'));
  chmodSync(dir, 0o755); // QEMU runs as libvirt-qemu
  disk = path.join(dir, 'disk.qcow2');
  const r = await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  assert.equal(r.code, 0, r.stderr);
  backend = new LibvirtBackend({ id: 'snap-it', type: 'libvirt', uri: URI });
  await backend.connect();
  uuid = await backend.defineXML(domainXml());
  snaps = capability(backend, guest(), 'snapshots')!;
  assert.ok(snaps, 'a QEMU guest has the snapshots capability');
});

after(async () => {
  try {
    const c = await backend.client();
    const dom = await c.domainLookupByName(NAME).catch(() => undefined);
    if (dom) {
      await c.domainDestroy(dom).catch(() => undefined);
      await c.domainUndefineFlags(dom, P.UndefineFlags.SNAPSHOTS_METADATA);
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stopped guest: an internal snapshot, then a revert brings back the disk content written before it', async () => {
  await writePattern(0xaa);
  const made = await snaps.create({ name: FIRST, description: 'before <the> "change"', memory: false });
  assert.equal(made.name, FIRST);
  assert.equal(made.location, 'internal');
  assert.equal(made.content, 'stopped');
  await writePattern(0xbb); // written after the snapshot
  assert.ok(await hasPattern(0xbb));
  const plan = await snaps.planRevert(FIRST);
  assert.ok(plan.ok);
  assert.match(plan.lost, /Everything written to the guest's disks since/);
  await snaps.revert(FIRST);
  assert.ok(await hasPattern(0xaa), 'the revert restored the bytes of the snapshot');
  assert.ok(!(await hasPattern(0xbb)));
});

test('the tree: parent → child, the current one marked, hostile names intact, XML as a document', async () => {
  await snaps.create({ name: SECOND, memory: false });
  const list = await snaps.list();
  const first = list.find((s) => s.name === FIRST)!;
  const second = list.find((s) => s.name === SECOND)!;
  assert.ok(first && second, JSON.stringify(list.map((s) => s.name)));
  assert.equal(second.parent, FIRST);
  assert.equal(second.current, true);
  assert.equal(first.current, false);
  assert.equal(first.description, 'before <the> "change"');
  assert.ok(typeof first.creationTime === 'number' && first.creationTime > 1.7e9);
  const xml = (await snaps.inspect(FIRST)).text;
  assert.match(xml, /<domainsnapshot>/);
  assert.ok(
    xml.includes(
      escapeXml(FIRST)
        .replace(/&apos;/g, "'")
        .replace(/&quot;/g, '"'),
    ) || xml.includes(escapeXml(FIRST)),
  );
  // libvirt's own view of the children and parent, through 275 and 244
  const c = await backend.client();
  const dom = await c.domainLookupByName(NAME);
  const s1 = await c.snapshotLookupByName(dom, FIRST);
  assert.deepEqual(
    (await c.snapshotListAllChildren(s1, 0)).map((s) => s.name),
    [SECOND],
  );
  assert.equal((await c.snapshotGetParent(await c.snapshotLookupByName(dom, SECOND))).name, FIRST);
  assert.equal((await c.snapshotCurrent(dom)).name, SECOND);
});

test('running guest: disk-only is refused on this libvirt with the reason; a memory snapshot and its revert work', async (t) => {
  const c = await backend.client();
  const dom = await c.domainLookupByName(NAME);
  await c.domainCreate(dom);
  t.after(() => c.domainDestroy(dom).catch(() => undefined));
  const lib = await c.getLibVersion();
  const diskOnly = await snaps.planCreate({ name: 'disk only', memory: false });
  if (lib < 9_007_000) {
    assert.ok(!diskOnly.ok);
    assert.match(diskOnly.reason, /disk-only snapshot of a running guest is external/);
    await assert.rejects(snaps.create({ name: 'disk only', memory: false }), (e: BackendError) => e.code === 'EREFUSED');
    assert.ok(!(await snaps.list()).some((s) => s.name === 'disk only'), 'nothing was created');
  }
  const mem = await snaps.create({ name: MEM, memory: true });
  assert.equal(mem.content, 'memory');
  assert.equal(mem.state, 'running');
  await c.domainSuspend(dom);
  await snaps.revert(MEM);
  const st = await c.domainGetState(dom);
  assert.equal(st.state, P.DomainState.RUNNING, 'reverting to a running snapshot leaves the guest running');
  await c.domainDestroy(dom);
});

test('delete: one keeps its children (they move up), with children removes the subtree', async () => {
  const one = await snaps.planDelete(SECOND, false);
  assert.ok(one.ok);
  await snaps.delete(SECOND, false);
  let names = (await snaps.list()).map((s) => s.name);
  assert.ok(!names.includes(SECOND) && names.includes(FIRST) && names.includes(MEM), names.join(', '));
  const all = await snaps.planDelete(FIRST, true);
  assert.ok(all.ok);
  assert.deepEqual([...all.removed].sort(), [FIRST, MEM].sort());
  await snaps.delete(FIRST, true);
  names = (await snaps.list()).map((s) => s.name);
  assert.deepEqual(names, []);
});
