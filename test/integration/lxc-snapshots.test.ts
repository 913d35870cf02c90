// lxc-snapshot through the snapshots capability, on a stopped container of this file's own in a
// temporary lxcpath (a config and a small dir rootfs; it is never started): create with a hostile
// comment, list, restore brings back a file changed after the snapshot, delete. Needs lxc-tools and
// rsync (lxc copies dir rootfs with rsync). Never touches the lab's containers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LxcBackend } from '../../src/core/backends/lxc';
import { capability } from '../../src/core/capabilities';
import type { Snapshots } from '../../src/core/snapshots/snapshots';

const NAME = 'vs-lxcsnap-it';
const COMMENT = `before "the change" it's ☃ & <ok>`;
let lxcpath = '';
let marker = '';
let snaps: Snapshots;

before(async () => {
  lxcpath = mkdtempSync(path.join(os.tmpdir(), 'vs-lxcsnap-it-'));
  const rootfs = path.join(lxcpath, NAME, 'rootfs');
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  marker = path.join(rootfs, 'etc', 'marker');
  writeFileSync(path.join(lxcpath, NAME, 'config'), `lxc.uts.name = ${NAME}\nlxc.rootfs.path = dir:${rootfs}\n`);
  const backend = new LxcBackend({ id: 'lxcsnap-it', type: 'lxc', lxcPath: lxcpath });
  await backend.connect();
  const guest = await backend.get(NAME);
  assert.equal(guest?.state, 'stopped');
  snaps = capability(backend, guest, 'snapshots')!;
  assert.equal(snaps.naming, 'automatic');
});

after(() => rmSync(lxcpath, { recursive: true, force: true }));

test('create (comment kept), restore brings back the file, delete', async () => {
  writeFileSync(marker, 'before\n');
  const made = await snaps.create({ name: COMMENT, memory: false });
  assert.equal(made.name, 'snap0');
  assert.equal(made.description, COMMENT);
  assert.equal(made.location, 'copy');
  writeFileSync(marker, 'after\n');
  const second = await snaps.create({ name: '', memory: false });
  assert.equal(second.name, 'snap1');
  assert.deepEqual(
    (await snaps.list()).map((s) => s.name),
    ['snap0', 'snap1'],
  );
  assert.match((await snaps.inspect('snap0')).text, /lxc\.uts\.name/);
  const plan = await snaps.planRevert('snap0');
  assert.ok(plan.ok);
  await snaps.revert('snap0');
  assert.equal(readFileSync(marker, 'utf8'), 'before\n');
  await snaps.delete('snap1', false);
  assert.deepEqual(
    (await snaps.list()).map((s) => s.name),
    ['snap0'],
  );
  await snaps.delete('snap0', false);
  assert.deepEqual(await snaps.list(), []);
});
