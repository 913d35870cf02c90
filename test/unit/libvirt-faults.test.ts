// Faults of the libvirt client and the connection manager against fake daemons on real unix
// sockets (issue #12): a daemon that never reads, one that hangs after accept, one that cuts a
// packet short. Each fake lives in its own temporary directory, removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtClient } from '../../src/core/libvirt/client';
import { connectUnix } from '../../src/core/libvirt/transport';
import { XdrWriter } from '../../src/core/libvirt/xdr';
import * as P from '../../src/core/libvirt/protocol';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { Connection } from '../../src/core/connection';
import type { Duplex } from 'node:stream';

interface FakeDaemon {
  readonly socketPath: string;
  /** Resolves with each accepted socket, in order. */
  accepted(): Promise<net.Socket>;
  close(): Promise<void>;
}

/** A unix-socket server in a fresh temporary directory; `onConnection` scripts its behaviour. */
async function fakeDaemon(onConnection: (s: net.Socket) => void): Promise<FakeDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-fake-'));
  const socketPath = path.join(dir, 'libvirt-sock');
  const sockets = new Set<net.Socket>();
  const waiting: ((s: net.Socket) => void)[] = [];
  const queue: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onConnection(s);
    const w = waiting.shift();
    if (w) w(s);
    else queue.push(s);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    accepted: () => new Promise((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve))),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function keepalivePing(): Buffer {
  const w = new XdrWriter();
  w.uint(0);
  P.encodeHeader(w, {
    prog: P.KEEPALIVE_PROGRAM,
    vers: P.KEEPALIVE_PROTOCOL_VERSION,
    proc: P.KeepaliveProc.PING,
    type: P.MessageType.MESSAGE,
    serial: 0,
    status: P.MessageStatus.OK,
  });
  const buf = Buffer.from(w.finish());
  buf.writeUInt32BE(buf.length, 0);
  return buf;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- fault 2: keepalive replies queue without bound --------------------------------

test('a daemon that floods PINGs and never reads: the client closes once its unsent queue passes the bound', async () => {
  const LIMIT = 256 * 1024;
  const pings = Buffer.concat(Array.from({ length: 2000 }, keepalivePing));
  const daemon = await fakeDaemon((s) => {
    s.pause(); // never reads what the client sends
    const flood = () => {
      if (s.destroyed) return;
      s.write(pings);
      setImmediate(flood);
    };
    flood();
  });
  let stream: Duplex | undefined;
  try {
    stream = await connectUnix(daemon.socketPath);
    const client = new LibvirtClient(stream, { keepaliveIntervalMs: 0, maxQueuedBytes: LIMIT });
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    let maxQueued = 0;
    // Watch the queue: without a bound it grows until this gives up (at 32 MiB).
    const runaway = (async () => {
      while (!client.closed) {
        maxQueued = Math.max(maxQueued, stream!.writableLength);
        if (stream!.writableLength > 32 * 1024 * 1024) return `the client queued ${stream!.writableLength} bytes unsent without closing`;
        await sleep(5);
      }
      return undefined;
    })();
    const err = await Promise.race([closed, runaway.then((msg) => (msg ? new Error(`UNBOUNDED: ${msg}`) : closed))]);
    assert.ok(err);
    const m = /^the daemon is not reading: (\d+) bytes queued unsent, closing/.exec(err.message);
    assert.ok(m, `close error: ${err.message}`);
    const queued = Number(m[1]);
    assert.ok(queued > LIMIT && queued <= LIMIT + 64 * 1024, `queued ${queued} bytes at close (limit ${LIMIT})`);
    assert.ok(maxQueued <= LIMIT + 64 * 1024, `queue peaked at ${maxQueued} bytes`);
    assert.equal(client.closed, true);
    await assert.rejects(client.getHostname(), /the daemon is not reading/);
  } finally {
    stream?.destroy();
    await daemon.close();
  }
});

test('a large call on a healthy connection is not mistaken for a daemon that does not read', async () => {
  // The daemon reads slowly (pauses after each chunk), so the big call sits queued for a while.
  const daemon = await fakeDaemon((s) => {
    s.on('data', () => {
      s.pause();
      setTimeout(() => s.resume(), 1);
    });
    s.write(keepalivePing()); // a PONG is queued behind the big call
  });
  let stream: Duplex | undefined;
  try {
    stream = await connectUnix(daemon.socketPath);
    const client = new LibvirtClient(stream, { keepaliveIntervalMs: 0, callTimeoutMs: 300, maxQueuedBytes: 64 * 1024 });
    const xml = `<domain>${'x'.repeat(2 * 1024 * 1024)}</domain>`;
    await assert.rejects(client.domainDefineXMLFlags(xml), /timed out/); // the fake never answers
    assert.equal(client.closed, false, 'one big call within the protocol maximum does not close the connection');
    client.destroy();
  } finally {
    stream?.destroy();
    await daemon.close();
  }
});

// ---- fault 8: a truncated packet ----------------------------------------------------

/** A daemon that answers the first call with 12 of the 40 bytes it announces, then hangs up or stalls. */
async function cutShortTest(hangUp: boolean, client: { keepaliveIntervalMs: number; keepaliveCount: number }, check: (c: LibvirtClient) => Promise<void>) {
  const daemon = await fakeDaemon((s) => {
    s.once('data', () => {
      const partial = Buffer.alloc(12);
      partial.writeUInt32BE(40, 0);
      if (hangUp) s.end(partial);
      else s.write(partial); // and nothing more, socket left open
    });
  });
  let stream: Duplex | undefined;
  try {
    stream = await connectUnix(daemon.socketPath);
    await check(new LibvirtClient(stream, client));
  } finally {
    stream?.destroy();
    await daemon.close();
  }
}

test('a daemon that closes mid-packet: "libvirt packet cut short: 12 of 40 bytes received"', () =>
  cutShortTest(true, { keepaliveIntervalMs: 20, keepaliveCount: 1 }, async (client) => {
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    await assert.rejects(client.getHostname(), /libvirt packet cut short: 12 of 40 bytes received/);
    const err = await closed;
    assert.match(err?.message ?? '', /^libvirt packet cut short: 12 of 40 bytes received/);
    assert.doesNotMatch(err?.message ?? '', /keepalive/);
  }));

test('a daemon that stalls mid-packet: keepalive closes it naming the cut-short packet', () =>
  cutShortTest(false, { keepaliveIntervalMs: 15, keepaliveCount: 2 }, async (client) => {
    await assert.rejects(client.getHostname(), /libvirt packet cut short: 12 of 40 bytes received.*keepalive/);
  }));

// ---- fault 4: dispose() while connecting ----------------------------------------------

test('dispose() while the daemon hangs after accept closes the socket at once', async () => {
  const daemon = await fakeDaemon((s) => s.resume()); // reads and drops the hello, never answers
  try {
    const c = new Connection({ id: 'hang', type: 'libvirt', uri: 'qemu:///system', socketPath: daemon.socketPath }, (cfg) => new LibvirtBackend(cfg), {
      reconnectMinMs: 10_000,
      reconnectMaxMs: 10_000,
    });
    const started = c.start();
    const server = await daemon.accepted();
    const closedAt = new Promise<number>((resolve) => server.once('close', () => resolve(Date.now())));
    await sleep(50); // the hello is in flight and unanswered
    assert.equal(c.status.state, 'connecting');
    const t0 = Date.now();
    await c.dispose();
    const bound = sleep(1000).then(() => -1);
    const at = await Promise.race([closedAt, bound]);
    assert.notEqual(at, -1, 'the daemon saw the socket closed within 1 s of dispose()');
    assert.ok(at - t0 < 1000);
    await started; // and start() settles
  } finally {
    await daemon.close();
  }
});
