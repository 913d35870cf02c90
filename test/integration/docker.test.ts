// Docker/Podman backend against the lab's real Podman API service (Docker-compatible socket).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerBackend } from '../../src/core/backends/docker';
import { Connection } from '../../src/core/connection';
import { waitFor } from './util';

const SOCK = '/run/podman/podman.sock';
const IMAGE = 'localhost/virtscope-busybox:latest';
const NAME = `vs-it-${process.pid}`;
const cfg = { id: 'docker-it', type: 'docker' as const, socketPath: SOCK };
const docker = new Docker({ socketPath: SOCK });
const sh = promisify(execFile);
let id = '';

before(async () => {
  const c = await docker.createContainer({ name: NAME, Image: IMAGE, Cmd: ['sleep', '2147483647'], HostConfig: { NetworkMode: 'none', Init: true } });
  id = c.id;
});
after(async () => {
  await docker
    .getContainer(id)
    .remove({ force: true })
    .catch(() => {});
});

test('lists the lab container labpod and ours, with states', async () => {
  const b = new DockerBackend(cfg);
  await b.connect();
  const list = await b.list();
  const pod = list.find((g) => g.name === 'labpod');
  assert.ok(pod, `labpod listed (got ${list.map((g) => g.name).join(', ')})`);
  assert.equal(pod.kind, 'container');
  assert.equal(pod.state, 'running');
  assert.equal(list.find((g) => g.id === id)?.state, 'stopped');
  // no Checkpoint verb: why, on this machine (no CRIU, or a CRIU that cannot checkpoint here)
  assert.match(pod.absentVerbs?.[0] ?? '', /^Checkpoint\/restore: absent — CRIU (is not installed|cannot checkpoint|works)/);
  const def = await b.definition(pod.id);
  assert.equal(def.language, 'json');
  assert.equal(JSON.parse(def.text).Name.replace(/^\//, ''), 'labpod');
  await b.close();
});

test('every verb changes the real state', async () => {
  const b = new DockerBackend(cfg);
  await b.connect();
  const state = async () => (await b.get(id))?.state;
  await b.perform(id, 'start');
  assert.equal(await state(), 'running');
  await b.perform(id, 'suspend');
  assert.equal(await state(), 'paused');
  await b.perform(id, 'resume');
  assert.equal(await state(), 'running');
  await b.perform(id, 'reboot');
  assert.equal(await state(), 'running');
  await b.perform(id, 'forceOff');
  assert.equal(await state(), 'stopped');
  await b.perform(id, 'start');
  await b.perform(id, 'shutdown');
  assert.equal(await state(), 'stopped');
  await b.close();
});

test("the engine's own message on failure; a removed container is gone", async () => {
  const b = new DockerBackend(cfg);
  await b.connect();
  await assert.rejects(b.perform(id, 'resume'), (e: Error) => e.message.length > 0 && !/\[object/.test(e.message));
  await assert.rejects(b.perform('0123456789ab-no-such', 'start'), /no such container/i);
  assert.equal(await b.get('0123456789ab-no-such'), undefined);
  // Engines restrict container names; a hostile name is refused by the engine with its own words.
  await assert.rejects(docker.createContainer({ name: 'vs "ü"; $(id)', Image: IMAGE }), /name|invalid/i);
  await b.close();
});

test('an outside change (podman pause) arrives as an event within 2 s', async () => {
  const c = new Connection(cfg, (k) => new DockerBackend(k));
  await c.start();
  try {
    await docker.getContainer(id).start();
    await waitFor(() => c.guest(id)?.state === 'running', 2000, 'started container seen');
    const t0 = Date.now();
    await sh('podman', ['--url', `unix://${SOCK}`, '--remote', 'pause', NAME]);
    await waitFor(() => c.guest(id)?.state === 'paused', 2000, 'paused container seen');
    console.log(`podman pause seen after ${Date.now() - t0} ms`);
    await sh('podman', ['--url', `unix://${SOCK}`, '--remote', 'unpause', NAME]);
    await waitFor(() => c.guest(id)?.state === 'running', 2000, 'unpaused container seen');
  } finally {
    await c.dispose();
    await docker
      .getContainer(id)
      .kill()
      .catch(() => {});
  }
});

test('a missing socket: unreachable with which socket was tried and how to start the service', async () => {
  const b = new DockerBackend({ ...cfg, socketPath: '/nonexistent/podman.sock' });
  await assert.rejects(
    b.connect(),
    (e: Error & { hint?: string }) => /nonexistent\/podman\.sock/.test(e.message) && /podman system service/.test(e.hint ?? ''),
  );
});

test('an idle engine connection stays up for 60 s: no status change, no guest diff, no reconnect', { timeout: 90_000 }, async () => {
  const c = new Connection(cfg, (k) => new DockerBackend(k));
  await c.start();
  assert.equal(c.status.state, 'connected');
  const statuses: string[] = [];
  let diffs = 0;
  c.on('status', (s: { state: string; message?: string }) => statuses.push(`${s.state}${s.message ? `: ${s.message}` : ''}`));
  c.on('guests', () => diffs++);
  try {
    await new Promise((r) => setTimeout(r, 60_000));
    assert.deepEqual(statuses, [], 'no status change while idle');
    assert.equal(diffs, 0, 'no guest diff while idle');
    assert.equal(c.status.state, 'connected');
  } finally {
    await c.dispose();
  }
});
