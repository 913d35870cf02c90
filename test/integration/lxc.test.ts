// lxc-tools backend against real containers (the lab's labct, plus one made here with a hostile name).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LxcBackend } from '../../src/core/backends/lxc';
import { Connection } from '../../src/core/connection';
import { waitFor } from './util';

// Quotes, ';', '$(…)' and non-ASCII: reaching a shell anywhere would create the marker file.
// (lxc's busybox template itself cannot create names with spaces; libvirt's tests cover spaces.)
const MARK = 'virtscope-pwned-lxc';
const NAME = `vs"ü;$(touch\${IFS}${MARK})'x`;
const cfg = { id: 'lxc-it', type: 'lxc' as const };

function lxc(...args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const marker = () => ['/', '/tmp', '/var/lib/lxc', process.cwd()].some((d) => existsSync(`${d}/${MARK}`));
/** What this file may make in the temporary directory, and what was there before it ran. */
const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith('vs-lxc-'));
const tmpBefore = new Set(ours());

before(() => {
  try {
    lxc('lxc-destroy', '-n', NAME, '-f');
  } catch {
    /* not there */
  }
  // no network (the host's default lxcbr0 does not exist here), no AppArmor (not loaded here)
  // lxc-create copies the file into the container's config: it is not needed afterwards
  const dir = mkdtempSync(join(tmpdir(), 'vs-lxc-'));
  try {
    const conf = join(dir, 'ct.conf');
    writeFileSync(conf, 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
    lxc('lxc-create', '-n', NAME, '-t', 'busybox', '-f', conf);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
after(() => {
  try {
    lxc('lxc-destroy', '-n', NAME, '-f');
  } catch {
    /* gone */
  }
  assert.ok(!marker(), 'nothing reached a shell');
});

test('lists the lab container and the hostile-named one', async () => {
  const b = new LxcBackend(cfg);
  await b.connect();
  const list = await b.list();
  const names = list.map((g) => g.name);
  assert.ok(names.includes('labct'), `labct listed (got ${names.join(', ')})`);
  assert.ok(names.includes(NAME));
  const labct = list.find((g) => g.name === 'labct')!;
  assert.equal(labct.kind, 'lxc');
  assert.equal(labct.state, 'running');
  assert.ok(labct.runtimeId && labct.runtimeId > 1, 'init pid');
  const def = await b.definition('labct');
  assert.equal(def.language, 'lxc-config');
  assert.match(def.text, /lxc\.rootfs\.path/);
});

test('every verb changes the real state (hostile name end to end)', async () => {
  const b = new LxcBackend(cfg);
  await b.connect();
  const state = async () => (await b.get(NAME))?.state;
  assert.equal(await state(), 'stopped');
  await b.perform(NAME, 'start');
  assert.equal(await state(), 'running');
  await b.perform(NAME, 'suspend');
  assert.equal(await state(), 'paused');
  await b.perform(NAME, 'resume');
  assert.equal(await state(), 'running');
  await b.perform(NAME, 'forceOff');
  assert.equal(await state(), 'stopped');
  await b.perform(NAME, 'start');
  await b.perform(NAME, 'shutdown');
  assert.equal(await state(), 'stopped');
  assert.ok(!marker());
});

test("errors carry lxc's own message; a vanished guest is reported as gone", async () => {
  const b = new LxcBackend(cfg);
  await b.connect();
  await assert.rejects(b.perform('no-such-ct-virtscope', 'start'), /no-such-ct-virtscope/);
  assert.equal(await b.get('no-such-ct-virtscope'), undefined);
});

test('an outside change (lxc-freeze) shows up within 2 s while the view is visible', async () => {
  const c = new Connection(cfg, (k) => new LxcBackend(k), { pollMs: 1000 });
  await c.start();
  c.setVisible(true);
  try {
    assert.equal(c.guest('labct')?.state, 'running');
    const t0 = Date.now();
    lxc('lxc-freeze', '-n', 'labct');
    await waitFor(() => c.guest('labct')?.state === 'paused', 2000, 'labct paused in the model');
    const ms = Date.now() - t0;
    lxc('lxc-unfreeze', '-n', 'labct');
    await waitFor(() => c.guest('labct')?.state === 'running', 2000, 'labct running again');
    console.log(`lxc-freeze seen after ${ms} ms`);
  } finally {
    try {
      lxc('lxc-unfreeze', '-n', 'labct');
    } catch {
      /* already thawed */
    }
    await c.dispose();
  }
});

test('a missing lxcpath is a clear error with a hint', async () => {
  const b = new LxcBackend({ ...cfg, lxcPath: '/nonexistent/virtscope' });
  await assert.rejects(b.connect(), (e: Error & { hint?: string }) => /does not exist/.test(e.message) && !!e.hint);
  assert.ok(readdirSync('/var/lib/lxc').length > 0);
});

// last: everything above has finished with what it made (the hostile container goes in after())
test('leaves nothing of its own in the temporary directory', () => {
  assert.deepEqual(
    ours().filter((n) => !tmpBefore.has(n)),
    [],
    `left in ${tmpdir()}`,
  );
});
