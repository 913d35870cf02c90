// The graphical console's byte bridge: the VNC stream on one side, the webview's messages on the
// other (src/protocol/vnc.ts). The webview never opens a socket; what it sends is validated here
// before a byte reaches the guest. No vscode import: tests drive it from Node with an RFB client.
import type { Duplex } from 'node:stream';
import { MAX_CHUNK, validFromWebview, type FromWebview, type ToWebview } from '../../protocol/vnc';

export interface VncBridgeEvents {
  /** The stream ended or failed (once). */
  onEnd?: (why: string | undefined) => void;
  /** A message was dropped as invalid. */
  onInvalid?: () => void;
}

export class VncBridge {
  private ended = false;

  constructor(
    private readonly stream: Duplex,
    private readonly post: (m: ToWebview) => void,
    private readonly events: VncBridgeEvents = {},
  ) {
    stream.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += MAX_CHUNK) this.post({ type: 'data', b64: chunk.subarray(i, i + MAX_CHUNK).toString('base64') });
    });
    stream.on('error', (e: Error) => this.end(e.message));
    stream.on('close', () => this.end(undefined));
    stream.on('end', () => this.end(undefined));
  }

  get closed(): boolean {
    return this.ended;
  }

  /**
   * A message from the webview: validated; RFB bytes go to the stream, 'closed' ends it. Returns
   * the message for the caller (ready, clipboard), or undefined when it was dropped or handled.
   */
  receive(raw: unknown): FromWebview | undefined {
    const m = validFromWebview(raw);
    if (!m) {
      this.events.onInvalid?.();
      return undefined;
    }
    if (m.type === 'data') {
      if (!this.ended) this.stream.write(Buffer.from(m.b64, 'base64'));
      return undefined;
    }
    if (m.type === 'closed') {
      this.close();
      return undefined;
    }
    return m;
  }

  /** Closes the stream (the panel closed, the user disconnected). */
  close(): void {
    this.stream.destroy();
    this.end(undefined);
  }

  private end(why: string | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.destroy();
    this.events.onEnd?.(why);
  }
}
