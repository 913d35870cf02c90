// LxdClient against a small fake LXD on a unix socket, only for what the real daemon cannot do on
// demand: an operation that stays running, a cancel LXD grants or refuses, a reply that hangs or is
// not LXD's, a stale ETag. The real cluster is test/integration/lxd-client.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import * as net from 'node:net';
import type { Host } from '../../src/core/host/host';
import { fakeLxd, json, lxdError, sync } from './fake-lxd';
import { LxdCancelledError, LxdChangedError, LxdClient, LxdConnectError, LxdError, LxdNotCancellableError } from '../../src/core/backends/lxd/client';
import type { LxdEvent, LxdOperation } from '../../src/core/backends/lxd/types';

function op(status: string, status_code: number, extra: Partial<LxdOperation> = {}): LxdOperation {
  return {
    id: 'op1',
    class: 'task',
    description: 'Starting instance',
    created_at: '2026-12-03T17:00:00Z',
    updated_at: `2026-12-03T17:00:0${status_code % 10}Z`,
    status,
    status_code,
    resources: { instances: ['/1.0/instances/c1'] },
    metadata: null,
    may_cancel: false,
    err: '',
    location: 'member2',
    ...extra,
  };
}
const asyncAnswer = (res: http.ServerResponse, o: LxdOperation) =>
  json(res, 202, { type: 'async', status: 'Operation created', status_code: 100, operation: `/1.0/operations/${o.id}`, error_code: 0, error: '', metadata: o });

test('run follows an operation to its end through /wait and reports its progress', async () => {
  const steps = [op('Running', 103, { metadata: { progress: '40%' } }), op('Success', 200, { metadata: { progress: '100%' } })];
  const lxd = await fakeLxd((req, _b, res) => {
    if (req.method === 'PUT') return asyncAnswer(res, op('Running', 103));
    sync(res, steps.shift());
  });
  try {
    const progress: unknown[] = [];
    const done = await lxd.client.run(
      'PUT',
      '/1.0/instances/c1/state',
      { action: 'start' },
      { project: 'p 1', onProgress: (o) => progress.push(o.metadata?.progress ?? null) },
    );
    assert.equal((done as LxdOperation).status, 'Success');
    assert.deepEqual(progress, [null, '40%', '100%']);
    assert.deepEqual(lxd.seen, [
      'PUT /1.0/instances/c1/state?project=p+1',
      'GET /1.0/operations/op1/wait?timeout=1&project=p+1',
      'GET /1.0/operations/op1/wait?timeout=1&project=p+1',
    ]);
  } finally {
    await lxd.close();
  }
});

test("a failed operation rejects with LXD's own words and what was asked", async () => {
  const lxd = await fakeLxd((req, _b, res) => {
    if (req.method === 'POST') return asyncAnswer(res, op('Running', 103));
    sync(res, op('Failure', 400, { err: 'Failed creating instance record: Instance "c1" already exists' }));
  });
  try {
    await assert.rejects(lxd.client.run('POST', '/1.0/instances', { name: 'c1' }), (e: LxdError) => {
      assert.ok(e instanceof LxdError);
      assert.equal(e.status, 400);
      assert.equal(e.lxdMessage, 'Failed creating instance record: Instance "c1" already exists');
      assert.match(e.message, /POST \/1\.0\/instances: Failed creating instance record/);
      return true;
    });
  } finally {
    await lxd.close();
  }
});

/** An operation that runs until it is cancelled; `grant` decides whether LXD agrees to cancel it. */
async function runningOperation(grant: boolean) {
  let cancelled = false;
  const lxd = await fakeLxd((req, _b, res) => {
    if (req.method === 'POST') return asyncAnswer(res, op('Running', 103, { may_cancel: grant }));
    if (req.method === 'DELETE') {
      if (!grant) return lxdError(res, 403, "This operation can't be cancelled");
      cancelled = true;
      return sync(res, {});
    }
    if (cancelled) return sync(res, op('Cancelled', 401));
    setTimeout(() => !res.writableEnded && sync(res, op('Running', 103)), 5000).unref(); // /wait holds the request
  });
  return { lxd, wasCancelled: () => cancelled };
}

test('aborting asks LXD to cancel the operation (DELETE) and rejects with LxdCancelledError', async () => {
  const { lxd, wasCancelled } = await runningOperation(true);
  try {
    const ac = new AbortController();
    await assert.rejects(
      lxd.client.run('POST', '/1.0/instances/c1/exec', {}, { signal: ac.signal, onProgress: () => setTimeout(() => ac.abort(), 50) }),
      LxdCancelledError,
    );
    assert.ok(wasCancelled());
    assert.ok(lxd.seen.includes('DELETE /1.0/operations/op1'));
  } finally {
    await lxd.close();
  }
});

test('where LXD cannot cancel an operation, the rejection says so and that it goes on', async () => {
  const { lxd } = await runningOperation(false);
  try {
    const ac = new AbortController();
    await assert.rejects(
      lxd.client.run('POST', '/1.0/instances/c1/exec', {}, { signal: ac.signal, onProgress: () => setTimeout(() => ac.abort(), 50) }),
      (e: Error) => {
        assert.ok(e instanceof LxdNotCancellableError);
        assert.match(e.message, /LXD cannot cancel "Starting instance" \(This operation can't be cancelled\); it goes on on member2/);
        return true;
      },
    );
  } finally {
    await lxd.close();
  }
});

test('an answer that is not LXD JSON, and one that never comes, fail with a clear LxdConnectError', async () => {
  const lxd = await fakeLxd((req, _b, res) => {
    if (req.url === '/1.0/hang') return; // never answers
    res.writeHead(502, { 'Content-Type': 'text/html' });
    res.end('<html>Bad Gateway</html>');
  });
  try {
    await assert.rejects(
      lxd.client.get('/1.0'),
      (e: Error) => e instanceof LxdConnectError && /GET \/1\.0 \(HTTP 502\) is not LXD's: <html>Bad Gateway/.test(e.message),
    );
    await assert.rejects(
      lxd.client.get('/1.0/hang', { timeoutMs: 200 }),
      (e: Error) => e instanceof LxdConnectError && /no answer to GET \/1\.0\/hang within 0\.2 s/.test(e.message),
    );
  } finally {
    await lxd.close();
  }
});

test('a save with a stale ETag sends If-Match and becomes LxdChangedError (412)', async () => {
  let ifMatch: string | undefined;
  const lxd = await fakeLxd((req, _b, res) => {
    if (req.method === 'GET') {
      res.setHeader('ETag', '"abc"');
      return sync(res, { name: 'c1' });
    }
    ifMatch = req.headers['if-match'] as string;
    lxdError(res, 412, 'ETag doesn\'t match: "abc" vs "def"');
  });
  try {
    const { etag } = await lxd.client.get('/1.0/instances/c1');
    assert.equal(etag, '"abc"');
    await assert.rejects(
      lxd.client.request('PUT', '/1.0/instances/c1', { config: {} }, { etag }),
      (e: Error) => e instanceof LxdChangedError && /changed meanwhile/.test(e.message),
    );
    assert.equal(ifMatch, '"abc"');
  } finally {
    await lxd.close();
  }
});

test('events arrive over the websocket once, though each member sends its copy', async () => {
  const lxd = await fakeLxd((_req, _b, res) => lxdError(res, 404, 'not found'));
  const got: LxdEvent[] = [];
  let closedWith: Error | undefined | 'open' = 'open';
  try {
    let query = '';
    lxd.wss.on('connection', (ws, req) => {
      query = req.url ?? '';
      const e = { type: 'lifecycle', timestamp: '', project: 'default', metadata: { action: 'certificate-created', source: '/1.0/certificates/ab' } };
      for (const location of ['member1', 'member2', 'member3']) ws.send(JSON.stringify({ ...e, location, timestamp: new Date().toISOString() }));
      ws.send('not json');
      ws.send(JSON.stringify({ ...e, metadata: { action: 'instance-started', source: '/1.0/instances/c1' }, location: 'member1' }));
    });
    const sub = lxd.client.events(
      { types: ['lifecycle', 'operation'] },
      (e) => got.push(e),
      (err) => (closedWith = err),
    );
    await sub.ready;
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(query, '/1.0/events?type=lifecycle%2Coperation');
    assert.deepEqual(
      got.map((e) => `${(e.metadata as { action: string }).action}@${e.location}`),
      ['certificate-created@member1', 'instance-started@member1'],
    );
    sub.close();
    assert.equal(closedWith, undefined);
  } finally {
    await lxd.close();
  }
});

test('a refused websocket rejects with the server message', async () => {
  const lxd = await fakeLxd((_req, _b, res) => lxdError(res, 403, 'not authorized'));
  try {
    lxd.wss.close();
    await assert.rejects(lxd.client.websocket('/1.0/events'), (e: Error) => e instanceof LxdError && e.status === 403 && /not authorized/.test(e.message));
  } finally {
    await lxd.close();
  }
});

test("on a host reached over SSH, requests and the event websocket go through the host's connectUnix", async () => {
  const lxd = await fakeLxd((_req, _b, res) => sync(res, { api_version: '1.0' }));
  const asked: string[] = [];
  // the Host layer's contract: a byte stream to a unix socket on that host (an SSH forward for SshHost)
  const host = {
    label: 'root@kvm1',
    connectUnix: async (p: string) => {
      asked.push(p);
      return net.connect(lxd.socketPath);
    },
  } as unknown as Host;
  const client = new LxdClient({ kind: 'unix', socketPath: '/var/lib/lxd/unix.socket', host });
  try {
    lxd.wss.on('connection', (ws) =>
      ws.send(JSON.stringify({ type: 'lifecycle', location: 'm1', metadata: { action: 'instance-started', source: '/1.0/instances/c1' } })),
    );
    assert.deepEqual((await client.get('/1.0')).metadata, { api_version: '1.0' });
    const got: string[] = [];
    const sub = client.events(
      {},
      (e) => got.push(e.type),
      () => undefined,
    );
    await sub.ready;
    for (let i = 0; i < 50 && !got.length; i++) await new Promise((r) => setTimeout(r, 10));
    sub.close();
    assert.deepEqual(got, ['lifecycle']);
    assert.deepEqual(asked, ['/var/lib/lxd/unix.socket', '/var/lib/lxd/unix.socket']);
    assert.equal(client.label, '/var/lib/lxd/unix.socket on root@kvm1');
  } finally {
    client.close();
    await lxd.close();
  }
});

test('an unreachable socket is a clear LxdConnectError naming it', async () => {
  const client = new LxdClient({ kind: 'unix', socketPath: '/nonexistent/virtscope/unix.socket' });
  await assert.rejects(
    client.get('/1.0'),
    (e: Error) => e instanceof LxdConnectError && /^cannot talk to LXD at \/nonexistent\/virtscope\/unix\.socket: connect ENOENT/.test(e.message),
  );
  await assert.rejects(client.websocket('/1.0/events'), (e: Error) => e instanceof LxdConnectError && /ENOENT/.test(e.message));
  client.close();
});

test('an event stream that cannot open reports through onClose, and an unawaited ready is no unhandled rejection', async () => {
  const client = new LxdClient({ kind: 'unix', socketPath: '/nonexistent/virtscope/unix.socket' });
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const closed = await new Promise<Error | undefined>((resolve) => client.events({}, () => undefined, resolve));
    assert.ok(closed instanceof LxdConnectError);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    client.close();
  }
});

test('closing the client ends its event streams without an error; the server closing one is an error', async () => {
  const lxd = await fakeLxd((_req, _b, res) => lxdError(res, 404, 'not found'));
  try {
    const ends: (Error | undefined)[] = [];
    const first = lxd.client.events(
      {},
      () => undefined,
      (err) => ends.push(err),
    );
    await first.ready;
    for (const ws of lxd.wss.clients) ws.close();
    for (let i = 0; i < 50 && !ends.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(String(ends[0]), /the event stream was closed by the server/);
    const second = lxd.client.events(
      {},
      () => undefined,
      (err) => ends.push(err),
    );
    await second.ready;
    lxd.client.close();
    for (let i = 0; i < 50 && ends.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ends.length, 2);
    assert.equal(ends[1], undefined);
  } finally {
    await lxd.close();
  }
});
