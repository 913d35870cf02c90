// A minimal RFB client driving the graphical console's core bridge from Node exactly as the webview
// does (base64 messages in, base64 messages out): for test/integration/graphics*.test.ts.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import type { GuestGraphics } from '../../src/core/console/graphics';
import { VncBridge } from '../../src/core/console/vncBridge';
import type { ToWebview } from '../../src/protocol/vnc';

/** An RFB client's view of the bridge: what the webview would send and receive, in bytes. */
export class BridgeClient {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  ended: string | undefined;
  readonly bridge: VncBridge;

  constructor(stream: Duplex) {
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
export async function handshakeAndFrame(graphics: GuestGraphics): Promise<{ width: number; height: number; name: string; rects: number; first: number[] }> {
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
