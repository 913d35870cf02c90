// lxc-tools listing: every container of an lxcpath in ONE program run on the host (one SSH channel per
// poll on a remote host), with the real lxc-info over containers that exist only as config files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LxcBackend } from '../../src/core/backends/lxc';
import { parseListing } from '../../src/core/backends/lxc/listing';
import { LocalHost } from '../../src/core/host/local';
import { countingHost as counting } from '../fixtures/remote/countingHost';

/** Each Host operation is one SSH channel on a remote host: count them. */
const countingHost = () => counting(new LocalHost());

const hasLxcInfo = (() => {
  try {
    execFileSync('lxc-info', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = hasLxcInfo ? false : 'lxc-info is not installed';

let dir: string;
const marker = () => path.join(dir, 'pwned');
const NAMES = ['plain', 'with space', "quote'; touch pwned #", '$(touch pwned)', '`touch pwned`', 'new\nline', 'ünïcode'];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-lxc-listing-'));
  for (const n of NAMES) {
    fs.mkdirSync(path.join(dir, n));
    fs.writeFileSync(path.join(dir, n, 'config'), `lxc.uts.name = x\n${n === 'plain' ? 'lxc.cgroup2.memory.max = 64M\nlxc.cgroup2.cpuset.cpus = 0-1\n' : ''}`);
  }
  fs.mkdirSync(path.join(dir, 'no-config')); // not a container
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('list(): every container in one run on the host, whatever the count, hostile names intact', { skip }, async () => {
  const { host, ops } = countingHost();
  const b = new LxcBackend({ id: 'l', type: 'lxc', lxcPath: dir }, host);
  const guests = await b.list();
  assert.deepEqual(ops, ['run'], `one program run for ${NAMES.length} containers, not 1 + 3 per container`);
  assert.deepEqual(
    guests.map((g) => g.name),
    [...NAMES].sort(),
  );
  assert.ok(guests.every((g) => g.state === 'stopped' && g.rawState === 'STOPPED' && g.runtimeId === undefined));
  const plain = guests.find((g) => g.name === 'plain')!;
  assert.equal(plain.memoryBytes, 64 * 1024 ** 2);
  assert.equal(plain.vcpus, 2);
  assert.equal(fs.existsSync(marker()), false, 'no name ran as code');
});

test('get(): one run; a container that is not there is undefined', { skip }, async () => {
  const { host, ops } = countingHost();
  const b = new LxcBackend({ id: 'l', type: 'lxc', lxcPath: dir }, host);
  assert.equal((await b.get('with space'))?.state, 'stopped');
  assert.equal(await b.get('no-config'), undefined);
  assert.equal(await b.get('absent'), undefined);
  assert.deepEqual(ops, ['run', 'run', 'run']);
});

test('parseListing: four NUL-terminated fields per container, sorted by name', () => {
  const out = "b\x000\x00State: RUNNING\nPID: 7\x00lxc.x = 1\n\x00a\x001\x00a doesn't exist\x00\x00";
  assert.deepEqual(parseListing(out), [
    { name: 'a', infoStatus: 1, info: "a doesn't exist", config: '' },
    { name: 'b', infoStatus: 0, info: 'State: RUNNING\nPID: 7', config: 'lxc.x = 1\n' },
  ]);
  assert.deepEqual(parseListing(''), []);
});
