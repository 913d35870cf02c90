// The graphical console's bridge against a real QEMU VNC display: a small TCG domain of this file's
// own (no disk: SeaBIOS draws its screen) is started with a VNC unix socket, then with a TCP port on
// 127.0.0.1; each time a minimal RFB client drives the core bridge exactly as the webview does
// (base64 messages in, base64 messages out) through the backend's `graphics` capability: version,
// security type None, ClientInit, a FramebufferUpdateRequest and the FramebufferUpdate that answers
// it. Never touches the lab's guests; the domain is destroyed and undefined at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import { VncBridge } from '../../src/core/console/vncBridge';
import type { GuestGraphics } from '../../src/core/console/graphics';
import type { Guest } from '../../src/core/model';
import type { ToWebview } from '../../src/protocol/vnc';

const URI = 'qemu:///system';
const NAME = `vs-vnc-it-${process.pid}`;
let backend: LibvirtBackend;
let uuid = '';

const domainXml = (graphics: string) => `<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    ${graphics}
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
</domain>`;

const guest = (): Guest => ({ id: uuid, name: NAME, kind: 'qemu', state: 'running', rawState: 'running' });

/** An RFB client's view of the bridge: what the webview would send and receive, in bytes. */
class BridgeClient {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  ended: string | undefined;
  readonly bridge: VncBridge;

  constructor(stream: import('node:stream').Duplex) {
    this.bridge = new VncBridge(stream, (m: ToWebview) => this.onPost(m), { onEnd: (w) => ((this.ended = w ?? 'closed'), this.wake?.()) });
  }
  private onPost(m: ToWebview): void {
    if (m.type === 'data') this.buf = Buffer.concat([this.buf, Buffer.from(m.b64, 'base64')]);
    this.wake?.();
  }
  send(bytes: number[] | Buffer): void {
    this.bridge.receive({ type: 'data', b64: Buffer.from(bytes).toString('base64') });
  }
  async read(n: number, timeoutMs = 20_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.ended) throw new Error(`stream ended (${this.ended}) with ${this.buf.length}/${n} bytes`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} bytes`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

/** The RFB 3.8 handshake and one full FramebufferUpdate, through the bridge. */
async function handshakeAndFrame(graphics: GuestGraphics): Promise<{ width: number; height: number; name: string; rects: number; first: number[] }> {
  const { stream } = await graphics.open();
  const c = new BridgeClient(stream);
  try {
    assert.equal((await c.read(12)).toString(), 'RFB 003.008\n');
    c.send(Buffer.from('RFB 003.008\n'));
    const n = (await c.read(1))[0];
    assert.ok(n > 0, 'the server offers security types');
    const types = [...(await c.read(n))];
    assert.ok(types.includes(1), `security type None offered (got ${types})`);
    c.send([1]);
    assert.equal((await c.read(4)).readUInt32BE(0), 0, 'SecurityResult OK');
    c.send([1]); // ClientInit, shared
    const init = await c.read(24);
    const width = init.readUInt16BE(0);
    const height = init.readUInt16BE(2);
    const bpp = init[4];
    const name = (await c.read(init.readUInt32BE(20))).toString();
    const req = Buffer.alloc(10);
    req[0] = 3; // FramebufferUpdateRequest, not incremental
    req.writeUInt16BE(width, 6);
    req.writeUInt16BE(height, 8);
    c.send(req);
    const head = await c.read(4);
    assert.equal(head[0], 0, 'a FramebufferUpdate');
    const rects = head.readUInt16BE(2);
    assert.ok(rects > 0);
    const rect = await c.read(12);
    const [x, y, w, h, enc] = [rect.readUInt16BE(0), rect.readUInt16BE(2), rect.readUInt16BE(4), rect.readUInt16BE(6), rect.readInt32BE(8)];
    if (enc === 0) await c.read(w * h * (bpp / 8)); // raw pixels of the first rectangle
    return { width, height, name, rects, first: [x, y, w, h, enc] };
  } finally {
    c.bridge.close();
  }
}

async function startWith(graphics: string): Promise<GuestGraphics> {
  uuid = await backend.defineXML(domainXml(graphics));
  const c = await backend.client();
  await c.domainCreate(await c.domainLookupByName(NAME));
  const g = capability(backend, guest(), 'graphics');
  assert.ok(g, 'a QEMU guest has the graphics capability');
  return g;
}

async function destroy(): Promise<void> {
  const c = await backend.client();
  const dom = await c.domainLookupByName(NAME).catch(() => undefined);
  if (!dom) return;
  await c.domainDestroy(dom).catch(() => undefined);
  await c.domainUndefine(dom).catch(() => undefined);
}

before(async () => {
  backend = new LibvirtBackend({ id: 'vnc-it', type: 'libvirt', uri: URI });
  await backend.connect();
});

after(async () => {
  try {
    await destroy();
  } finally {
    await backend.close();
  }
});

test('VNC on a unix socket: the live XML names it; handshake and a framebuffer update through the bridge', async () => {
  const graphics = await startWith(`<graphics type='vnc'><listen type='socket'/></graphics>`);
  try {
    const [d] = await graphics.displays();
    assert.equal(d.type, 'vnc');
    assert.ok(d.socket?.endsWith('.sock'), `socket in the live XML: ${JSON.stringify(d)}`);
    const r = await handshakeAndFrame(graphics);
    assert.ok(r.width >= 320 && r.height >= 200, `screen ${r.width}x${r.height}`);
    assert.ok(r.name.includes(NAME) || r.name.length > 0, r.name);
    assert.equal(r.first[4], 0, 'raw encoding (none asked for)');
  } finally {
    await destroy();
  }
});

/** QEMU's 127.0.0.1 is ours only in the same network namespace (the lab runs libvirtd in its own). */
async function sameNetns(): Promise<boolean> {
  const pid = await capability(backend, guest(), 'hostProcess')?.pid();
  return pid !== undefined && readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
}

test('VNC on an autoport on 127.0.0.1: handshake and a framebuffer update; the guest stopping ends the stream', async (t) => {
  const graphics = await startWith(`<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>`);
  try {
    if (!(await sameNetns())) {
      t.skip(
        `QEMU runs in another network namespace: run this file there (bash scripts/lab.sh exec-netns node --import tsx --test ${'test/integration/graphics.test.ts'})`,
      );
      return;
    }
    const [d] = await graphics.displays();
    assert.ok(d.port && d.port >= 5900, `a port in the live XML: ${JSON.stringify(d)}`);
    assert.equal(d.socket, undefined);
    const r = await handshakeAndFrame(graphics);
    assert.ok(r.rects > 0 && r.width > 0);
    // a second connection stays open until the guest is destroyed: then it ends
    const { stream } = await graphics.open();
    const c = new BridgeClient(stream);
    await c.read(12);
    const c2 = await backend.client();
    await c2.domainDestroy(await c2.domainLookupByName(NAME));
    const t0 = Date.now();
    while (!c.ended && Date.now() - t0 < 10_000) await new Promise((res) => setTimeout(res, 50));
    assert.ok(c.ended, 'the stream ended when the guest stopped');
  } finally {
    await destroy();
  }
});

test('a guest without graphics: NoGraphicsError from open', async () => {
  const graphics = await startWith('');
  try {
    await assert.rejects(graphics.open(), (e: Error) => e.name === 'NoGraphicsError' && /no <graphics>/.test(e.message));
  } finally {
    await destroy();
  }
});
