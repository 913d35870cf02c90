// A small fake libvirtd on a real unix socket, for the console stream tests: enough of the remote
// program for a LibvirtBackend to connect, look a domain up, read its state and XML, and open its
// console as a stream (DOMAIN_OPEN_CONSOLE, then VIR_NET_STREAM packets). One console holder at a
// time, as QEMU's driver has it: a second SAFE open is refused, FORCE takes it over. The test
// scripts what the guest writes, hang-ups, stream errors and the domain's state. Its temporary
// directory is removed by close().
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { XdrReader, XdrWriter } from '../src/core/libvirt/xdr';
import * as P from '../src/core/libvirt/protocol';

export const FAKE_DOM: P.RemoteDomain = { name: 'fakevm', uuid: P.uuidFromString('1c6d2a9e-4a51-4c57-9d34-0d1f4c5e6a7b'), id: 7 };

export const FAKE_XML = `<domain type='qemu'><name>fakevm</name><devices>
<serial type='pty'><source path='/dev/pts/9'/><target type='isa-serial' port='0'/><alias name='serial0'/></serial>
<serial type='file'><source path='/tmp/x.log'/><target type='isa-serial' port='1'/><alias name='serial1'/></serial>
<console type='pty' tty='/dev/pts/9'><target type='serial' port='0'/><alias name='serial0'/></console>
</devices></domain>`;

export interface ReceivedPacket {
  readonly header: P.MessageHeader;
  readonly body: Buffer;
}

interface Holder {
  readonly socket: net.Socket;
  readonly serial: number;
}

export class FakeLibvirtd {
  readonly socketPath: string;
  /** Every packet any client sent, in order. */
  readonly received: ReceivedPacket[] = [];
  /** Bytes clients wrote to the console. */
  consoleInput = Buffer.alloc(0);
  state: { state: number; reason: number } = { state: P.DomainState.RUNNING, reason: 1 };
  /** Answer console opens with this error instead (code, message). */
  openError: { code: number; message: string } | undefined;
  /** Flags the console was last opened with. */
  lastOpen: P.OpenConsoleArgs | undefined;
  /** Echo console input back, as a tty with echo on does. */
  echo = true;
  private holder: Holder | undefined;
  private readonly sockets = new Set<net.Socket>();
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly dir: string,
    private readonly server: net.Server,
  ) {
    this.socketPath = path.join(dir, 'libvirt-sock');
  }

  static async start(): Promise<FakeLibvirtd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-fake-libvirtd-'));
    const server = net.createServer();
    const fake = new FakeLibvirtd(dir, server);
    server.on('connection', (s) => fake.serve(s));
    await new Promise<void>((resolve) => server.listen(fake.socketPath, resolve));
    return fake;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Resolves once `predicate` holds (checked after every packet). */
  until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fake libvirtd: timed out waiting')), timeoutMs);
      const check = () => {
        if (!predicate()) return this.waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  get consoleHeld(): boolean {
    return this.holder !== undefined;
  }

  /** The guest writes `text` on its console. */
  say(text: string | Buffer): void {
    const h = this.holder;
    if (h) this.streamPacket(h, P.MessageStatus.CONTINUE, Buffer.from(text));
  }

  /** The console device goes away (guest stopped or reset): end of data, as libvirtd sends it. */
  hangup(): void {
    const h = this.holder;
    this.holder = undefined;
    if (h) this.streamPacket(h, P.MessageStatus.CONTINUE, Buffer.alloc(0));
  }

  /** The stream fails on the daemon's side: a STREAM ERROR with a remote_error. */
  streamError(message: string): void {
    const h = this.holder;
    this.holder = undefined;
    if (h) this.streamPacket(h, P.MessageStatus.ERROR, remoteError(P.ErrorCode.INTERNAL_ERROR, message));
  }

  private serve(s: net.Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.holder?.socket === s) this.holder = undefined;
    });
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const header = P.decodeHeader(new XdrReader(buf, 4, 28));
        const body = Buffer.from(buf.subarray(28, len));
        buf = buf.subarray(len);
        this.received.push({ header, body });
        this.handle(s, header, body);
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) w();
      }
    });
  }

  private handle(s: net.Socket, h: P.MessageHeader, body: Buffer): void {
    if (h.prog === P.KEEPALIVE_PROGRAM) return;
    if (h.type === P.MessageType.STREAM) return this.onStream(s, h, body);
    const r = new XdrReader(body);
    const ok = (write: (w: XdrWriter) => void = () => undefined) => s.write(packet({ ...h, type: P.MessageType.REPLY, status: P.MessageStatus.OK }, write));
    switch (h.proc) {
      case P.Proc.AUTH_LIST:
        return void ok((w) => w.uint(0));
      case P.Proc.CONNECT_OPEN:
      case P.Proc.CONNECT_CLOSE:
        return void ok();
      case P.Proc.DOMAIN_LOOKUP_BY_UUID:
      case P.Proc.DOMAIN_LOOKUP_BY_NAME:
        return void ok((w) => P.encodeDomain(w, FAKE_DOM));
      case P.Proc.DOMAIN_GET_STATE:
        return void ok((w) => w.int(this.state.state).int(this.state.reason));
      case P.Proc.DOMAIN_GET_XML_DESC:
        return void ok((w) => w.string(FAKE_XML));
      case P.Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY:
        return void ok((w) => w.int(1));
      case P.Proc.DOMAIN_OPEN_CONSOLE:
        return this.openConsole(s, h, P.decodeOpenConsoleArgs(r));
      default:
        s.write(
          packet({ ...h, type: P.MessageType.REPLY, status: P.MessageStatus.ERROR }, undefined, remoteError(P.ErrorCode.NO_SUPPORT, `fake: proc ${h.proc}`)),
        );
    }
  }

  private openConsole(s: net.Socket, h: P.MessageHeader, args: P.OpenConsoleArgs): void {
    this.lastOpen = args;
    const refuse = (code: number, message: string) =>
      s.write(packet({ ...h, type: P.MessageType.REPLY, status: P.MessageStatus.ERROR }, undefined, remoteError(code, message)));
    if (this.openError) return void refuse(this.openError.code, this.openError.message);
    if (this.state.state !== P.DomainState.RUNNING)
      return void refuse(P.ErrorCode.OPERATION_INVALID, 'Requested operation is not valid: domain is not running');
    if (this.holder && !(args.flags & P.ConsoleFlags.FORCE))
      return void refuse(P.ErrorCode.OPERATION_FAILED, 'operation failed: Active console session exists for this domain');
    if (this.holder) this.hangup(); // taken over: the old holder's stream ends
    // the guest's first bytes may overtake the reply: libvirt queues both from different threads
    this.holder = { socket: s, serial: h.serial };
    this.streamPacket(this.holder, P.MessageStatus.CONTINUE, Buffer.from('early '));
    s.write(packet({ ...h, type: P.MessageType.REPLY, status: P.MessageStatus.OK }));
  }

  private onStream(s: net.Socket, h: P.MessageHeader, body: Buffer): void {
    const mine = this.holder?.socket === s && this.holder.serial === h.serial;
    if (h.status === P.MessageStatus.CONTINUE) {
      if (!mine) return;
      this.consoleInput = Buffer.concat([this.consoleInput, body]);
      if (this.echo) this.say(body);
      return;
    }
    // finish (OK) or abort (ERROR): the daemon lets go and confirms with an empty OK
    if (mine) this.holder = undefined;
    s.write(packet({ ...h, type: P.MessageType.STREAM, status: P.MessageStatus.OK }));
  }

  private streamPacket(h: Holder, status: number, body: Buffer): void {
    h.socket.write(
      packet({ prog: P.REMOTE_PROGRAM, vers: 1, proc: P.Proc.DOMAIN_OPEN_CONSOLE, type: P.MessageType.STREAM, serial: h.serial, status }, undefined, body),
    );
  }
}

/** One packet: length word, header, an XDR body from `write`, then `raw` bytes as they are. */
export function packet(h: P.MessageHeader, write: (w: XdrWriter) => void = () => undefined, raw: Buffer = Buffer.alloc(0)): Buffer {
  const w = new XdrWriter();
  w.uint(0);
  P.encodeHeader(w, h);
  write(w);
  const out = Buffer.concat([Buffer.from(w.finish()), raw]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

/** A remote_error body. */
export function remoteError(code: number, message: string): Buffer {
  const w = new XdrWriter();
  w.int(code)
    .int(10)
    .optional(message, (x, v) => x.string(v))
    .int(2);
  w.uint(0).uint(0).uint(0).uint(0).int(0).int(0).uint(0);
  return Buffer.from(w.finish());
}
