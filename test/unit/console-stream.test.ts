// libvirt console streams against a fake libvirtd on a real unix socket (test/fake-libvirtd.ts):
// the packets on the wire (DOMAIN_OPEN_CONSOLE args, VIR_NET_STREAM data, finish, abort), the flow
// both ways, a stream ERROR, a console held by another client (refused safely, then taken over),
// and a session that reopens after the guest rebooted and ends when it is destroyed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LibvirtClient, LibvirtError } from '../../src/core/libvirt/client';
import { connectUnix } from '../../src/core/libvirt/transport';
import { XdrReader } from '../../src/core/libvirt/xdr';
import * as P from '../../src/core/libvirt/protocol';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { requireCapability } from '../../src/core/capabilities';
import { ConsoleSession } from '../../src/core/console/session';
import { ConsoleBusyError } from '../../src/core/console/types';
import { consoleDevices } from '../../src/core/console/devices';
import type { Guest } from '../../src/core/model';
import { FAKE_DOM, FAKE_XML, FakeLibvirtd } from '../fake-libvirtd';

async function clientOf(fake: FakeLibvirtd): Promise<LibvirtClient> {
  const c = new LibvirtClient(await connectUnix(fake.socketPath), { keepaliveIntervalMs: 0, callTimeoutMs: 3000 });
  await c.authenticate();
  await c.connectOpen('qemu:///system');
  return c;
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
const streamPackets = (fake: FakeLibvirtd) => fake.received.filter((p) => p.header.type === P.MessageType.STREAM);

test('DOMAIN_OPEN_CONSOLE: args on the wire, early data kept, keystrokes as CONTINUE packets, finish handshake', async () => {
  const fake = await FakeLibvirtd.start();
  const c = await clientOf(fake);
  try {
    const stream = await c.domainOpenConsole(FAKE_DOM, 'serial0', P.ConsoleFlags.SAFE);
    const call = fake.received.find((p) => p.header.proc === P.Proc.DOMAIN_OPEN_CONSOLE)!;
    assert.equal(call.header.type, P.MessageType.CALL);
    const args = P.decodeOpenConsoleArgs(new XdrReader(call.body));
    assert.deepEqual([args.dom.name, args.devName, args.flags], ['fakevm', 'serial0', 2]);

    const got: Buffer[] = [];
    stream.on('data', (d: Buffer) => got.push(d));
    stream.write('ls\r');
    await fake.until(() => fake.consoleInput.toString() === 'ls\r');
    fake.say('hello\r\n');
    await waitFor(() => text(got) === 'early ls\rhello\r\n');

    const data = streamPackets(fake)[0].header;
    assert.deepEqual([data.prog, data.proc, data.type, data.serial, data.status], [P.REMOTE_PROGRAM, 201, 3, call.header.serial, P.MessageStatus.CONTINUE]);

    // a paste larger than one packet goes in libvirt-sized pieces
    const big = Buffer.alloc(P.STREAM_DATA_MAX + 10, 0x61);
    fake.echo = false;
    await new Promise<void>((r) => stream.write(big, () => r()));
    await fake.until(() => fake.consoleInput.length === 3 + big.length);
    assert.deepEqual(
      streamPackets(fake)
        .slice(1)
        .map((p) => p.body.length),
      [P.STREAM_DATA_MAX, 10],
    );

    // end(): OK from us, an empty OK back, then the stream closes without error
    const closed = new Promise<void>((resolve, reject) => (stream.on('close', resolve), stream.on('error', reject)));
    stream.end();
    await closed;
    const finish = streamPackets(fake).at(-1)!;
    assert.deepEqual([finish.header.status, finish.body.length], [P.MessageStatus.OK, 0]);
    assert.equal(fake.consoleHeld, false);
    assert.equal(await c.getHostname().catch((e: Error) => e.message), 'fake: proc 59', 'the connection goes on');
  } finally {
    c.destroy();
    await fake.close();
  }
});

test('end of data from the daemon (empty CONTINUE): the stream ends and finishes by itself', async () => {
  const fake = await FakeLibvirtd.start();
  const c = await clientOf(fake);
  try {
    const stream = await c.domainOpenConsole(FAKE_DOM, null, P.ConsoleFlags.SAFE);
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    const closed = new Promise<void>((resolve) => stream.on('close', resolve));
    stream.resume();
    fake.hangup();
    await ended;
    await closed;
    assert.equal(streamPackets(fake).at(-1)!.header.status, P.MessageStatus.OK, 'our finish after their end of data');
  } finally {
    c.destroy();
    await fake.close();
  }
});

test("a stream ERROR ends the stream with libvirt's message; the connection stays open", async () => {
  const fake = await FakeLibvirtd.start();
  const c = await clientOf(fake);
  try {
    const stream = await c.domainOpenConsole(FAKE_DOM, null, P.ConsoleFlags.SAFE);
    stream.resume();
    const failed = new Promise<Error>((resolve) => stream.on('error', resolve));
    fake.streamError('stream had I/O failure');
    const err = await failed;
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.message, 'stream had I/O failure');
    assert.equal(c.closed, false);
    assert.equal((await c.domainGetState(FAKE_DOM)).state, P.DomainState.RUNNING);
    assert.ok(!streamPackets(fake).some((p) => p.header.status === P.MessageStatus.ERROR), 'nothing sent back for an error');
  } finally {
    c.destroy();
    await fake.close();
  }
});

test('destroy() aborts with an empty ERROR; packets still in flight are dropped quietly', async () => {
  const fake = await FakeLibvirtd.start();
  const c = await clientOf(fake);
  try {
    const stream = await c.domainOpenConsole(FAKE_DOM, null, P.ConsoleFlags.SAFE);
    stream.resume();
    fake.echo = false;
    stream.destroy();
    await fake.until(() => streamPackets(fake).some((p) => p.header.status === P.MessageStatus.ERROR));
    const abort = streamPackets(fake).at(-1)!;
    assert.deepEqual([abort.header.status, abort.body.length], [P.MessageStatus.ERROR, 0]);
    // the daemon's confirmation arrives for a stream we forgot: no protocol error
    assert.equal((await c.domainGetState(FAKE_DOM)).state, P.DomainState.RUNNING);
    assert.equal(c.closed, false);
  } finally {
    c.destroy();
    await fake.close();
  }
});

test("a refused open rejects with libvirt's error and leaves no stream behind", async () => {
  const fake = await FakeLibvirtd.start();
  const c = await clientOf(fake);
  try {
    fake.openError = { code: P.ErrorCode.INTERNAL_ERROR, message: 'internal error: character device serial9 is not using a PTY' };
    await assert.rejects(c.domainOpenConsole(FAKE_DOM, 'serial9', 0), /not using a PTY/);
    fake.openError = undefined;
    const s = await c.domainOpenConsole(FAKE_DOM, null, 0);
    s.destroy();
  } finally {
    c.destroy();
    await fake.close();
  }
});

// ---- through the backend's capability --------------------------------------------------------

const GUEST: Guest = { id: P.uuidToString(FAKE_DOM.uuid), name: 'fakevm', kind: 'qemu', state: 'running', rawState: 'running' };

function backendOf(fake: FakeLibvirtd): LibvirtBackend {
  return new LibvirtBackend({ id: 'fake', type: 'libvirt', uri: 'qemu:///system', socketPath: fake.socketPath }, { keepaliveIntervalMs: 0 });
}

test('devices: one entry per alias, pty first, from the domain XML', async () => {
  assert.deepEqual(
    consoleDevices(FAKE_XML).map((d) => [d.alias, d.type, d.label]),
    [
      ['serial0', 'pty', 'serial0 — serial port 0 (pty)'],
      ['serial1', 'file', 'serial1 — serial port 1 (file)'],
    ],
  );
  const inactive =
    "<domain><devices><serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console></devices></domain>";
  assert.equal(consoleDevices(inactive).length, 1, 'the serial console is its serial port');
  const lxc =
    "<domain type='lxc'><devices><console type='pty'><source path='/dev/pts/2'/><target type='lxc' port='0'/><alias name='console0'/></console></devices></domain>";
  assert.deepEqual(
    consoleDevices(lxc).map((d) => d.label),
    ['console0 — lxc console (pty)'],
  );
});

test('a console held by another client: refused safely, then taken over with FORCE; the first session ends saying so', async () => {
  const fake = await FakeLibvirtd.start();
  const a = backendOf(fake);
  const b = backendOf(fake);
  try {
    await Promise.all([a.connect(), b.connect()]);
    const first = new ConsoleSession('fakevm', () => requireCapability(a, GUEST, 'console'), { device: null, retryMs: 10 });
    await first.start();
    const firstExit = new Promise<{ reason?: string }>((resolve) => first.on('exit', resolve));

    const second = new ConsoleSession('fakevm', () => requireCapability(b, GUEST, 'console'), { device: null, retryMs: 10 });
    await assert.rejects(second.start(), (e: unknown) => e instanceof ConsoleBusyError && /in use by another client/.test(e.message));
    assert.equal(fake.lastOpen?.flags, P.ConsoleFlags.SAFE);

    await second.start(true);
    assert.equal(fake.lastOpen?.flags, P.ConsoleFlags.FORCE);
    const exit = await firstExit;
    assert.match(exit.reason ?? '', /another client took over the console of "fakevm"/);

    const seen: Buffer[] = [];
    second.on('data', (d) => seen.push(d));
    second.write('x');
    await waitFor(() => text(seen).endsWith('x'));
    await second.close();
    assert.equal(fake.consoleHeld, false, 'closing the terminal finishes the stream');
  } finally {
    await Promise.all([a.close(), b.close()]);
    await fake.close();
  }
});

test('a reboot that takes the console away: the session waits, then reopens when the guest runs; destroyed ends it', async () => {
  const fake = await FakeLibvirtd.start();
  const backend = backendOf(fake);
  try {
    await backend.connect();
    const session = new ConsoleSession('fakevm', () => requireCapability(backend, GUEST, 'console'), { device: 'serial0', retryMs: 10 });
    const notices: string[] = [];
    const seen: Buffer[] = [];
    session.on('notice', (n) => notices.push(n));
    session.on('data', (d) => seen.push(d));
    await session.start();

    fake.state = { state: P.DomainState.SHUTOFF, reason: P.DomainShutoffReason.SHUTDOWN };
    fake.hangup();
    await waitFor(() => notices.some((n) => /is stopped; the console opens again when it runs/.test(n)));
    assert.equal(session.attached, false);

    fake.state = { state: P.DomainState.RUNNING, reason: 1 };
    session.guestChanged();
    await waitFor(() => notices.some((n) => /open again/.test(n)));
    fake.say('login: ');
    await waitFor(() => text(seen).endsWith('login: '));
    assert.equal(fake.lastOpen?.devName, 'serial0');

    const exit = new Promise<{ reason?: string }>((resolve) => session.on('exit', resolve));
    fake.state = { state: P.DomainState.SHUTOFF, reason: P.DomainShutoffReason.DESTROYED };
    fake.hangup();
    assert.match((await exit).reason ?? '', /"fakevm" was destroyed \(forced off\): the console is closed/);
  } finally {
    await backend.close();
    await fake.close();
  }
});

test('a guest that runs again at once (reset): the console reopens without waiting for a change', async () => {
  const fake = await FakeLibvirtd.start();
  const backend = backendOf(fake);
  try {
    await backend.connect();
    const session = new ConsoleSession('fakevm', () => requireCapability(backend, GUEST, 'console'), { device: null, retryMs: 10 });
    const notices: string[] = [];
    session.on('notice', (n) => notices.push(n));
    await session.start();
    fake.hangup();
    await waitFor(() => notices.some((n) => /open again/.test(n)));
    assert.equal(session.attached, true);
    await session.close();
  } finally {
    await backend.close();
    await fake.close();
  }
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('closing while the daemon never confirms the finish: the stream is dropped after the wait, the terminal is not held', async () => {
  const { Duplex } = await import('node:stream');
  // a stream whose finish never completes: no 'close' ever comes by itself
  const stuck = new Duplex({ read() {}, write: (_c, _e, cb) => cb(), final: () => undefined });
  const console = { open: async () => stuck, state: async () => 'running' as const, devices: async () => [] };
  const session = new ConsoleSession('fakevm', () => console as never, { device: null, closeConfirmMs: 50 });
  await session.start();
  const t0 = Date.now();
  await session.close();
  assert.ok(Date.now() - t0 < 2000, `close() took ${Date.now() - t0} ms`);
  assert.equal(stuck.destroyed, true);
});
