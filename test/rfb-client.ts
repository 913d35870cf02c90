// A minimal RFB (VNC) client for the graphical console's tests and benchmark: the RFB 3.8 handshake
// with security None, framebuffer update requests, and updates read whole (raw pixels, the only
// encoding it asks for). It speaks over either link: through the core bridge exactly as the webview
// does (base64 messages in, base64 messages out), or straight on the display's socket.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import type { GuestGraphics } from '../src/core/console/graphics';
import { VncBridge } from '../src/core/console/vncBridge';
import type { ToWebview } from '../src/protocol/vnc';

/** Bytes arriving in chunks, read back in exact sizes. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private wake: (() => void) | undefined;
  /** Why no more bytes will come (undefined while they may). */
  ended: string | undefined;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.wake?.();
  }

  end(why: string): void {
    this.ended ??= why;
    this.wake?.();
  }

  /** The next n bytes; rejects when the bytes end first or do not come within timeoutMs. */
  async read(n: number, timeoutMs = 20_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.length < n) {
      if (this.ended) throw new Error(`stream ended (${this.ended}) with ${this.length}/${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes (${this.length} there)`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.wake = () => (clearTimeout(timer), r());
      });
      this.wake = undefined;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    return all.subarray(0, n);
  }
}

/** Where an RFB client's bytes go and come from. */
export interface RfbLink {
  send(bytes: number[] | Buffer): void;
  read(n: number, timeoutMs?: number): Promise<Buffer>;
  /** Why the stream ended (undefined while open). */
  readonly ended: string | undefined;
  close(): void;
}

/** An RFB client's view of the bridge: what the webview would send and receive, in bytes. */
export class BridgeClient implements RfbLink {
  private readonly q = new ByteQueue();
  readonly bridge: VncBridge;

  constructor(stream: Duplex) {
    this.bridge = new VncBridge(stream, (m: ToWebview) => this.onPost(m), { onEnd: (w) => this.q.end(w ?? 'closed') });
  }
  private onPost(m: ToWebview): void {
    if (m.type === 'data') this.q.push(Buffer.from(m.b64, 'base64'));
  }
  get ended(): string | undefined {
    return this.q.ended;
  }
  send(bytes: number[] | Buffer): void {
    this.bridge.receive({ type: 'data', b64: Buffer.from(bytes).toString('base64') });
  }
  read(n: number, timeoutMs?: number): Promise<Buffer> {
    return this.q.read(n, timeoutMs);
  }
  close(): void {
    this.bridge.close();
  }
}

/** The same client straight on the display's stream (no bridge): the benchmark's baseline. */
export class SocketClient implements RfbLink {
  private readonly q = new ByteQueue();

  constructor(private readonly stream: Duplex) {
    stream.on('data', (d: Buffer) => this.q.push(d));
    stream.on('error', (e: Error) => this.q.end(e.message));
    stream.on('close', () => this.q.end('closed'));
  }
  get ended(): string | undefined {
    return this.q.ended;
  }
  send(bytes: number[] | Buffer): void {
    this.stream.write(Buffer.from(bytes));
  }
  read(n: number, timeoutMs?: number): Promise<Buffer> {
    return this.q.read(n, timeoutMs);
  }
  close(): void {
    this.stream.destroy();
  }
}

/** What the server says about its screen after the handshake. */
export interface ServerInit {
  readonly width: number;
  readonly height: number;
  /** Bits per pixel of the server's pixel format (kept: no SetPixelFormat is sent). */
  readonly bpp: number;
  readonly name: string;
}

/** RFB 3.8, security type None, shared ClientInit: the screen's size, format and name. */
export async function rfbHandshake(c: RfbLink): Promise<ServerInit> {
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
  const name = (await c.read(init.readUInt32BE(20))).toString();
  return { width: init.readUInt16BE(0), height: init.readUInt16BE(2), bpp: init[4], name };
}

/** A FramebufferUpdateRequest for the whole screen; incremental: only what changed since the last update. */
export function requestUpdate(c: RfbLink, s: ServerInit, incremental: boolean): void {
  const req = Buffer.alloc(10);
  req[0] = 3;
  req[1] = incremental ? 1 : 0;
  req.writeUInt16BE(s.width, 6);
  req.writeUInt16BE(s.height, 8);
  c.send(req);
}

/** One FramebufferUpdate read whole: its rectangles, pixel bytes, and the first rectangle [x, y, w, h, encoding]. */
export async function readUpdate(c: RfbLink, s: ServerInit, timeoutMs?: number): Promise<{ rects: number; pixelBytes: number; first: number[] }> {
  const head = await c.read(4, timeoutMs);
  assert.equal(head[0], 0, 'a FramebufferUpdate');
  const rects = head.readUInt16BE(2);
  let pixelBytes = 0;
  let first: number[] = [];
  for (let i = 0; i < rects; i++) {
    const rect = await c.read(12, timeoutMs);
    const r = [rect.readUInt16BE(0), rect.readUInt16BE(2), rect.readUInt16BE(4), rect.readUInt16BE(6), rect.readInt32BE(8)];
    if (i === 0) first = r;
    assert.equal(r[4], 0, `raw encoding (the only one asked for), got ${r[4]}`);
    const bytes = r[2] * r[3] * (s.bpp / 8);
    await c.read(bytes, timeoutMs);
    pixelBytes += bytes;
  }
  return { rects, pixelBytes, first };
}

/** The RFB 3.8 handshake and one full FramebufferUpdate, through the bridge. */
export async function handshakeAndFrame(graphics: GuestGraphics): Promise<{ width: number; height: number; name: string; rects: number; first: number[] }> {
  const { stream } = await graphics.open();
  const c = new BridgeClient(stream);
  try {
    const s = await rfbHandshake(c);
    requestUpdate(c, s, false);
    const u = await readUpdate(c, s);
    assert.ok(u.rects > 0);
    return { width: s.width, height: s.height, name: s.name, rects: u.rects, first: u.first };
  } finally {
    c.close();
  }
}
