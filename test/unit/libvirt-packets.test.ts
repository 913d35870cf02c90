// LibvirtClient against a scripted daemon on a Duplex pair: framing, replies, errors,
// keepalive, events, and every kind of malformed input. Each bad input must give one
// clear error, reject the pending calls, emit 'close', throw nothing uncaught, and end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { LibvirtClient, LibvirtClientOptions, LibvirtError } from '../../src/core/libvirt/client';
import { connectUnix } from '../../src/core/libvirt/transport';
import { XdrReader, XdrWriter } from '../../src/core/libvirt/xdr';
import * as P from '../../src/core/libvirt/protocol';
import { BackendError } from '../../src/core/model';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'libvirt');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

const DOM: P.RemoteDomain = { name: 'test', uuid: P.uuidFromString('6695eb01-f6a4-8304-79aa-97f2502e193f'), id: 1 };

/** A client wired to a fake daemon: `toClient` feeds bytes in, `sent` collects what the client wrote. */
function harness(options: LibvirtClientOptions = {}) {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const sent: Buffer[] = [];
  fromClient.on('data', (d: Buffer) => sent.push(d));
  const stream = Duplex.from({ readable: toClient, writable: fromClient });
  const client = new LibvirtClient(stream, { keepaliveIntervalMs: 0, callTimeoutMs: 2000, ...options });
  const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
  /** Headers of the packets the client sent so far. */
  const sentHeaders = () => {
    const all = Buffer.concat(sent);
    const out: P.MessageHeader[] = [];
    for (let off = 0; off < all.length;) {
      const len = all.readUInt32BE(off);
      out.push(P.decodeHeader(new XdrReader(all, off + 4, off + len)));
      off += len;
    }
    return out;
  };
  return { client, toClient, closed, sentHeaders };
}

function packet(h: Partial<P.MessageHeader>, body: (w: XdrWriter) => void = () => undefined): Buffer {
  const w = new XdrWriter();
  w.uint(0);
  P.encodeHeader(w, {
    prog: P.REMOTE_PROGRAM,
    vers: 1,
    proc: 0,
    type: P.MessageType.REPLY,
    serial: 1,
    status: P.MessageStatus.OK,
    ...h,
  });
  body(w);
  const buf = Buffer.from(w.finish());
  buf.writeUInt32BE(buf.length, 0);
  return buf;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** A recorded reply, renumbered to the serial of our call. */
function withSerial(buf: Buffer, serial: number): Buffer {
  const copy = Buffer.from(buf);
  copy.writeUInt32BE(serial, 4 + 16);
  return copy;
}

async function expectClosedWith(h: ReturnType<typeof harness>, pending: Promise<unknown>[], message: RegExp): Promise<void> {
  for (const p of pending) await assert.rejects(p, (e: Error) => message.test(e.message));
  const err = await h.closed;
  assert.ok(err, 'close carries the error');
  assert.match(err.message, message);
  assert.equal(h.client.closed, true);
  assert.equal(h.client.pendingCalls, 0);
  // a call on the closed client rejects at once, naming the cause
  await assert.rejects(h.client.getHostname(), (e: Error) => /connection is closed/.test(e.message) && message.test(e.message));
}

// ---- recorded packets -------------------------------------------------------------

test('recorded libvirtd 9.0 replies decode (list, bulk stats, info, error)', async () => {
  const list = fixture('list-all-domains.reply.bin');
  const r = new XdrReader(list, 4, list.readUInt32BE(0));
  const h = P.decodeHeader(r);
  assert.deepEqual([h.prog, h.vers, h.proc, h.type, h.status], [P.REMOTE_PROGRAM, 1, P.Proc.CONNECT_LIST_ALL_DOMAINS, P.MessageType.REPLY, 0]);
  assert.deepEqual(P.decodeListAllDomains(r), [DOM]);
  assert.equal(r.remaining, 0);

  const h2 = harness();
  const pList = h2.client.listAllDomains();
  const pStats = h2.client.connectGetAllDomainStats([], P.DomainStatsType.STATE);
  const pInfo = h2.client.domainGetInfo(DOM);
  const pErr = h2.client.domainLookupByName('virtscope-no-such-domain');
  h2.toClient.write(withSerial(list, 1));
  h2.toClient.write(withSerial(fixture('get-all-domain-stats.reply.bin'), 2));
  h2.toClient.write(withSerial(fixture('domain-get-info.reply.bin'), 3));
  h2.toClient.write(withSerial(fixture('lookup-missing.error.bin'), 4));
  assert.deepEqual(await pList, [DOM]);
  assert.deepEqual(await pStats, [{ dom: DOM, params: { 'state.state': 1, 'state.reason': 0 } }]);
  const info = await pInfo;
  assert.deepEqual([info.state, info.maxMem, info.memory, info.nrVirtCpu], [1, 8388608, 2097152, 2]);
  await assert.rejects(pErr, (e: unknown) => {
    assert.ok(e instanceof LibvirtError && e instanceof BackendError);
    assert.equal(e.code, 42);
    assert.equal(e.domain, 12);
    assert.equal(e.message, 'Domain not found');
    return true;
  });
  assert.equal(h2.client.closed, false, 'a libvirt error does not close the connection');
  h2.client.destroy();
});

test('a packet split into 1-byte chunks decodes correctly', async () => {
  const h = harness();
  const p = h.client.listAllDomains();
  const buf = Buffer.concat([withSerial(fixture('list-all-domains.reply.bin'), 1), withSerial(fixture('get-all-domain-stats.reply.bin'), 2)]);
  const p2 = h.client.connectGetAllDomainStats([], P.DomainStatsType.STATE);
  for (const byte of buf) h.toClient.write(Buffer.from([byte]));
  assert.deepEqual(await p, [DOM]);
  assert.equal((await p2)[0].params['state.state'], 1);
  h.client.destroy();
});

test('calls are framed as libvirt expects (length, header, serials)', async () => {
  const h = harness();
  const p = h.client.connectOpen('test:///default');
  const p2 = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.CONNECT_OPEN, serial: 1 }));
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_HOSTNAME, serial: 2 }, (w) => w.string('host')));
  await p;
  assert.equal(await p2, 'host');
  const sent = h.sentHeaders();
  assert.deepEqual(
    sent.map((x) => [x.prog, x.vers, x.proc, x.type, x.serial, x.status]),
    [
      [P.REMOTE_PROGRAM, 1, P.Proc.CONNECT_OPEN, P.MessageType.CALL, 1, 0],
      [P.REMOTE_PROGRAM, 1, P.Proc.CONNECT_GET_HOSTNAME, P.MessageType.CALL, 2, 0],
    ],
  );
  h.client.destroy();
});

// ---- malformed input ----------------------------------------------------------------

test('malformed: length field smaller than the header', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(Buffer.concat([u32(8), Buffer.alloc(4)]));
  await expectClosedWith(h, [p], /libvirt protocol error: packet length 8 is smaller than the 28-byte minimum/);
});

test('malformed: length field beyond VIR_NET_MESSAGE_MAX', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(u32(P.VIR_NET_MESSAGE_MAX + 5));
  await expectClosedWith(h, [p], /packet length 16777221 exceeds the protocol maximum of 16777220 bytes/);
});

test('malformed: truncated packet, then end of stream', async () => {
  const h = harness();
  const p = h.client.listAllDomains();
  h.toClient.write(withSerial(fixture('list-all-domains.reply.bin'), 1).subarray(0, 30));
  h.toClient.end();
  await expectClosedWith(h, [p], /libvirt packet cut short: 30 of 64 bytes received; the daemon closed the connection/);
});

test('malformed: end of stream inside the length word', async () => {
  const h = harness();
  const p = h.client.listAllDomains();
  h.toClient.end(Buffer.from([0, 0]));
  await expectClosedWith(h, [p], /libvirt packet cut short: 2 of 4 bytes received \(inside the length word\)/);
});

test('daemon hangs up cleanly: pending calls reject', async () => {
  const h = harness();
  const p = h.client.listAllDomains();
  h.toClient.end();
  await expectClosedWith(h, [p], /libvirt connection closed by the daemon/);
});

test('malformed: garbage header (wrong program)', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(packet({ prog: 0xdeadbeef, proc: 59 }));
  await expectClosedWith(h, [p], /unknown program 0xdeadbeef in packet header/);
});

test('malformed: wrong version, unexpected message type', async () => {
  let h = harness();
  let p: Promise<unknown> = h.client.getHostname();
  h.toClient.write(packet({ vers: 7, proc: 59 }));
  await expectClosedWith(h, [p], /unsupported version 7 for CONNECT_GET_HOSTNAME/);

  h = harness();
  p = h.client.getHostname();
  h.toClient.write(packet({ type: P.MessageType.STREAM, proc: 59 }));
  await expectClosedWith(h, [p], /unexpected message type 3 for CONNECT_GET_HOSTNAME/);
});

test('malformed: reply body shorter than the structure', async () => {
  const h = harness();
  const p = h.client.domainGetInfo(DOM);
  const other = h.client.getHostname(); // an innocent pending call is rejected too
  h.toClient.write(packet({ proc: P.Proc.DOMAIN_GET_INFO, serial: 1 }, (w) => w.uint(1).uint(0)));
  await expectClosedWith(
    h,
    [p, other],
    /malformed reply to DOMAIN_GET_INFO \(16\) \(serial 1\): truncated XDR data reading info maxMem at offset 4: needs 8 bytes, only 4 left/,
  );
});

test('malformed: string length beyond the buffer', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_HOSTNAME }, (w) => w.uint(1000).uint(0x41414141)));
  await expectClosedWith(h, [p], /hostname length 1000 at offset 0 runs past the end of the data: needs at least 1000 bytes, only 4 left/);
});

test('malformed: array count 0xFFFFFFFF', async () => {
  const h = harness();
  const p = h.client.listAllDomains();
  h.toClient.write(packet({ proc: P.Proc.CONNECT_LIST_ALL_DOMAINS }, (w) => w.uint(0xffffffff).uint(0)));
  await expectClosedWith(
    h,
    [p],
    /malformed reply to CONNECT_LIST_ALL_DOMAINS \(273\).*domain list length 4294967295 at offset 0 exceeds the protocol maximum 16384/,
  );
});

test('malformed: bulk stats with a forged parameter count', async () => {
  const h = harness();
  const p = h.client.connectGetAllDomainStats([], 1);
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_ALL_DOMAIN_STATS }, (w) => (w.uint(1), P.encodeDomain(w, DOM), w.uint(4000))));
  await expectClosedWith(h, [p], /stats of test length 4000 at offset \d+ runs past the end/);
});

test('malformed: reply for an unknown serial', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_HOSTNAME, serial: 99 }, (w) => w.string('x')));
  await expectClosedWith(h, [p], /reply for unknown serial 99 \(CONNECT_GET_HOSTNAME \(59\)\)/);
});

test('malformed: reply whose procedure does not match the call', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.DOMAIN_GET_INFO, serial: 1 }));
  await expectClosedWith(h, [p], /reply for serial 1 is DOMAIN_GET_INFO \(16\) but the call was CONNECT_GET_HOSTNAME \(59\)/);
});

test('malformed: error reply that does not decode', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_HOSTNAME, status: P.MessageStatus.ERROR }, (w) => w.int(42)));
  await expectClosedWith(h, [p], /malformed error reply to CONNECT_GET_HOSTNAME \(59\) \(serial 1\): truncated XDR data reading error domain/);
});

test('malformed: lifecycle event that does not decode', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, type: P.MessageType.MESSAGE, serial: 0 }, (w) => w.int(1)));
  await expectClosedWith(h, [p], /malformed lifecycle event message: truncated XDR data reading domain name length/);
});

// ---- timeouts, keepalive, events, auth ----------------------------------------------

test('a call times out; its late reply is ignored; the connection stays up', async () => {
  const h = harness();
  const p = h.client.call(P.Proc.CONNECT_GET_HOSTNAME, undefined, (r) => r.string(100), { timeoutMs: 30 });
  await assert.rejects(p, { message: 'libvirt call CONNECT_GET_HOSTNAME (59) timed out after 30 ms' });
  const serial = h.sentHeaders().at(-1)!.serial;
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_HOSTNAME, serial }, (w) => w.string('late')));
  const p2 = h.client.getHostname();
  h.toClient.write(packet({ proc: P.Proc.CONNECT_GET_HOSTNAME, serial: serial + 1 }, (w) => w.string('ok')));
  assert.equal(await p2, 'ok');
  assert.equal(h.client.closed, false);
  h.client.destroy();
});

test('keepalive: PING is answered with PONG; our PINGs go out when idle', async () => {
  const h = harness({ keepaliveIntervalMs: 20, keepaliveCount: 100 });
  h.toClient.write(packet({ prog: P.KEEPALIVE_PROGRAM, proc: P.KeepaliveProc.PING, type: P.MessageType.MESSAGE, serial: 0 }));
  await new Promise((r) => setTimeout(r, 80));
  const sent = h.sentHeaders();
  assert.ok(sent.some((x) => x.prog === P.KEEPALIVE_PROGRAM && x.proc === P.KeepaliveProc.PONG && x.type === P.MessageType.MESSAGE));
  assert.ok(sent.some((x) => x.prog === P.KEEPALIVE_PROGRAM && x.proc === P.KeepaliveProc.PING));
  h.client.destroy();
});

test('keepalive: a silent daemon is declared dead and pending calls reject', async () => {
  const h = harness({ keepaliveIntervalMs: 15, keepaliveCount: 2 });
  const p = h.client.getHostname();
  await expectClosedWith(h, [p], /libvirt daemon did not answer 2 keepalive pings/);
});

test('lifecycle events are emitted; other messages pass through', async () => {
  const h = harness();
  const events: P.LifecycleEventMsg[] = [];
  const other: number[] = [];
  h.client.on('lifecycle', (m) => events.push(m));
  h.client.on('message', (hdr) => other.push(hdr.proc));
  const msg = { callbackID: 4, dom: DOM, event: P.LifecycleEvent.SUSPENDED, detail: 0 };
  h.toClient.write(packet({ proc: P.Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, type: P.MessageType.MESSAGE, serial: 0 }, (w) => P.encodeLifecycleEventMsg(w, msg)));
  h.toClient.write(packet({ proc: P.Proc.DOMAIN_EVENT_CALLBACK_REBOOT, type: P.MessageType.MESSAGE, serial: 0 }, (w) => (w.int(4), P.encodeDomain(w, DOM))));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, [msg]);
  assert.deepEqual(other, [P.Proc.DOMAIN_EVENT_CALLBACK_REBOOT]);
  h.client.destroy();
});

test('auth: none, polkit, and a clear error for SASL', async () => {
  let h = harness();
  let p: Promise<number> = h.client.authenticate();
  h.toClient.write(packet({ proc: P.Proc.AUTH_LIST }, (w) => w.array([P.AuthType.POLKIT], (x, v) => x.int(v))));
  await new Promise((r) => setImmediate(r));
  h.toClient.write(packet({ proc: P.Proc.AUTH_POLKIT, serial: 2 }, (w) => w.int(1)));
  assert.equal(await p, P.AuthType.POLKIT);
  h.client.destroy();

  h = harness();
  p = h.client.authenticate();
  h.toClient.write(packet({ proc: P.Proc.AUTH_LIST }, (w) => w.array([P.AuthType.NONE], (x, v) => x.int(v))));
  assert.equal(await p, P.AuthType.NONE);
  h.client.destroy();

  h = harness();
  p = h.client.authenticate();
  h.toClient.write(packet({ proc: P.Proc.AUTH_LIST }, (w) => w.array([P.AuthType.SASL], (x, v) => x.int(v))));
  await assert.rejects(p, (e: unknown) => e instanceof BackendError && /requires sasl authentication/.test(e.message) && /auth_unix_rw/.test(e.hint ?? ''));
  h.client.destroy();
});

test('qemu agent command goes to the qemu program', async () => {
  const h = harness();
  const p = h.client.domainAgentCommand(DOM, '{"execute":"guest-ping"}', 5);
  h.toClient.write(packet({ prog: P.QEMU_PROGRAM, proc: P.QemuProc.DOMAIN_AGENT_COMMAND }, (w) => w.optional('{"return":{}}', (x, v) => x.string(v))));
  assert.equal(await p, '{"return":{}}');
  const sent = h.sentHeaders()[0];
  assert.deepEqual([sent.prog, sent.proc], [P.QEMU_PROGRAM, 3]);
  h.client.destroy();
});

test('destroy() rejects pending calls; close has no error', async () => {
  const h = harness();
  const p = h.client.getHostname();
  h.client.destroy();
  await assert.rejects(p, /closed by the client/);
  assert.equal(await h.closed, undefined);
});

// ---- transport errors ---------------------------------------------------------------

test('connectUnix: missing socket gives a BackendError naming the socket and how to start the daemon', async () => {
  const missing = path.join(os.tmpdir(), `virtscope-missing-${process.pid}.sock`);
  await assert.rejects(connectUnix(missing), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.equal(e.code, 'ENOENT');
    assert.ok(e.message.includes(missing));
    assert.match(e.hint ?? '', /sudo systemctl start libvirtd.*libvirtd -d/);
    return true;
  });
});

test('connectUnix: a stale socket (no listener) is reported as refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-stale-'));
  const sock = path.join(dir, 'stale.sock');
  // a process binds the socket and is killed: the file stays, nobody listens
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`]);
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  try {
    await assert.rejects(
      connectUnix(sock),
      (e: unknown) => e instanceof BackendError && e.code === 'ECONNREFUSED' && e.message.includes(sock) && /libvirtd/.test(e.hint ?? ''),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
