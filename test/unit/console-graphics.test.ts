// The graphical console's core: the <graphics> of a domain XML, the route to its display (socket
// through the host, TCP only on this machine), the webview protocol's guards, and the bridge
// between a byte stream and the webview's messages (a real socket pair, no mocks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { graphicsDisplays, NoGraphicsError, openDisplay, pickVnc } from '../../src/core/console/graphics';
import { VncBridge } from '../../src/core/console/vncBridge';
import { MAX_CHUNK, MAX_CLIPBOARD, validFromWebview, validToWebview, vncPage, type ToWebview } from '../../src/protocol/vnc';
import type { Host } from '../../src/core/host/host';

const LIVE_TCP = `<domain type='qemu' id='3'><name>vm</name><devices>
  <serial type='pty'><target port='0'/></serial>
  <graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'>
    <listen type='address' address='127.0.0.1'/>
  </graphics>
  <video><model type='vga'/></video>
</devices></domain>`;

const LIVE_SOCKET = `<domain><devices>
  <graphics type='vnc' socket='/var/lib/libvirt/qemu/domain-4-it&apos;s/vnc.sock'>
    <listen type='socket' socket='/var/lib/libvirt/qemu/domain-4-it&apos;s/vnc.sock'/>
  </graphics>
</devices></domain>`;

test('graphicsDisplays: port, listen and autoport of a live TCP display', () => {
  assert.deepEqual(graphicsDisplays(LIVE_TCP), [{ type: 'vnc', port: 5901, socket: undefined, listen: '127.0.0.1', autoport: true }]);
});

test('graphicsDisplays: a socket display, its path unescaped; a listen child alone gives the socket', () => {
  assert.equal(graphicsDisplays(LIVE_SOCKET)[0].socket, "/var/lib/libvirt/qemu/domain-4-it's/vnc.sock");
  const childOnly = `<domain><devices><graphics type='vnc'><listen type='socket' socket='/run/x.sock'/></graphics></devices></domain>`;
  assert.equal(graphicsDisplays(childOnly)[0].socket, '/run/x.sock');
});

test('graphicsDisplays: a stopped domain (port -1) has no port; a listen child gives the address', () => {
  const d = graphicsDisplays(
    `<domain><devices><graphics type='vnc' port='-1' autoport='yes'><listen type='address' address='0.0.0.0'/></graphics></devices></domain>`,
  )[0];
  assert.equal(d.port, undefined);
  assert.equal(d.listen, '0.0.0.0');
});

test('pickVnc: no graphics or only SPICE is a NoGraphicsError that says so', () => {
  assert.throws(
    () => pickVnc('vm', graphicsDisplays('<domain><devices></devices></domain>')),
    (e) => e instanceof NoGraphicsError && /no <graphics>/.test(e.message),
  );
  const spice = graphicsDisplays(`<domain><devices><graphics type='spice' port='5930'/></devices></domain>`);
  assert.throws(
    () => pickVnc('vm', spice),
    (e) => e instanceof NoGraphicsError && /SPICE; only VNC/.test(e.message),
  );
  const both = graphicsDisplays(`<domain><devices><graphics type='spice' port='5930'/><graphics type='vnc' port='5900'/></devices></domain>`);
  assert.equal(pickVnc('vm', both).port, 5900);
});

test('openDisplay: a TCP port on a remote host is refused as unsupported, naming the way that works', async () => {
  const d = graphicsDisplays(LIVE_TCP)[0];
  await assert.rejects(openDisplay('vm', d, { local: false, host: undefined }), (e: Error) => /remote host, which is not supported yet/.test(e.message));
});

test('openDisplay: a socket goes through the host’s connectUnix', async () => {
  const asked: string[] = [];
  const host = {
    label: 'kvm1',
    connectUnix: async (p: string) => {
      asked.push(p);
      return new net.Socket();
    },
  } as unknown as Host;
  const r = await openDisplay('vm', graphicsDisplays(LIVE_SOCKET)[0], { local: false, host });
  r.stream.destroy();
  assert.deepEqual(asked, ["/var/lib/libvirt/qemu/domain-4-it's/vnc.sock"]);
  assert.match(r.where, /on kvm1$/);
});

test('validFromWebview: only known shapes within bounds', () => {
  assert.deepEqual(validFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(validFromWebview({ type: 'data', b64: 'AAEC', extra: 1 }), { type: 'data', b64: 'AAEC' });
  assert.deepEqual(validFromWebview({ type: 'paste' }), { type: 'paste' });
  for (const bad of [
    null,
    'ready',
    [],
    { type: 'nope' },
    { type: 'data' },
    { type: 'data', b64: 42 },
    { type: 'data', b64: 'not base64!' },
    { type: 'data', b64: 'AAE' }, // not a multiple of 4
    { type: 'data', b64: 'A'.repeat((MAX_CHUNK / 3) * 4 + 4) },
    { type: 'clipboard', text: 'x'.repeat(MAX_CLIPBOARD + 1) },
    { type: 'closed', reason: 7 },
  ])
    assert.equal(validFromWebview(bad), undefined, JSON.stringify(bad)?.slice(0, 60));
  assert.equal(validToWebview({ type: 'open', title: 3 }), undefined);
  assert.deepEqual(validToWebview({ type: 'end', message: 'bye' }), { type: 'end', message: 'bye' });
});

/** A connected pair of real sockets on loopback. */
async function socketPair(): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => a.once('connect', r));
  return [a, await accepted, () => server.close()];
}

test('VncBridge: bytes both ways, large reads split into bounded messages, invalid messages dropped, end reported once', async () => {
  const [mine, far, stop] = await socketPair();
  const posted: ToWebview[] = [];
  let invalid = 0;
  const ends: Array<string | undefined> = [];
  const bridge = new VncBridge(mine, (m) => posted.push(m), { onEnd: (w) => ends.push(w), onInvalid: () => invalid++ });
  // webview → server
  const got = new Promise<Buffer>((r) => far.once('data', r));
  assert.equal(bridge.receive({ type: 'data', b64: Buffer.from('RFB 003.008\n').toString('base64') }), undefined);
  assert.equal((await got).toString(), 'RFB 003.008\n');
  assert.equal(bridge.receive({ type: 'data', b64: '!!' }), undefined);
  assert.equal(invalid, 1);
  assert.deepEqual(bridge.receive({ type: 'clipboard', text: 'hi' }), { type: 'clipboard', text: 'hi' });
  // server → webview: 600 KiB arrive as chunks of at most MAX_CHUNK, in order
  const big = Buffer.alloc(600 * 1024, 7);
  far.end(big);
  await new Promise<void>((r) => {
    const t = setInterval(() => ends.length && (clearInterval(t), r()), 5);
  });
  const data = posted.filter((m): m is Extract<ToWebview, { type: 'data' }> => m.type === 'data').map((m) => Buffer.from(m.b64, 'base64'));
  assert.ok(data.every((b) => b.length <= MAX_CHUNK));
  assert.ok(Buffer.concat(data).equals(big));
  assert.equal(ends.length, 1);
  assert.ok(bridge.closed);
  bridge.close();
  assert.equal(ends.length, 1, 'reported once');
  stop();
});

test('VncBridge: the webview closing closes the stream', async () => {
  const [mine, far, stop] = await socketPair();
  const bridge = new VncBridge(mine, () => {});
  const closed = new Promise((r) => far.once('close', r));
  far.resume();
  bridge.receive({ type: 'closed', reason: 'disconnected' });
  await closed;
  assert.ok(bridge.closed);
  stop();
});

test('vncPage: strict CSP (nothing by default, no connect-src), the one script carries the nonce, the title escaped', () => {
  const html = vncPage({
    nonce: 'N0nce',
    cspSource: 'https://res',
    script: 'https://res/dist/vnc.js',
    style: 'https://res/dist/vnc.css',
    title: '<b>"vm"</b>',
  });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /^default-src 'none';/);
  assert.doesNotMatch(csp, /connect-src|unsafe-inline|unsafe-eval|\*/);
  assert.match(csp, /script-src 'nonce-N0nce';/);
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, ['<script type="module" nonce="N0nce" src="https://res/dist/vnc.js">']);
  assert.ok(html.includes('<title>&lt;b&gt;&quot;vm&quot;&lt;/b&gt;</title>'));
});
