// Docker/Podman connection against a fake engine on a unix socket: an idle event stream stays up,
// an engine that hangs or goes away is noticed with its socket and how to start it again, and a
// container exec (and the metrics sampler's guest side) ends by its timeout while the engine hangs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { DockerBackend } from '../../src/core/backends/docker';
import { capabilitiesOf } from '../../src/core/capabilities';
import { Connection, ConnectionStatus } from '../../src/core/connection';
import { executorFor, GuestExecAborted } from '../../src/core/guest/exec';
import { Sampler } from '../../src/core/metrics/sampler';
import { Guest } from '../../src/core/model';

/** Temp dirs of fake engines, removed even when a test times out before its own cleanup. */
const dirs = new Set<string>();
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const CID = 'c0ffee000000000000000000000000000000000000000000000000000000cafe';

interface FakeEngine {
  socketPath: string;
  /** From now on every request is accepted and never answered. */
  hang(): void;
  /** The engine dies: every connection is cut. */
  kill(): Promise<void>;
  count(what: string): number;
  close(): Promise<void>;
}

/** A Docker-API engine with one running container; exec requests are accepted and never answered. */
async function fakeEngine(): Promise<FakeEngine> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-engine-'));
  dirs.add(dir);
  const socketPath = path.join(dir, 'podman.sock');
  const sockets = new Set<Socket>();
  const counts = new Map<string, number>();
  let hanging = false;
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').replace(/^\/v[\d.]+/, '');
    const what = url.startsWith('/events')
      ? 'events'
      : url.startsWith('/_ping')
        ? 'ping'
        : url.startsWith('/containers/json')
          ? 'list'
          : /\/exec/.test(url)
            ? 'exec'
            : /\/stats/.test(url)
              ? 'stats'
              : 'other';
    counts.set(what, (counts.get(what) ?? 0) + 1);
    if (hanging || what === 'exec') return; // accepted, never answered
    const json = (v: unknown) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (what === 'ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('OK');
    } else if (what === 'events') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders(); // and then nothing: an idle engine
    } else if (what === 'list') {
      json([{ Id: CID, Names: ['/fakepod'], Image: 'busybox', State: 'running', Status: 'Up 1 hour' }]);
    } else if (what === 'stats') {
      json({ cpu_stats: { cpu_usage: { total_usage: 1 }, online_cpus: 1 }, memory_stats: { usage: 1 } });
    } else json({});
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const kill = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    socketPath,
    hang: () => (hanging = true),
    kill,
    count: (what) => counts.get(what) ?? 0,
    close: async () => {
      if (server.listening) await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function watch(c: Connection): ConnectionStatus[] {
  const seen: ConnectionStatus[] = [];
  c.on('status', (s: ConnectionStatus) => seen.push(s));
  return seen;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

const cfg = (socketPath: string) => ({ id: 'fake-engine', type: 'docker' as const, socketPath });

test('an idle event stream outlives the request timeout: no status change', { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  // 600 ms, not less: on a loaded 2-core CI machine a ping's reply alone can take a few hundred ms.
  const c = new Connection(cfg(e.socketPath), (k) => new DockerBackend(k, { requestTimeoutMs: 600, heartbeatMs: 300 }));
  try {
    await c.start();
    assert.equal(c.status.state, 'connected');
    const seen = watch(c);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(seen, [], 'idle for 5× the request timeout without a status change');
    assert.equal(e.count('events'), 1, 'the event stream was opened once, never reopened');
    assert.ok(e.count('ping') >= 3, `the engine was pinged while idle (${e.count('ping')})`);
  } finally {
    await c.dispose();
    await e.close();
  }
});

test('an engine that stops answering is noticed: unreachable, with its socket and a hint', { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  const c = new Connection(cfg(e.socketPath), (k) => new DockerBackend(k, { requestTimeoutMs: 300, heartbeatMs: 200 }), {
    reconnectMinMs: 60_000,
  });
  try {
    await c.start();
    const seen = watch(c);
    e.hang();
    const ms = await until(() => c.status.state === 'unreachable', 3000, 'the hung engine noticed');
    assert.ok(ms < 2000, `noticed after ${ms} ms`);
    const s = seen[0];
    assert.equal(s.state, 'unreachable');
    if (s.state !== 'unreachable') return;
    assert.ok(s.message.includes(e.socketPath), s.message);
    assert.match(s.message, /within 0\.3 s/);
    assert.match(s.hint ?? '', /podman system service --time=0 unix:\/\//);
    assert.equal(c.guests.size, 0);
  } finally {
    await c.dispose();
    await e.close();
  }
});

test('an engine that is killed: the first status names the socket, what happened and how to start it', { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  const c = new Connection(cfg(e.socketPath), (k) => new DockerBackend(k, { heartbeatMs: 0 }), { reconnectMinMs: 60_000 });
  try {
    await c.start();
    const seen = watch(c);
    await e.kill();
    await until(() => seen.length > 0, 3000, 'the loss noticed');
    const s = seen[0];
    assert.equal(s.state, 'unreachable');
    if (s.state !== 'unreachable') return;
    assert.match(s.message, /Podman API connection \(.*podman\.sock\) lost: /);
    assert.ok(s.message.includes(e.socketPath), s.message);
    assert.match(s.hint ?? '', /systemctl start podman\.socket/);
    assert.match(s.hint ?? '', /podman system service --time=0 unix:\/\//);
  } finally {
    await c.dispose();
    await e.close();
  }
});

test('a killed engine while listing: the error names the socket and carries the hint', { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  const b = new DockerBackend(cfg(e.socketPath), { heartbeatMs: 0 });
  try {
    await b.connect();
    await e.kill();
    await assert.rejects(b.list(), (err: Error & { hint?: string }) => {
      assert.ok(err.message.includes(e.socketPath), err.message);
      assert.match(err.message, /lost: /);
      assert.match(err.hint ?? '', /podman system service/);
      return true;
    });
  } finally {
    await b.close();
    await e.close();
  }
});

function guest(): Guest {
  return { id: CID, name: 'fakepod', kind: 'container', state: 'running', rawState: 'Up', persistent: true };
}

test('a container exec ends by its timeout while the engine never answers', { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  const b = new DockerBackend(cfg(e.socketPath), { heartbeatMs: 0 });
  try {
    await b.connect();
    const t0 = Date.now();
    await assert.rejects(executorFor(b, guest()).exec(['true'], { timeoutMs: 500 }), (err: Error) => {
      assert.ok(err instanceof GuestExecAborted, String(err));
      assert.match(err.message, /timed out/);
      return true;
    });
    const ms = Date.now() - t0;
    assert.ok(ms < 2000, `ended after ${ms} ms`);
    assert.equal(e.count('exec'), 1);
    // a cancel ends it too
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(executorFor(b, guest()).exec(['true'], { timeoutMs: 60_000, signal: ac.signal }), /cancelled/);
  } finally {
    await b.close();
    await e.close();
  }
});

test("the sampler's guest side recovers after an exec into a hung engine timed out", { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  const c = new Connection(cfg(e.socketPath), (k) => new DockerBackend(k, { heartbeatMs: 0 }));
  const sampler = new Sampler({ intervalMs: 250, connection: () => c, guestSideMinMs: 100, guestSideTimeoutMs: 300 });
  let release = () => {};
  try {
    await c.start();
    release = sampler.subscribe({ connectionId: c.config.id, guestSide: CID });
    await until(() => e.count('exec') >= 3, 4000, 'the guest side tried again after each timeout');
    const side = sampler.guestSide(c.config.id, CID);
    assert.equal(side?.ok, false);
    assert.match(side?.error ?? '', /timed out/);
  } finally {
    release();
    sampler.dispose();
    await c.dispose();
    await e.close();
  }
});

test("the sampler reads container statistics through the connection's own engine client", { timeout: 10_000 }, async () => {
  const e = await fakeEngine();
  const c = new Connection(cfg(e.socketPath), (k) => new DockerBackend(k, { heartbeatMs: 0 }));
  const sampler = new Sampler({ intervalMs: 3_600_000, connection: () => c });
  let release = () => {};
  try {
    await c.start();
    release = sampler.subscribe({ connectionId: c.config.id });
    await until(() => sampler.counters(c.config.id, CID) !== undefined, 3000, 'a reading of the container');
    assert.equal(sampler.counters(c.config.id, CID)?.cpuNs, 1, "the fake engine's total_usage");
    assert.equal(e.count('stats'), 1);
    // the engine's own words when it is gone, with its socket (the backend's error, not a bare socket error)
    const stats = capabilitiesOf(c.requireBackend()).engineStats!;
    await e.kill();
    await assert.rejects(stats.of(CID), (err: Error & { hint?: string }) => {
      assert.ok(err.message.includes(e.socketPath), err.message);
      assert.match(err.hint ?? '', /podman/);
      return true;
    });
  } finally {
    release();
    sampler.dispose();
    await c.dispose();
    await e.close();
  }
});
