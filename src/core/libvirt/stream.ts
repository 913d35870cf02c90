// A libvirt stream (virStream over RPC) as a Node Duplex. After the call that opens it (e.g.
// DOMAIN_OPEN_CONSOLE) both sides send VIR_NET_STREAM packets with the call's procedure and serial:
// data as status CONTINUE, end of data as an empty CONTINUE, and the finish handshake as status OK
// (the sender's "I am done", answered by an empty OK); status ERROR carries a remote_error from the
// daemon, or (empty) the client's abort. The client (client.ts) routes packets here by serial.
import { Duplex } from 'node:stream';
import { MessageStatus, STREAM_DATA_MAX } from './protocol';

/** What a stream needs from its connection. */
export interface StreamLink {
  /** Sends one VIR_NET_STREAM packet of this stream; false when the connection is closed. */
  send(status: number, body: Buffer): boolean;
  /** Calls `cb` once the connection's send queue is short enough for more data. */
  whenWritable(cb: () => void): void;
  /** The stream is over: the connection forgets its serial (late packets are dropped quietly). */
  release(): void;
}

/** How long the daemon may take to confirm a finish before the stream is dropped anyway. */
const FINISH_TIMEOUT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

export class LibvirtStream extends Duplex {
  /** The daemon said end of data (an empty CONTINUE) or finished the stream. */
  private remoteEnded = false;
  /** Our finish (OK) was sent and awaits its confirmation. */
  private finishing: ((err?: Error | null) => void) | undefined;
  /** Over on both sides: nothing more is sent. */
  private over = false;

  constructor(
    private readonly link: StreamLink,
    /** For messages: "console of labvm". */
    readonly description: string,
  ) {
    // allowHalfOpen false: when the daemon ends its data, our side finishes too (a console or a
    // log has nothing to send once the other end is gone)
    super({ allowHalfOpen: false });
  }

  // ---- from the daemon (called by the client) ------------------------------------------------

  /** A VIR_NET_STREAM packet with status CONTINUE or OK. */
  receive(status: number, body: Buffer): void {
    if (this.over && !this.finishing) return;
    if (status === MessageStatus.CONTINUE) {
      if (body.length) {
        if (!this.remoteEnded) this.push(body);
        return;
      }
      this.endOfData();
      return;
    }
    // OK: the confirmation of our finish, or the daemon finishing on its own
    this.endOfData();
    this.settle();
  }

  /** The daemon reported an error (STREAM ERROR, or an error reply to a finish/abort/write), or the connection broke. */
  fail(err: Error): void {
    if (this.over && !this.finishing) return;
    const finishing = this.finishing;
    this.finishing = undefined;
    this.close();
    if (finishing) finishing(err);
    else this.destroy(err);
  }

  private endOfData(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
  }

  private settle(): void {
    const finishing = this.finishing;
    this.finishing = undefined;
    this.close();
    finishing?.();
  }

  private close(): void {
    if (this.over) return;
    this.over = true;
    this.link.release();
  }

  // ---- Duplex ---------------------------------------------------------------------------------

  override _read(): void {
    // data is pushed as packets arrive: libvirt has no per-stream flow control to ask for more
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.over) return cb(new Error(`${this.description} is closed`));
    for (let at = 0; at < chunk.length; at += STREAM_DATA_MAX) {
      if (!this.link.send(MessageStatus.CONTINUE, chunk.subarray(at, at + STREAM_DATA_MAX))) {
        return cb(new Error(`${this.description}: the libvirt connection is closed`));
      }
    }
    // the connection is shared with every other call: let its queue drain before taking more
    this.link.whenWritable(() => cb());
  }

  /** end(): the finish handshake, OK → OK. */
  override _final(cb: (err?: Error | null) => void): void {
    if (this.over) return cb();
    this.finishing = cb;
    if (!this.link.send(MessageStatus.OK, EMPTY)) return this.settle();
    const timer = setTimeout(() => this.settle(), FINISH_TIMEOUT_MS);
    timer.unref();
    const done = this.finishing;
    this.finishing = (err) => {
      clearTimeout(timer);
      done(err);
    };
  }

  /** destroy() before a finish: abort the stream (an empty ERROR packet), without waiting for the answer. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.over) {
      this.link.send(MessageStatus.ERROR, EMPTY);
      this.close();
    }
    const finishing = this.finishing;
    this.finishing = undefined;
    finishing?.(err);
    cb(err);
  }
}
