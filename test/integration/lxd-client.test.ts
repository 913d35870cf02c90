// LxdClient and LxdApi against the lab's real 3-member LXD 5.0.2 cluster (scripts/lab/lxd-cluster.sh,
// brought up by the lab, never here): members, launch on a member, every state verb, move, snapshots,
// config with its ETag, an outside `lxc` change seen as an event, HTTPS trust and pinning (in the hub
// netns), hostile names refused by LXD itself, cancelling operations. Every instance is named t-api-*
// and deleted at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { LxdApi } from '../../src/core/backends/lxd/api';
import { LxdCancelledError, LxdChangedError, LxdClient, LxdError, LxdNotCancellableError } from '../../src/core/backends/lxd/client';
import type { LxdEvent, LxdLifecycleEvent, LxdOperation } from '../../src/core/backends/lxd/types';
import { lxc, lxcQuietly, lxdLabEnv, nodeInHub } from './lxdLab';

const lab = lxdLabEnv();
const skip = lab.skip;
const env = lab.env ?? {};
const NAME = 't-api-1';
let client: LxdClient;
let api: LxdApi;
/** The lab's members by number (memberN): the one we talk to, where we launch, where we move to. */
let home = 1;
let place = 2;
let moveTo = 3;
type N = 1 | 2 | 3;

// Other tests may have a member killed at the moment: talk to one that answers, place on online ones.
before(async () => {
  if (skip) return;
  for (const n of [1, 2, 3] as const) {
    client = new LxdClient({ kind: 'unix', socketPath: env[`LXD_SOCKET_${n}`] });
    api = new LxdApi(client);
    if (
      await api.server().then(
        () => true,
        () => false,
      )
    ) {
      home = n;
      break;
    }
    client.close();
  }
  const online = (await api.members()).filter((m) => m.status === 'Online').map((m) => Number(m.server_name.replace('member', '')));
  place = online.find((n) => n !== home) ?? home;
  moveTo = online.find((n) => n !== place) ?? place;
});

after(async () => {
  if (skip) return;
  for (const i of await api.instances({ recursion: 1 })) {
    if (!i.name.startsWith('t-api-')) continue;
    if (i.status !== 'Stopped') await api.setState(i.name, 'stop', { force: true }).catch(() => undefined);
    await api.deleteInstance(i.name).catch(() => lxcQuietly(1, 'delete', '--force', i.name));
  }
  assert.deepEqual(
    (await api.instances({ recursion: 1 })).filter((i) => i.name.startsWith('t-api-')),
    [],
    'every t-api-* instance is deleted',
  );
  client.close();
});

test('members are listed with their roles and status', { skip }, async () => {
  const members = await api.members();
  assert.deepEqual(
    members.map((m) => m.server_name),
    ['member1', 'member2', 'member3'],
  );
  for (const m of members) {
    assert.ok(m.status && m.message, `${m.server_name}: status ${m.status}, message ${m.message}`);
    assert.ok(Array.isArray(m.roles), `${m.server_name} roles ${m.roles}`);
  }
  assert.ok(members.some((m) => m.roles?.includes('database-leader')));
  const me = await api.member(`member${home}`);
  assert.equal(me.status, 'Online', me.message);
  assert.equal(me.url, env[`LXD_HTTPS_${home}`]);
});

test('launch on a chosen member, then start/stop/restart/freeze/unfreeze', { skip, timeout: 180_000 }, async () => {
  const progress: string[] = [];
  await api.launch({ name: NAME, image: env.LXD_IMAGE, target: `member${place}` }, { onProgress: (op) => progress.push(op.description) });
  let i = await api.instance(NAME);
  assert.equal(i.location, `member${place}`);
  assert.equal(i.status, 'Running');
  assert.ok(progress.includes('Creating instance') && progress.includes('Starting instance'), progress.join(', '));
  const state = await api.instanceState(NAME);
  assert.ok(state.pid > 0 && state.memory.usage > 0, JSON.stringify(state).slice(0, 300));
  // /1.0/metrics covers the member's own instances: ask that member itself
  const onPlace = new LxdClient({ kind: 'unix', socketPath: env[`LXD_SOCKET_${place}`] });
  const metrics = await new LxdApi(onPlace).serverMetrics();
  onPlace.close();
  assert.match(metrics ?? '', new RegExp(`^lxd_memory_MemTotal_bytes\\{[^}]*name="${NAME}"[^}]*\\} [0-9.e+]+$`, 'm'));

  const expect: [Parameters<LxdApi['setState']>[1], string][] = [
    ['freeze', 'Frozen'],
    ['unfreeze', 'Running'],
    ['restart', 'Running'],
    ['stop', 'Stopped'],
    ['start', 'Running'],
  ];
  for (const [action, status] of expect) {
    await api.setState(NAME, action, { force: action === 'restart' || action === 'stop', timeout: 10 });
    i = await api.instance(NAME);
    assert.equal(i.status, status, `after ${action}`);
  }
  await assert.rejects(api.setState(NAME, 'start'), (e: LxdError) => e instanceof LxdError && /already running/i.test(e.lxdMessage));
});

test('a stopped instance moves to another member', { skip, timeout: 180_000 }, async (t) => {
  if (moveTo === place) return t.skip('only one member is online');
  await api.setState(NAME, 'stop', { force: true });
  await api.moveInstance(NAME, `member${moveTo}`);
  const i = await api.instance(NAME);
  assert.equal(i.location, `member${moveTo}`);
  assert.equal(i.status, 'Stopped');
});

test('snapshots: create, list, restore, delete; config saved with its ETag, a stale one refused', { skip, timeout: 120_000 }, async () => {
  await api.createSnapshot(NAME, 'snap0');
  assert.deepEqual(
    (await api.snapshots(NAME)).map((s) => s.name),
    ['snap0'],
  );
  const { config, etag } = await api.instanceConfig(NAME);
  await api.putInstanceConfig(NAME, { ...config, config: { ...config.config, 'user.note': 'after the snapshot' } }, etag);
  assert.equal((await api.instance(NAME)).config['user.note'], 'after the snapshot');
  await assert.rejects(api.putInstanceConfig(NAME, config, etag), (e: Error) => e instanceof LxdChangedError && /changed meanwhile/.test(e.message));

  await api.restoreSnapshot(NAME, 'snap0');
  assert.equal((await api.instance(NAME)).config['user.note'], undefined, 'restored to before the change');
  await api.deleteSnapshot(NAME, 'snap0');
  assert.deepEqual(await api.snapshots(NAME), []);
});

test('an outside change with the lxc CLI arrives as an event within 1 s, once', { skip, timeout: 60_000 }, async (t) => {
  const got: { e: LxdEvent; at: number }[] = [];
  let closed: Error | undefined | 'open' = 'open';
  const sub = client.events(
    { types: ['lifecycle'] },
    (e) => got.push({ e, at: performance.now() }),
    (err) => (closed = err),
  );
  await sub.ready;
  await lxc(home as N, 'config', 'set', NAME, 'user.outside=1');
  const cliDone = performance.now();
  const updated = () =>
    got.filter(
      ({ e }) => (e.metadata as LxdLifecycleEvent).action === 'instance-updated' && (e.metadata as LxdLifecycleEvent).source === `/1.0/instances/${NAME}`,
    );
  while (updated().length === 0 && performance.now() - cliDone < 3000) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 300)); // copies from other members would come now
  sub.close();
  assert.equal(updated().length, 1, `events: ${got.map(({ e }) => (e.metadata as LxdLifecycleEvent).action).join(', ')}`);
  const lateBy = updated()[0].at - cliDone;
  t.diagnostic(`instance-updated arrived ${Math.round(lateBy)} ms after lxc returned (negative: before)`);
  assert.ok(lateBy < 1000, `the event came ${Math.round(lateBy)} ms after lxc returned`);
  assert.equal(closed, undefined);
});

test(
  'HTTPS: the trusted certificate works, the untrusted one is refused with LXD message, a wrong pin before any request',
  { skip, timeout: 60_000 },
  async () => {
    const r = JSON.parse(await nodeInHub(env, path.join(__dirname, 'lxd-https-probe.ts'), { LXD_PROBE_URL: env[`LXD_HTTPS_${home}`] }));
    assert.deepEqual(r.server, { ok: true, value: { auth: 'trusted', clustered: true } });
    assert.equal(r.instances.ok, true);
    assert.deepEqual(r.eventsOpen, { ok: true });
    assert.deepEqual(r.untrustedServer, { ok: true, value: 'untrusted' });
    assert.equal(r.untrustedInstances.status, 403);
    assert.equal(r.untrustedInstances.lxdMessage, 'not authorized');
    for (const wrong of [r.wrongPin, r.wrongPinEvents]) {
      assert.equal(wrong.name, 'LxdCertificateMismatchError');
      assert.match(wrong.message, new RegExp(`presented the certificate with fingerprint ${wrong.presented}, not the pinned one`));
    }
  },
);

test("hostile instance names are refused by LXD's own rules, with its message; nothing is created", { skip, timeout: 60_000 }, async () => {
  const hostile = ['t-a b', "t-'q'", 't-"q"', 't-a;b', 't-$(id)', 't-`id`', 't-a\nb', 't-ü', 't-../x', '-t'];
  for (const name of hostile) {
    await assert.rejects(api.launch({ name, image: env.LXD_IMAGE, start: false }), (e: Error) => {
      assert.ok(e instanceof LxdError, `${JSON.stringify(name)}: ${e.message}`);
      assert.equal(e.status, 400, `${JSON.stringify(name)}: ${e.message}`);
      assert.ok(e.lxdMessage.length > 0);
      return true;
    });
  }
  const names = new Set((await api.instances({ recursion: 1 })).map((i) => i.name));
  for (const name of hostile) assert.ok(!names.has(name), `${JSON.stringify(name)} was created`);
  // a hostile name in a path is one encoded segment: LXD judges it by the same rules
  await assert.rejects(api.instance('t-$(id); rm -rf /'), (e: LxdError) => {
    assert.equal(e.status, 400);
    assert.equal(e.message, 'LXD refused GET /1.0/instances/t-$(id); rm -rf /: Invalid instance name');
    return true;
  });
  await assert.rejects(api.instance('t-$(id);x'), (e: LxdError) => e.status === 404 && e.lxdMessage === 'Instance not found');
});

test('cancelling: a running operation LXD can cancel ends Cancelled; one it cannot goes on, and says so', { skip, timeout: 60_000 }, async () => {
  // a trust token is an operation that runs until used: LXD can cancel it
  let ac = new AbortController();
  let started: LxdOperation | undefined;
  const token = client.run(
    'POST',
    '/1.0/certificates',
    { type: 'client', name: 't-api-token', token: true },
    { signal: ac.signal, onProgress: (op) => ((started ??= op), ac.abort()) },
  );
  await assert.rejects(token, LxdCancelledError);
  const op = (await client.get<LxdOperation>(`/1.0/operations/${started!.id}`).catch(() => undefined))?.metadata;
  assert.ok(!op || op.status === 'Cancelled', `the token operation is ${op?.status}`);

  await api.setState(NAME, 'start');
  ac = new AbortController();
  const exec = client.run(
    'POST',
    `/1.0/instances/${NAME}/exec`,
    { command: ['sleep', '3'], 'wait-for-websocket': false, interactive: false },
    { signal: ac.signal, onProgress: () => ac.abort() },
  );
  await assert.rejects(
    exec,
    (e: Error) =>
      e instanceof LxdNotCancellableError &&
      /LXD cannot cancel "Executing command" \(This operation can't be cancelled\); it goes on on member\d/.test(e.message),
  );
});
