// The graphical console's bridge against a real QEMU VNC display: a small TCG domain of this file's
// own (no disk: SeaBIOS draws its screen) is started with a VNC unix socket, then with a TCP port on
// 127.0.0.1; each time a minimal RFB client drives the core bridge exactly as the webview does
// (base64 messages in, base64 messages out) through the backend's `graphics` capability: version,
// security type None, ClientInit, a FramebufferUpdateRequest and the FramebufferUpdate that answers
// it (and, once, the same client straight on the stream: the benchmark's baseline). Never touches
// the lab's guests; the domain is destroyed and undefined at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import type { GuestGraphics } from '../../src/core/console/graphics';
import { BridgeClient, handshakeAndFrame, readUpdate, requestUpdate, rfbHandshake, SocketClient } from '../rfb-client';
import type { Guest } from '../../src/core/model';

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

test('VNC on a unix socket: the live XML names it; handshake and a framebuffer update through the bridge, and without it', async () => {
  const graphics = await startWith(`<graphics type='vnc'><listen type='socket'/></graphics>`);
  try {
    const [d] = await graphics.displays();
    assert.equal(d.type, 'vnc');
    assert.ok(d.socket?.endsWith('.sock'), `socket in the live XML: ${JSON.stringify(d)}`);
    const r = await handshakeAndFrame(graphics);
    assert.ok(r.width >= 320 && r.height >= 200, `screen ${r.width}x${r.height}`);
    assert.ok(r.name.includes(NAME) || r.name.length > 0, r.name);
    assert.equal(r.first[4], 0, 'raw encoding (none asked for)');
    // the benchmark's baseline: the same client on the same stream without the bridge
    const direct = new SocketClient((await graphics.open()).stream);
    try {
      const screen = await rfbHandshake(direct);
      requestUpdate(direct, screen, false);
      const u = await readUpdate(direct, screen);
      assert.equal(u.pixelBytes, (screen.width * screen.height * screen.bpp) / 8, 'a whole screen of raw pixels');
    } finally {
      direct.close();
    }
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
