// The client's types and error mapping against answers recorded from a real LXD 5.0.2 cluster
// (test/unit/fixtures/lxd/, see its README), replayed by the fake LXD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LxdApi } from '../../src/core/backends/lxd/api';
import { LxdChangedError, LxdError, LxdNotCancellableError } from '../../src/core/backends/lxd/client';
import { EventDeduplicator } from '../../src/core/backends/lxd/events';
import type { LxdClusterMember, LxdEvent, LxdInstance, LxdLifecycleEvent, LxdServer } from '../../src/core/backends/lxd/types';
import { fakeLxd, recorded, replay, replaying } from './fake-lxd';

test('server, members and instances (recursion=2) read as typed, with the fields the tree needs', async () => {
  const lxd = await replaying([
    ['GET /1.0/cluster/members', 'members'],
    ['GET /1.0/cluster', 'server'], // any sync answer with metadata; enabled is read below from members
    ['GET /1.0/instances?recursion=2', 'instances-recursion2'],
    ['GET /1.0/metrics', 'error-not-found'],
    ['GET /1.0', 'server'],
  ]);
  try {
    const api = new LxdApi(lxd.client);
    const server: LxdServer = await api.server();
    assert.equal(server.auth, 'trusted');
    assert.equal(server.environment?.server_clustered, true);
    assert.ok(await api.has('metrics'));
    assert.ok(!(await api.has('no-such-extension')));
    const members: LxdClusterMember[] = recorded<{ metadata: LxdClusterMember[] }>('members').body.metadata;
    assert.deepEqual(
      members.map((m) => [m.server_name, m.status, m.message]),
      [
        ['member1', 'Online', 'Fully operational'],
        ['member2', 'Online', 'Fully operational'],
        ['member3', 'Online', 'Fully operational'],
      ],
    );
    assert.ok(members.some((m) => m.roles?.includes('database-leader')));
    const list: LxdInstance[] = await api.instances({ recursion: 2 });
    const a = list.find((i) => i.name === 't-rec-a')!;
    assert.equal(a.location, 'member2');
    assert.equal(a.status, 'Running');
    assert.ok(a.state && a.state.pid > 0 && a.state.memory.usage > 0);
    assert.ok(a.state.network && Object.keys(a.state.network).includes('eth0'));
    const b = list.find((i) => i.name === 't-rec-b')!;
    assert.equal(b.state?.status, 'Stopped');
    assert.equal(b.snapshots?.[0]?.name, 'snap0');
  } finally {
    await lxd.close();
  }
});

test("recorded errors become LxdError with LXD's message and what was asked", async () => {
  const lxd = await replaying([
    ['GET /1.0/instances/t-nope', 'error-not-found'],
    ['POST /1.0/instances', 'error-invalid-name'],
    ['PUT /1.0/instances/t-rec-b', 'error-etag-mismatch'],
    ['GET /1.0/instances/t-rec-b', 'instance'],
    ['GET /1.0/instances', 'error-untrusted'],
  ]);
  try {
    const api = new LxdApi(lxd.client);
    await assert.rejects(
      api.instance('t-nope'),
      (e: LxdError) => e.status === 404 && e.message === 'LXD refused GET /1.0/instances/t-nope: Instance not found',
    );
    await assert.rejects(api.launch({ name: 't bad; $(touch /tmp/x)', image: 'busybox' }), (e: LxdError) => {
      assert.equal(e.status, 400);
      assert.equal(e.lxdMessage, 'The character "/" is reserved for snapshots');
      return true;
    });
    const { config, etag } = await api.instanceConfig('t-rec-b');
    assert.equal(config.profiles[0], 'default');
    await assert.rejects(api.putInstanceConfig('t-rec-b', config, etag), (e: Error) => e instanceof LxdChangedError && /changed meanwhile/.test(e.message));
    await assert.rejects(api.instances({ recursion: 1 }), (e: LxdError) => e.status === 403 && /not authorized.*trust add/.test(e.message));
  } finally {
    await lxd.close();
  }
});

test('a recorded failed operation rejects with its err; a recorded refused cancel says it goes on', async () => {
  const dup = recorded<{ metadata: { id: string } }>('async-create-duplicate').body.metadata.id;
  const exec = recorded<{ metadata: { id: string } }>('async-exec').body.metadata.id;
  const lxd = await fakeLxd((req, _b, res) => {
    const asked = `${req.method} ${req.url}`;
    if (asked.startsWith('POST /1.0/instances/t-rec-a/exec')) return replay(res, 'async-exec');
    if (asked.startsWith('POST /1.0/instances')) return replay(res, 'async-create-duplicate');
    if (asked.startsWith(`GET /1.0/operations/${dup}/wait`)) return replay(res, 'operation-wait-failure');
    if (asked.startsWith(`DELETE /1.0/operations/${exec}`)) return replay(res, 'error-cancel-refused');
    // the exec's /wait: held open until the client gives up on it
  });
  try {
    const api = new LxdApi(lxd.client);
    await assert.rejects(api.launch({ name: 't-rec-b', image: 'busybox', target: 'member3' }), (e: LxdError) => {
      assert.equal(e.status, 400);
      assert.match(e.lxdMessage, /This "instances" entry already exists/);
      return true;
    });
    const ac = new AbortController();
    await assert.rejects(
      lxd.client.run('POST', '/1.0/instances/t-rec-a/exec', {}, { signal: ac.signal, onProgress: () => setTimeout(() => ac.abort(), 50) }),
      (e: Error) => {
        assert.ok(e instanceof LxdNotCancellableError);
        assert.match(e.message, /LXD cannot cancel "Executing command" \(This operation can't be cancelled\); it goes on on member2/);
        return true;
      },
    );
  } finally {
    await lxd.close();
  }
});

test('the recorded event stream: the certificate events two members announced come through once', () => {
  // events.json is { request, events }, not an answer
  const file = recorded('events') as unknown as { events: LxdEvent[] };
  const d = new EventDeduplicator(2000, () => 0);
  const passed = file.events.filter((e) => d.accept(e));
  const cert = (es: LxdEvent[]) => es.filter((e) => (e.metadata as LxdLifecycleEvent).action?.startsWith('certificate-')).length;
  assert.equal(cert(file.events), 4);
  assert.equal(cert(passed), 2);
  assert.equal(passed.length, file.events.length - 2, 'nothing else is dropped');
});

test('an error message shows the path as a user reads it: names decoded, control characters escaped', async () => {
  const lxd = await replaying([['GET /1.0/instances/', 'error-not-found']]);
  try {
    await assert.rejects(new LxdApi(lxd.client).instance('t-a b\nü'), (e: LxdError) => {
      assert.equal(e.path, 'GET /1.0/instances/t-a%20b%0A%C3%BC');
      assert.equal(e.message, 'LXD refused GET /1.0/instances/t-a b\\x0aü: Instance not found');
      return true;
    });
  } finally {
    await lxd.close();
  }
});

test('runningStates asks /state of the running instances only', async () => {
  const lxd = await replaying([
    ['GET /1.0/instances?recursion=2', 'instances-recursion2'],
    ['GET /1.0/instances/t-rec-a/state', 'instance-state-running'],
  ]);
  try {
    const api = new LxdApi(lxd.client);
    const states = await api.runningStates(await api.instances({ recursion: 2 }));
    assert.deepEqual([...states.keys()], ['t-rec-a']);
    assert.equal(states.get('t-rec-a')?.status, 'Running');
    assert.deepEqual(lxd.seen, ['GET /1.0/instances?recursion=2', 'GET /1.0/instances/t-rec-a/state?project=default']);
  } finally {
    await lxd.close();
  }
});
