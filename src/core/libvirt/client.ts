// LibvirtClient: libvirt's RPC protocol over any Duplex stream (unix socket today, an SSH
// channel later). Framing, call/reply matching, keepalive, auth, and typed procedures.
//
// Failure model: anything that makes the byte stream untrustworthy (bad length, bad
// header, unknown serial, a reply that does not decode) closes the connection with one
// clear error; every pending call rejects with it and 'close' is emitted with it. A call
// on a closed client rejects at once; every call has a timeout.

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { BackendError } from '../model';
import { XdrError, XdrReader, XdrWriter } from './xdr';
import * as P from './protocol';
import { LibvirtStream } from './stream';

const { Proc, MessageType, MessageStatus } = P;

/** An error reported by libvirt itself: code, domain and message as the daemon sent them. */
export class LibvirtError extends BackendError {
  /** virErrorNumber, e.g. 42 = VIR_ERR_NO_DOMAIN. */
  declare readonly code: number;
  /** virErrorDomain (which part of libvirt raised it). */
  readonly domain: number;
  readonly level: number;
  readonly remote: P.RemoteError;

  constructor(err: P.RemoteError, hint?: string) {
    super(err.message ?? `libvirt error ${err.code}`, err.code, hint);
    this.name = 'LibvirtError';
    this.domain = err.domain;
    this.level = err.level;
    this.remote = err;
  }
}

/** The connection broke or the daemon sent something we cannot trust. */
export class LibvirtConnectionError extends BackendError {
  constructor(message: string, code: string, hint?: string) {
    super(message, code, hint);
    this.name = 'LibvirtConnectionError';
  }
}

export interface LibvirtClientOptions {
  /** Default timeout of every call, ms (0 = none). Default 60 s. */
  callTimeoutMs?: number;
  /** Send a keepalive PING after this much silence, ms (0 = no keepalive). Default 5000. */
  keepaliveIntervalMs?: number;
  /** Declare the daemon dead after this many unanswered PINGs. Default 5. */
  keepaliveCount?: number;
  /**
   * Close the connection when more than this many bytes wait unsent (the daemon does not read),
   * on top of one large call in flight. Default 4 MiB.
   */
  maxQueuedBytes?: number;
}

export interface CallOptions {
  timeoutMs?: number;
}

interface Pending {
  readonly prog: number;
  readonly proc: number;
  readonly decode: (r: XdrReader) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export interface LibvirtClientEvents {
  close: [error: Error | undefined];
  lifecycle: [msg: P.LifecycleEventMsg];
  /** A storage pool was defined, started, stopped, undefined... */
  poolLifecycle: [msg: P.ObjectLifecycleMsg];
  networkLifecycle: [msg: P.ObjectLifecycleMsg];
  /** Any other async message (program, procedure, body reader). */
  message: [header: P.MessageHeader, body: XdrReader];
}

const EMPTY: Buffer = Buffer.alloc(0);
/** Largest value the length word may carry: the message maximum plus the word itself. */
export const MAX_PACKET_LENGTH = P.VIR_NET_MESSAGE_MAX + P.VIR_NET_MESSAGE_LEN_MAX;
export const MIN_PACKET_LENGTH = P.VIR_NET_MESSAGE_LEN_MAX + P.VIR_NET_MESSAGE_HEADER_MAX;
/** Timed-out serials whose late replies are dropped quietly (bounded). */
const EXPIRED_SERIALS_MAX = 1024;
/** A stream's data waits while more than this is queued unsent on the connection. */
const STREAM_QUEUE_MAX = 1024 * 1024;
const DEFAULT_MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export class LibvirtClient extends EventEmitter<LibvirtClientEvents> {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  /** The domains of bulk-stats replies, by position (see DomainCache). */
  private readonly statsDomains = new P.DomainCache();
  private readonly expired = new Set<number>();
  /** Open streams by the serial of the call that opened them. */
  private readonly streams = new Map<number, LibvirtStream>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the packet being assembled, or -1 while waiting for a length word. */
  private expected = -1;
  private closedWith: { error: Error | undefined } | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastReceived = Date.now();
  private unansweredPings = 0;
  private readonly callTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly keepaliveCount: number;
  private readonly maxQueuedBytes: number;
  /** Largest packet queued since the stream last drained: a big call may legitimately wait. */
  private largestQueued = 0;

  constructor(
    private readonly stream: Duplex,
    options: LibvirtClientOptions = {},
  ) {
    super();
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.keepaliveIntervalMs = options.keepaliveIntervalMs ?? 5000;
    this.keepaliveCount = options.keepaliveCount ?? 5;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
    stream.on('close', () => this.onEnd());
    stream.on('drain', () => (this.largestQueued = 0));
    stream.on('error', (err) => this.onStreamError(err));
    if (this.keepaliveIntervalMs > 0) {
      this.keepaliveTimer = setInterval(() => this.keepaliveTick(), this.keepaliveIntervalMs);
      this.keepaliveTimer.unref();
    }
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Number of calls awaiting a reply. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  // ---- framing ----------------------------------------------------------------------

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, k);
        filled += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastReceived = Date.now();
    this.unansweredPings = 0;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.closed) {
      if (this.expected < 0) {
        if (this.buffered < 4) return;
        const len = this.take(4).readUInt32BE(0);
        if (len < MIN_PACKET_LENGTH) {
          return this.protocolError(`packet length ${len} is smaller than the ${MIN_PACKET_LENGTH}-byte minimum (length word + header)`);
        }
        if (len > MAX_PACKET_LENGTH) {
          return this.protocolError(`packet length ${len} exceeds the protocol maximum of ${MAX_PACKET_LENGTH} bytes (VIR_NET_MESSAGE_MAX + length word)`);
        }
        this.expected = len - 4;
      }
      if (this.buffered < this.expected) return;
      const packet = this.take(this.expected);
      this.expected = -1;
      this.onPacket(packet);
    }
  }

  /** "libvirt packet cut short: 12 of 40 bytes received" while a packet is half read, else undefined. */
  private cutShort(): string | undefined {
    if (this.expected >= 0) return `libvirt packet cut short: ${this.buffered + 4} of ${this.expected + 4} bytes received`;
    if (this.buffered > 0) return `libvirt packet cut short: ${this.buffered} of 4 bytes received (inside the length word)`;
    return undefined;
  }

  private onEnd(): void {
    if (this.closed) return;
    const partial = this.cutShort();
    if (partial) {
      this.fail(new LibvirtConnectionError(`${partial}; the daemon closed the connection`, 'EPROTO'));
    } else {
      this.fail(new LibvirtConnectionError('libvirt connection closed by the daemon', 'ECONNRESET'));
    }
  }

  private onStreamError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const partial = this.cutShort();
    if (partial) this.fail(new LibvirtConnectionError(`${partial}; then connection error: ${err.message}`, code));
    else this.fail(new LibvirtConnectionError(`libvirt connection error: ${err.message}`, code));
  }

  private protocolError(detail: string): void {
    this.fail(new LibvirtConnectionError(`libvirt protocol error: ${detail}; connection closed`, 'EPROTO'));
  }

  private onPacket(packet: Buffer): void {
    const h = P.decodeHeader(new XdrReader(packet)); // at least header bytes: checked with the length
    // Offsets in decode errors count from the start of the body.
    const r = new XdrReader(packet.subarray(P.VIR_NET_MESSAGE_HEADER_MAX));
    if (h.prog !== P.REMOTE_PROGRAM && h.prog !== P.QEMU_PROGRAM && h.prog !== P.KEEPALIVE_PROGRAM && h.prog !== P.LXC_PROGRAM) {
      return this.protocolError(`unknown program 0x${h.prog.toString(16)} in packet header (serial ${h.serial}, proc ${h.proc})`);
    }
    if (h.vers !== 1) return this.protocolError(`unsupported version ${h.vers} for ${P.procName(h.prog, h.proc)}`);

    if (h.type === MessageType.MESSAGE) return this.onMessage(h, r);
    if (h.type === MessageType.STREAM) return this.onStreamPacket(h, r, packet.subarray(P.VIR_NET_MESSAGE_HEADER_MAX));
    if (h.type !== MessageType.REPLY) {
      return this.protocolError(`unexpected message type ${h.type} for ${P.procName(h.prog, h.proc)} (serial ${h.serial})`);
    }
    const call = this.pending.get(h.serial);
    if (!call && this.streams.has(h.serial)) return this.onStreamReply(h, r);
    if (!call) {
      if (this.expired.delete(h.serial)) return; // late reply to a call that timed out
      return this.protocolError(`reply for unknown serial ${h.serial} (${P.procName(h.prog, h.proc)})`);
    }
    if (call.prog !== h.prog || call.proc !== h.proc) {
      return this.protocolError(`reply for serial ${h.serial} is ${P.procName(h.prog, h.proc)} but the call was ${P.procName(call.prog, call.proc)}`);
    }
    this.pending.delete(h.serial);
    if (call.timer) clearTimeout(call.timer);

    const name = P.procName(h.prog, h.proc);
    if (h.status === MessageStatus.OK) {
      let value: unknown;
      try {
        value = call.decode(r);
      } catch (e) {
        const err = this.malformed(`reply to ${name} (serial ${h.serial})`, e);
        call.reject(err);
        return this.fail(err);
      }
      call.resolve(value);
    } else if (h.status === MessageStatus.ERROR) {
      let remote: P.RemoteError;
      try {
        remote = P.decodeRemoteError(r);
      } catch (e) {
        const err = this.malformed(`error reply to ${name} (serial ${h.serial})`, e);
        call.reject(err);
        return this.fail(err);
      }
      call.reject(new LibvirtError(remote));
    } else {
      const err = new LibvirtConnectionError(`libvirt protocol error: unexpected status ${h.status} in reply to ${name}; connection closed`, 'EPROTO');
      call.reject(err);
      this.fail(err);
    }
  }

  /** Data, end, finish or error of an open stream; packets of a stream already over are dropped. */
  private onStreamPacket(h: P.MessageHeader, r: XdrReader, body: Buffer): void {
    const stream = this.streams.get(h.serial);
    if (!stream) {
      if (this.expired.has(h.serial)) return; // in flight when we aborted or finished it
      return this.protocolError(`unexpected message type ${h.type} for ${P.procName(h.prog, h.proc)} (serial ${h.serial}): no stream has that serial`);
    }
    if (h.status === MessageStatus.ERROR) {
      let remote: P.RemoteError;
      try {
        remote = P.decodeRemoteError(r);
      } catch (e) {
        return this.fail(this.malformed(`stream error of ${P.procName(h.prog, h.proc)} (serial ${h.serial})`, e));
      }
      return stream.fail(new LibvirtError(remote));
    }
    if (h.status !== MessageStatus.OK && h.status !== MessageStatus.CONTINUE) {
      return this.protocolError(`unexpected status ${h.status} in stream packet of ${P.procName(h.prog, h.proc)} (serial ${h.serial})`);
    }
    stream.receive(h.status, body);
  }

  /** A reply with an open stream's serial after its opening call: the daemon refusing a write, finish or abort. */
  private onStreamReply(h: P.MessageHeader, r: XdrReader): void {
    const stream = this.streams.get(h.serial)!;
    if (h.status !== MessageStatus.ERROR) return stream.receive(MessageStatus.OK, EMPTY);
    let remote: P.RemoteError;
    try {
      remote = P.decodeRemoteError(r);
    } catch (e) {
      return this.fail(this.malformed(`error reply of stream ${P.procName(h.prog, h.proc)} (serial ${h.serial})`, e));
    }
    stream.fail(new LibvirtError(remote));
  }

  private malformed(what: string, e: unknown): Error {
    const detail = e instanceof XdrError ? e.message : String(e);
    return new LibvirtConnectionError(`libvirt protocol error: malformed ${what}: ${detail}; connection closed`, 'EPROTO');
  }

  private onMessage(h: P.MessageHeader, r: XdrReader): void {
    if (h.prog === P.KEEPALIVE_PROGRAM) {
      if (h.proc === P.KeepaliveProc.PING) this.send(P.KEEPALIVE_PROGRAM, P.KEEPALIVE_PROTOCOL_VERSION, P.KeepaliveProc.PONG, MessageType.MESSAGE, 0, EMPTY);
      return; // PONG: any traffic already reset the counter
    }
    if (h.prog === P.REMOTE_PROGRAM && h.proc === Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE) {
      let msg: P.LifecycleEventMsg;
      try {
        msg = P.decodeLifecycleEventMsg(r);
      } catch (e) {
        return this.fail(this.malformed('lifecycle event message', e));
      }
      this.emit('lifecycle', msg);
      return;
    }
    if (h.prog === P.REMOTE_PROGRAM && (h.proc === Proc.STORAGE_POOL_EVENT_LIFECYCLE || h.proc === Proc.NETWORK_EVENT_LIFECYCLE)) {
      const pool = h.proc === Proc.STORAGE_POOL_EVENT_LIFECYCLE;
      let msg: P.ObjectLifecycleMsg;
      try {
        msg = P.decodeObjectLifecycleMsg(r, pool ? 'pool' : 'network');
      } catch (e) {
        return this.fail(this.malformed(`${pool ? 'storage pool' : 'network'} event message`, e));
      }
      this.emit(pool ? 'poolLifecycle' : 'networkLifecycle', msg);
      return;
    }
    this.emit('message', h, r);
  }

  // ---- keepalive --------------------------------------------------------------------

  private keepaliveTick(): void {
    if (this.closed) return;
    if (Date.now() - this.lastReceived < this.keepaliveIntervalMs) return;
    if (this.unansweredPings >= this.keepaliveCount) {
      const secs = Math.round((Date.now() - this.lastReceived) / 1000);
      const partial = this.cutShort();
      const message = partial
        ? `${partial}, then nothing for ${secs} s (${this.unansweredPings} keepalive pings unanswered); connection closed`
        : `libvirt daemon did not answer ${this.unansweredPings} keepalive pings (silent for ${secs} s); connection closed`;
      this.fail(new LibvirtConnectionError(message, 'ETIMEDOUT'));
      return;
    }
    this.unansweredPings++;
    this.send(P.KEEPALIVE_PROGRAM, P.KEEPALIVE_PROTOCOL_VERSION, P.KeepaliveProc.PING, MessageType.MESSAGE, 0, EMPTY);
  }

  // ---- calls ------------------------------------------------------------------------

  private send(prog: number, vers: number, proc: number, type: number, serial: number, body: Buffer, status: number = MessageStatus.OK): void {
    const w = new XdrWriter(4 + P.VIR_NET_MESSAGE_HEADER_MAX + body.length);
    w.uint(0);
    P.encodeHeader(w, { prog, vers, proc, type, serial, status });
    const packet = Buffer.concat([w.finish(), body]);
    packet.writeUInt32BE(packet.length, 0);
    // Every PING gets a PONG: a daemon that sends but never reads would grow this queue forever.
    const queued = this.stream.writableLength;
    if (queued > this.maxQueuedBytes + this.largestQueued) {
      this.fail(
        new LibvirtConnectionError(
          `the daemon is not reading: ${queued} bytes queued unsent, closing`,
          'ENOBUFS',
          'The libvirt daemon is hung or overloaded; check it (systemctl status libvirtd) and restart it if it stays so.',
        ),
      );
      return;
    }
    if (!this.stream.write(packet)) this.largestQueued = Math.max(this.largestQueued, packet.length);
  }

  /** Low-level call: `encode` writes the args, `decode` reads the reply inside the receive path. */
  callProgram<T>(
    prog: number,
    vers: number,
    proc: number,
    encode: ((w: XdrWriter) => void) | undefined,
    decode: (r: XdrReader) => T,
    options: CallOptions = {},
  ): Promise<T> {
    return this.invoke(prog, vers, proc, encode, decode, options);
  }

  /** `beforeSend` learns the call's serial before a byte is sent (a stream must be listening by then). */
  private invoke<T>(
    prog: number,
    vers: number,
    proc: number,
    encode: ((w: XdrWriter) => void) | undefined,
    decode: (r: XdrReader) => T,
    options: CallOptions,
    beforeSend?: (serial: number) => void,
  ): Promise<T> {
    const name = P.procName(prog, proc);
    if (this.closedWith) {
      const cause = this.closedWith.error;
      return Promise.reject(
        new LibvirtConnectionError(`cannot call ${name}: the libvirt connection is closed${cause ? ` (${cause.message})` : ''}`, 'ECLOSED'),
      );
    }
    let body: Buffer = EMPTY;
    if (encode) {
      const w = new XdrWriter();
      try {
        encode(w);
      } catch (e) {
        return Promise.reject(new BackendError(`cannot encode arguments of ${name}: ${(e as Error).message}`, 'EINVAL'));
      }
      body = w.finish();
    }
    if (body.length + P.VIR_NET_MESSAGE_HEADER_MAX > P.VIR_NET_MESSAGE_MAX) {
      return Promise.reject(
        new BackendError(`arguments of ${name} are ${body.length} bytes, more than libvirt's message maximum ${P.VIR_NET_MESSAGE_MAX}`, 'E2BIG'),
      );
    }
    this.serial = (this.serial + 1) >>> 0;
    const serial = this.serial;
    return new Promise<T>((resolve, reject) => {
      const call: Pending = { prog, proc, decode, resolve: resolve as (v: unknown) => void, reject };
      const timeoutMs = options.timeoutMs ?? this.callTimeoutMs;
      if (timeoutMs > 0) {
        call.timer = setTimeout(() => {
          if (this.pending.get(serial) !== call) return;
          this.pending.delete(serial);
          this.expired.add(serial);
          if (this.expired.size > EXPIRED_SERIALS_MAX) this.expired.delete(this.expired.values().next().value as number);
          reject(new LibvirtConnectionError(`libvirt call ${name} timed out after ${timeoutMs} ms`, 'ETIMEDOUT'));
        }, timeoutMs);
      }
      this.pending.set(serial, call);
      beforeSend?.(serial);
      this.send(prog, vers, proc, MessageType.CALL, serial, body);
    });
  }

  /**
   * Calls a procedure that opens a stream (DOMAIN_OPEN_CONSOLE, …) and resolves with the stream once
   * the daemon accepted; data the daemon sends before that reply is kept for the reader.
   */
  openStream(proc: number, encode: (w: XdrWriter) => void, description: string, options?: CallOptions): Promise<LibvirtStream> {
    const prog = P.REMOTE_PROGRAM;
    const vers = P.REMOTE_PROTOCOL_VERSION;
    let stream: LibvirtStream | undefined;
    const opened = this.invoke(
      prog,
      vers,
      proc,
      encode,
      () => undefined,
      options ?? {},
      (serial) => {
        stream = new LibvirtStream(
          {
            send: (status, body) => {
              if (this.closed) return false;
              this.send(prog, vers, proc, MessageType.STREAM, serial, body, status);
              return !this.closed;
            },
            whenWritable: (cb) => {
              if (this.closed || this.stream.writableLength <= STREAM_QUEUE_MAX) return cb();
              let called = false;
              const once = () => {
                if (called) return;
                called = true;
                this.stream.off('drain', once);
                this.off('close', once);
                cb();
              };
              this.stream.on('drain', once);
              this.on('close', once);
            },
            release: () => {
              if (this.streams.get(serial) !== stream) return;
              this.streams.delete(serial);
              this.expired.add(serial);
              if (this.expired.size > EXPIRED_SERIALS_MAX) this.expired.delete(this.expired.values().next().value as number);
            },
          },
          description,
        );
        this.streams.set(serial, stream);
      },
    );
    return opened.then(
      () => stream!,
      (e: Error) => {
        // refused: the daemon made no stream, so nothing is sent to end it
        if (stream) {
          const s = stream;
          s.on('error', () => undefined);
          s.fail(e);
        }
        throw e;
      },
    );
  }

  /** A call in the remote program. */
  call<T>(proc: number, encode: ((w: XdrWriter) => void) | undefined, decode: (r: XdrReader) => T, options?: CallOptions): Promise<T> {
    return this.callProgram(P.REMOTE_PROGRAM, P.REMOTE_PROTOCOL_VERSION, proc, encode, decode, options);
  }

  /** Close the connection now: pending calls reject with `error` (or a "closed" error). */
  destroy(error?: Error): void {
    this.fail(error, true);
  }

  private fail(error: Error | undefined, byUs = false): void {
    if (this.closedWith) return;
    this.closedWith = { error };
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    const pendingError = error ?? new LibvirtConnectionError(byUs ? 'libvirt connection closed by the client' : 'libvirt connection closed', 'ECLOSED');
    for (const [, call] of this.pending) {
      if (call.timer) clearTimeout(call.timer);
      call.reject(pendingError);
    }
    this.pending.clear();
    for (const stream of [...this.streams.values()]) stream.fail(pendingError);
    this.streams.clear();
    this.chunks = [];
    this.buffered = 0;
    this.stream.destroy();
    this.emit('close', error);
  }

  // ---- auth and connection ----------------------------------------------------------

  authList(): Promise<number[]> {
    return this.call(Proc.AUTH_LIST, undefined, P.decodeAuthList);
  }

  authPolkit(): Promise<boolean> {
    return this.call(Proc.AUTH_POLKIT, undefined, (r) => r.int('polkit complete') !== 0);
  }

  /**
   * Authenticate as libvirt's client does over a unix socket: none, or polkit (the daemon
   * checks our uid via SO_PEERCRED). SASL is refused with a clear error.
   */
  async authenticate(): Promise<number> {
    const types = await this.authList();
    if (types.length === 0 || types.includes(P.AuthType.NONE)) return P.AuthType.NONE;
    if (types.includes(P.AuthType.POLKIT)) {
      await this.authPolkit();
      return P.AuthType.POLKIT;
    }
    const names = types.map((t) => (t === P.AuthType.SASL ? 'sasl' : `type ${t}`)).join(', ');
    throw new BackendError(
      `the libvirt daemon requires ${names} authentication, which virtscope does not support`,
      'EAUTH',
      'Connect through the local unix socket with auth_unix_rw = "none" or "polkit" in libvirtd.conf (the default for root).',
    );
  }

  connectOpen(name: string | null, flags = 0): Promise<void> {
    return this.call(
      Proc.CONNECT_OPEN,
      (w) => w.optional(name, (x, v) => x.string(v, P.REMOTE_STRING_MAX)).uint(flags),
      () => undefined,
    );
  }

  /** CONNECT_CLOSE, then close the stream. Never throws. */
  async connectClose(options: CallOptions = { timeoutMs: 5000 }): Promise<void> {
    if (this.closed) return;
    try {
      await this.call(Proc.CONNECT_CLOSE, undefined, () => undefined, options);
    } catch {
      // closing anyway
    }
    this.destroy();
  }

  getHostname(): Promise<string> {
    return this.call(Proc.CONNECT_GET_HOSTNAME, undefined, (r) => r.string(P.REMOTE_STRING_MAX, 'hostname'));
  }

  getUri(): Promise<string> {
    return this.call(Proc.CONNECT_GET_URI, undefined, (r) => r.string(P.REMOTE_STRING_MAX, 'uri'));
  }

  /** Hypervisor version, major * 1e6 + minor * 1e3 + micro. */
  getVersion(): Promise<number> {
    return this.call(Proc.CONNECT_GET_VERSION, undefined, (r) => r.uhyperNumber('hv_ver'));
  }

  /** libvirt (daemon library) version, major * 1e6 + minor * 1e3 + micro. */
  getLibVersion(): Promise<number> {
    return this.call(Proc.CONNECT_GET_LIB_VERSION, undefined, (r) => r.uhyperNumber('lib_ver'));
  }

  // ---- domains ----------------------------------------------------------------------

  listAllDomains(flags = 0): Promise<P.RemoteDomain[]> {
    return this.call(Proc.CONNECT_LIST_ALL_DOMAINS, (w) => w.int(1).uint(flags), P.decodeListAllDomains);
  }

  domainLookupByName(name: string): Promise<P.RemoteDomain> {
    return this.call(Proc.DOMAIN_LOOKUP_BY_NAME, (w) => w.string(name, P.REMOTE_STRING_MAX), P.decodeDomain);
  }

  /** `uuid` as 16 bytes or the usual 36-character text. */
  domainLookupByUUID(uuid: Uint8Array | string): Promise<P.RemoteDomain> {
    const raw = typeof uuid === 'string' ? P.uuidFromString(uuid) : uuid;
    return this.call(Proc.DOMAIN_LOOKUP_BY_UUID, (w) => w.fixedOpaque(raw, P.VIR_UUID_BUFLEN), P.decodeDomain);
  }

  domainGetInfo(dom: P.RemoteDomain): Promise<P.DomainInfo> {
    return this.call(Proc.DOMAIN_GET_INFO, (w) => P.encodeDomain(w, dom), P.decodeDomainInfo);
  }

  domainGetState(dom: P.RemoteDomain, flags = 0): Promise<{ state: number; reason: number }> {
    return this.call(
      Proc.DOMAIN_GET_STATE,
      (w) => (P.encodeDomain(w, dom), w.uint(flags)),
      (r) => ({ state: r.int('state'), reason: r.int('reason') }),
    );
  }

  domainIsPersistent(dom: P.RemoteDomain): Promise<boolean> {
    return this.call(
      Proc.DOMAIN_IS_PERSISTENT,
      (w) => P.encodeDomain(w, dom),
      (r) => r.int('persistent') === 1,
    );
  }

  domainIsActive(dom: P.RemoteDomain): Promise<boolean> {
    return this.call(
      Proc.DOMAIN_IS_ACTIVE,
      (w) => P.encodeDomain(w, dom),
      (r) => r.int('active') === 1,
    );
  }

  domainGetXMLDesc(dom: P.RemoteDomain, flags = 0): Promise<string> {
    return this.call(
      Proc.DOMAIN_GET_XML_DESC,
      (w) => (P.encodeDomain(w, dom), w.uint(flags)),
      (r) => r.string(P.REMOTE_STRING_MAX, 'xml'),
    );
  }

  domainDefineXMLFlags(xml: string, flags = 0): Promise<P.RemoteDomain> {
    return this.call(Proc.DOMAIN_DEFINE_XML_FLAGS, (w) => w.string(xml, P.REMOTE_STRING_MAX).uint(flags), P.decodeDomain);
  }

  private domainVoid(proc: number, dom: P.RemoteDomain, flags?: number, options?: CallOptions): Promise<void> {
    return this.call(
      proc,
      (w) => {
        P.encodeDomain(w, dom);
        if (flags !== undefined) w.uint(flags);
      },
      () => undefined,
      options,
    );
  }

  domainCreate(dom: P.RemoteDomain, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_CREATE, dom, undefined, options);
  }

  domainShutdown(dom: P.RemoteDomain, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_SHUTDOWN, dom, undefined, options);
  }

  domainReboot(dom: P.RemoteDomain, flags = 0, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_REBOOT, dom, flags, options);
  }

  domainDestroy(dom: P.RemoteDomain, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_DESTROY, dom, undefined, options);
  }

  domainSuspend(dom: P.RemoteDomain, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_SUSPEND, dom, undefined, options);
  }

  domainResume(dom: P.RemoteDomain, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_RESUME, dom, undefined, options);
  }

  domainPMWakeup(dom: P.RemoteDomain, flags = 0, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_PM_WAKEUP, dom, flags, options);
  }

  domainUndefine(dom: P.RemoteDomain, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_UNDEFINE, dom, undefined, options);
  }

  domainUndefineFlags(dom: P.RemoteDomain, flags: number, options?: CallOptions): Promise<void> {
    return this.domainVoid(Proc.DOMAIN_UNDEFINE_FLAGS, dom, flags, options);
  }

  /**
   * The domain's console (or the character device with alias `devName`) as a stream: what the
   * guest writes arrives as data, what is written goes to the guest. ConsoleFlags.SAFE refuses
   * when another client holds it; FORCE takes it over.
   */
  domainOpenConsole(dom: P.RemoteDomain, devName: string | null, flags: number, options?: CallOptions): Promise<LibvirtStream> {
    return this.openStream(
      Proc.DOMAIN_OPEN_CONSOLE,
      (w) => P.encodeOpenConsoleArgs(w, { dom, devName, flags }),
      `console${devName ? ` ${devName}` : ''} of ${dom.name}`,
      options,
    );
  }

  // ---- statistics -------------------------------------------------------------------

  /** Bulk stats: `doms` empty = every domain (filtered by `flags`). */
  connectGetAllDomainStats(doms: readonly P.RemoteDomain[], stats: number, flags = 0, options?: CallOptions): Promise<P.DomainStatsRecord[]> {
    return this.call(
      Proc.CONNECT_GET_ALL_DOMAIN_STATS,
      (w) =>
        w
          .array(doms, (x, d) => P.encodeDomain(x, d), P.REMOTE_DOMAIN_LIST_MAX)
          .uint(stats)
          .uint(flags >>> 0),
      (r) => P.decodeAllDomainStats(r, this.statsDomains),
      options,
    );
  }

  domainMemoryStats(dom: P.RemoteDomain, maxStats = P.VIR_DOMAIN_MEMORY_STAT_NR, flags = 0): Promise<P.MemoryStat[]> {
    return this.call(Proc.DOMAIN_MEMORY_STATS, (w) => (P.encodeDomain(w, dom), w.uint(maxStats).uint(flags)), P.decodeMemoryStats);
  }

  domainBlockStats(dom: P.RemoteDomain, path: string): Promise<P.BlockStats> {
    return this.call(Proc.DOMAIN_BLOCK_STATS, (w) => (P.encodeDomain(w, dom), w.string(path, P.REMOTE_STRING_MAX)), P.decodeBlockStats);
  }

  domainInterfaceStats(dom: P.RemoteDomain, device: string): Promise<P.InterfaceStats> {
    return this.call(Proc.DOMAIN_INTERFACE_STATS, (w) => (P.encodeDomain(w, dom), w.string(device, P.REMOTE_STRING_MAX)), P.decodeInterfaceStats);
  }

  // ---- events -----------------------------------------------------------------------

  /** Register for `eventID` on one domain or (dom = null) all; events arrive as 'lifecycle'/'message'. */
  domainEventCallbackRegisterAny(eventID: number, dom: P.RemoteDomain | null = null): Promise<number> {
    return this.call(
      Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
      (w) => w.int(eventID).optional(dom, (x, d) => P.encodeDomain(x, d)),
      (r) => r.int('callbackID'),
    );
  }

  domainEventCallbackDeregisterAny(callbackID: number): Promise<void> {
    return this.call(
      Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
      (w) => w.int(callbackID),
      () => undefined,
    );
  }

  /** Register for `eventID` on one storage pool or (null) all; events arrive as 'poolLifecycle'. */
  storagePoolEventRegisterAny(eventID: number, pool: P.RemotePool | null = null): Promise<number> {
    return this.call(
      Proc.CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY,
      (w) => w.int(eventID).optional(pool, (x, p) => P.encodeNamed(x, p)),
      (r) => r.int('callbackID'),
    );
  }

  storagePoolEventDeregisterAny(callbackID: number): Promise<void> {
    return this.call(
      Proc.CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY,
      (w) => w.int(callbackID),
      () => undefined,
    );
  }

  /** Register for `eventID` on one network or (null) all; events arrive as 'networkLifecycle'. */
  networkEventRegisterAny(eventID: number, net: P.RemoteNetwork | null = null): Promise<number> {
    return this.call(
      Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY,
      (w) => w.int(eventID).optional(net, (x, n) => P.encodeNamed(x, n)),
      (r) => r.int('callbackID'),
    );
  }

  networkEventDeregisterAny(callbackID: number): Promise<void> {
    return this.call(
      Proc.CONNECT_NETWORK_EVENT_DEREGISTER_ANY,
      (w) => w.int(callbackID),
      () => undefined,
    );
  }

  // ---- snapshots --------------------------------------------------------------------

  domainSnapshotCreateXML(dom: P.RemoteDomain, xml: string, flags = 0, options?: CallOptions): Promise<P.RemoteSnapshot> {
    return this.call(
      Proc.DOMAIN_SNAPSHOT_CREATE_XML,
      (w) => (P.encodeDomain(w, dom), w.string(xml, P.REMOTE_STRING_MAX).uint(flags >>> 0)),
      P.decodeSnapshot,
      options,
    );
  }

  /** Every snapshot of `dom` (filtered by P.SnapshotListFlags). */
  domainListAllSnapshots(dom: P.RemoteDomain, flags = 0): Promise<P.RemoteSnapshot[]> {
    return this.call(Proc.DOMAIN_LIST_ALL_SNAPSHOTS, (w) => (P.encodeDomain(w, dom), w.int(1).uint(flags >>> 0)), P.decodeSnapshotList);
  }

  /** The children of `snap` (all descendants with P.SnapshotListFlags.DESCENDANTS). */
  snapshotListAllChildren(snap: P.RemoteSnapshot, flags = 0): Promise<P.RemoteSnapshot[]> {
    return this.call(Proc.DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN, (w) => (P.encodeSnapshot(w, snap), w.int(1).uint(flags >>> 0)), P.decodeSnapshotList);
  }

  snapshotGetXMLDesc(snap: P.RemoteSnapshot, flags = 0): Promise<string> {
    return this.call(
      Proc.DOMAIN_SNAPSHOT_GET_XML_DESC,
      (w) => (P.encodeSnapshot(w, snap), w.uint(flags)),
      (r) => r.string(P.REMOTE_STRING_MAX, 'snapshot xml'),
    );
  }

  snapshotLookupByName(dom: P.RemoteDomain, name: string): Promise<P.RemoteSnapshot> {
    return this.call(Proc.DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, (w) => (P.encodeDomain(w, dom), w.string(name, P.REMOTE_STRING_MAX).uint(0)), P.decodeSnapshot);
  }

  domainHasCurrentSnapshot(dom: P.RemoteDomain): Promise<boolean> {
    return this.call(
      Proc.DOMAIN_HAS_CURRENT_SNAPSHOT,
      (w) => (P.encodeDomain(w, dom), w.uint(0)),
      (r) => r.int('has current') === 1,
    );
  }

  /** The current snapshot; libvirt answers NO_DOMAIN_SNAPSHOT when there is none. */
  snapshotCurrent(dom: P.RemoteDomain): Promise<P.RemoteSnapshot> {
    return this.call(Proc.DOMAIN_SNAPSHOT_CURRENT, (w) => (P.encodeDomain(w, dom), w.uint(0)), P.decodeSnapshot);
  }

  /** The parent; libvirt answers NO_DOMAIN_SNAPSHOT for a root. */
  snapshotGetParent(snap: P.RemoteSnapshot): Promise<P.RemoteSnapshot> {
    return this.call(Proc.DOMAIN_SNAPSHOT_GET_PARENT, (w) => (P.encodeSnapshot(w, snap), w.uint(0)), P.decodeSnapshot);
  }

  revertToSnapshot(snap: P.RemoteSnapshot, flags = 0, options?: CallOptions): Promise<void> {
    return this.call(
      Proc.DOMAIN_REVERT_TO_SNAPSHOT,
      (w) => (P.encodeSnapshot(w, snap), w.uint(flags)),
      () => undefined,
      options,
    );
  }

  snapshotDelete(snap: P.RemoteSnapshot, flags = 0, options?: CallOptions): Promise<void> {
    return this.call(
      Proc.DOMAIN_SNAPSHOT_DELETE,
      (w) => (P.encodeSnapshot(w, snap), w.uint(flags)),
      () => undefined,
      options,
    );
  }

  // ---- networks ---------------------------------------------------------------------

  listAllNetworks(flags = 0): Promise<P.RemoteNetwork[]> {
    return this.call(
      Proc.CONNECT_LIST_ALL_NETWORKS,
      (w) => w.int(1).uint(flags),
      (r) => P.decodeNamedList(r, P.REMOTE_NETWORK_LIST_MAX, 'network'),
    );
  }

  networkLookupByName(name: string): Promise<P.RemoteNetwork> {
    return this.call(
      Proc.NETWORK_LOOKUP_BY_NAME,
      (w) => w.string(name, P.REMOTE_STRING_MAX),
      (r) => P.decodeNamed(r, 'network'),
    );
  }

  networkGetXMLDesc(net: P.RemoteNetwork, flags = 0): Promise<string> {
    return this.call(
      Proc.NETWORK_GET_XML_DESC,
      (w) => (P.encodeNamed(w, net), w.uint(flags)),
      (r) => r.string(P.REMOTE_STRING_MAX, 'network xml'),
    );
  }

  networkIsActive(net: P.RemoteNetwork): Promise<boolean> {
    return this.call(
      Proc.NETWORK_IS_ACTIVE,
      (w) => P.encodeNamed(w, net),
      (r) => r.int('active') === 1,
    );
  }

  networkGetAutostart(net: P.RemoteNetwork): Promise<boolean> {
    return this.call(
      Proc.NETWORK_GET_AUTOSTART,
      (w) => P.encodeNamed(w, net),
      (r) => r.int('autostart') !== 0,
    );
  }

  networkSetAutostart(net: P.RemoteNetwork, on: boolean): Promise<void> {
    return this.call(
      Proc.NETWORK_SET_AUTOSTART,
      (w) => (P.encodeNamed(w, net), w.int(on ? 1 : 0)),
      () => undefined,
    );
  }

  networkGetBridgeName(net: P.RemoteNetwork): Promise<string> {
    return this.call(
      Proc.NETWORK_GET_BRIDGE_NAME,
      (w) => P.encodeNamed(w, net),
      (r) => r.string(P.REMOTE_STRING_MAX, 'bridge name'),
    );
  }

  networkDefineXML(xml: string): Promise<P.RemoteNetwork> {
    return this.call(
      Proc.NETWORK_DEFINE_XML,
      (w) => w.string(xml, P.REMOTE_STRING_MAX),
      (r) => P.decodeNamed(r, 'network'),
    );
  }

  private netVoid(proc: number, net: P.RemoteNetwork): Promise<void> {
    return this.call(
      proc,
      (w) => P.encodeNamed(w, net),
      () => undefined,
    );
  }

  networkCreate(net: P.RemoteNetwork): Promise<void> {
    return this.netVoid(Proc.NETWORK_CREATE, net);
  }

  networkDestroy(net: P.RemoteNetwork): Promise<void> {
    return this.netVoid(Proc.NETWORK_DESTROY, net);
  }

  networkUndefine(net: P.RemoteNetwork): Promise<void> {
    return this.netVoid(Proc.NETWORK_UNDEFINE, net);
  }

  /** DHCP leases of `net` (`mac` null = all). */
  networkGetDhcpLeases(net: P.RemoteNetwork, mac: string | null = null): Promise<P.DhcpLease[]> {
    return this.call(
      Proc.NETWORK_GET_DHCP_LEASES,
      (w) => (
        P.encodeNamed(w, net),
        w
          .optional(mac, (x, v) => x.string(v, P.REMOTE_STRING_MAX))
          .int(1)
          .uint(0)
      ),
      P.decodeDhcpLeases,
    );
  }

  // ---- storage ----------------------------------------------------------------------

  listAllStoragePools(flags = 0): Promise<P.RemotePool[]> {
    return this.call(
      Proc.CONNECT_LIST_ALL_STORAGE_POOLS,
      (w) => w.int(1).uint(flags),
      (r) => P.decodeNamedList(r, P.REMOTE_STORAGE_POOL_LIST_MAX, 'pool'),
    );
  }

  storagePoolLookupByName(name: string): Promise<P.RemotePool> {
    return this.call(
      Proc.STORAGE_POOL_LOOKUP_BY_NAME,
      (w) => w.string(name, P.REMOTE_STRING_MAX),
      (r) => P.decodeNamed(r, 'pool'),
    );
  }

  storagePoolGetInfo(pool: P.RemotePool): Promise<P.PoolInfo> {
    return this.call(Proc.STORAGE_POOL_GET_INFO, (w) => P.encodeNamed(w, pool), P.decodePoolInfo);
  }

  storagePoolGetXMLDesc(pool: P.RemotePool, flags = 0): Promise<string> {
    return this.call(
      Proc.STORAGE_POOL_GET_XML_DESC,
      (w) => (P.encodeNamed(w, pool), w.uint(flags)),
      (r) => r.string(P.REMOTE_STRING_MAX, 'pool xml'),
    );
  }

  storagePoolGetAutostart(pool: P.RemotePool): Promise<boolean> {
    return this.call(
      Proc.STORAGE_POOL_GET_AUTOSTART,
      (w) => P.encodeNamed(w, pool),
      (r) => r.int('autostart') !== 0,
    );
  }

  storagePoolSetAutostart(pool: P.RemotePool, on: boolean): Promise<void> {
    return this.call(
      Proc.STORAGE_POOL_SET_AUTOSTART,
      (w) => (P.encodeNamed(w, pool), w.int(on ? 1 : 0)),
      () => undefined,
    );
  }

  storagePoolDefineXML(xml: string, flags = 0): Promise<P.RemotePool> {
    return this.call(
      Proc.STORAGE_POOL_DEFINE_XML,
      (w) => w.string(xml, P.REMOTE_STRING_MAX).uint(flags),
      (r) => P.decodeNamed(r, 'pool'),
    );
  }

  private poolVoid(proc: number, pool: P.RemotePool, flags?: number): Promise<void> {
    return this.call(
      proc,
      (w) => (P.encodeNamed(w, pool), flags === undefined ? w : w.uint(flags)),
      () => undefined,
    );
  }

  storagePoolBuild(pool: P.RemotePool, flags = 0): Promise<void> {
    return this.poolVoid(Proc.STORAGE_POOL_BUILD, pool, flags);
  }

  storagePoolCreate(pool: P.RemotePool, flags = 0): Promise<void> {
    return this.poolVoid(Proc.STORAGE_POOL_CREATE, pool, flags);
  }

  storagePoolDestroy(pool: P.RemotePool): Promise<void> {
    return this.poolVoid(Proc.STORAGE_POOL_DESTROY, pool);
  }

  storagePoolDelete(pool: P.RemotePool, flags = 0): Promise<void> {
    return this.poolVoid(Proc.STORAGE_POOL_DELETE, pool, flags);
  }

  storagePoolUndefine(pool: P.RemotePool): Promise<void> {
    return this.poolVoid(Proc.STORAGE_POOL_UNDEFINE, pool);
  }

  storagePoolRefresh(pool: P.RemotePool): Promise<void> {
    return this.poolVoid(Proc.STORAGE_POOL_REFRESH, pool, 0);
  }

  storagePoolListAllVolumes(pool: P.RemotePool, flags = 0): Promise<P.RemoteVolume[]> {
    return this.call(Proc.STORAGE_POOL_LIST_ALL_VOLUMES, (w) => (P.encodeNamed(w, pool), w.int(1).uint(flags)), P.decodeVolumeList);
  }

  /** A stream that writes `length` bytes (0: to the end of the data sent) into `vol` from `offset`. */
  storageVolUpload(vol: P.RemoteVolume, offset: number, length: number, flags = 0): Promise<LibvirtStream> {
    const args = (w: XdrWriter) => (P.encodeVolume(w, vol), w.uhyper(offset).uhyper(length).uint(flags));
    return this.openStream(Proc.STORAGE_VOL_UPLOAD, args, `upload into volume ${vol.name}`);
  }

  /** A stream that reads `length` bytes (0: all) of `vol` from `offset`. */
  storageVolDownload(vol: P.RemoteVolume, offset: number, length: number, flags = 0): Promise<LibvirtStream> {
    const args = (w: XdrWriter) => (P.encodeVolume(w, vol), w.uhyper(offset).uhyper(length).uint(flags));
    return this.openStream(Proc.STORAGE_VOL_DOWNLOAD, args, `download of volume ${vol.name}`);
  }

  storageVolLookupByName(pool: P.RemotePool, name: string): Promise<P.RemoteVolume> {
    return this.call(Proc.STORAGE_VOL_LOOKUP_BY_NAME, (w) => (P.encodeNamed(w, pool), w.string(name, P.REMOTE_STRING_MAX)), P.decodeVolume);
  }

  /** The volume whose target is `path` (libvirt answers NO_STORAGE_VOL when no pool holds it). */
  storageVolLookupByPath(path: string): Promise<P.RemoteVolume> {
    return this.call(Proc.STORAGE_VOL_LOOKUP_BY_PATH, (w) => w.string(path, P.REMOTE_STRING_MAX), P.decodeVolume);
  }

  storageVolGetInfo(vol: P.RemoteVolume): Promise<P.VolumeInfo> {
    return this.call(Proc.STORAGE_VOL_GET_INFO, (w) => P.encodeVolume(w, vol), P.decodeVolumeInfo);
  }

  storageVolGetXMLDesc(vol: P.RemoteVolume, flags = 0): Promise<string> {
    return this.call(
      Proc.STORAGE_VOL_GET_XML_DESC,
      (w) => (P.encodeVolume(w, vol), w.uint(flags)),
      (r) => r.string(P.REMOTE_STRING_MAX, 'volume xml'),
    );
  }

  storageVolGetPath(vol: P.RemoteVolume): Promise<string> {
    return this.call(
      Proc.STORAGE_VOL_GET_PATH,
      (w) => P.encodeVolume(w, vol),
      (r) => r.string(P.REMOTE_STRING_MAX, 'volume path'),
    );
  }

  storageVolCreateXML(pool: P.RemotePool, xml: string, flags = 0, options?: CallOptions): Promise<P.RemoteVolume> {
    return this.call(Proc.STORAGE_VOL_CREATE_XML, (w) => (P.encodeNamed(w, pool), w.string(xml, P.REMOTE_STRING_MAX).uint(flags)), P.decodeVolume, options);
  }

  /** A new volume in `pool` from `xml`, its data copied from `from`. */
  storageVolCreateXMLFrom(pool: P.RemotePool, xml: string, from: P.RemoteVolume, flags = 0, options?: CallOptions): Promise<P.RemoteVolume> {
    return this.call(
      Proc.STORAGE_VOL_CREATE_XML_FROM,
      (w) => (P.encodeNamed(w, pool), w.string(xml, P.REMOTE_STRING_MAX), P.encodeVolume(w, from), w.uint(flags)),
      P.decodeVolume,
      options,
    );
  }

  storageVolDelete(vol: P.RemoteVolume, flags = 0): Promise<void> {
    return this.call(
      Proc.STORAGE_VOL_DELETE,
      (w) => (P.encodeVolume(w, vol), w.uint(flags)),
      () => undefined,
    );
  }

  // ---- qemu program -----------------------------------------------------------------

  /**
   * QEMU monitor command (qemu_monitor_command_args: dom, cmd, flags → result). With
   * QemuMonitorCommandFlags.HMP the command is HMP text ("info trace-events") and so is the result.
   */
  domainMonitorCommand(dom: P.RemoteDomain, command: string, flags = 0, options?: CallOptions): Promise<string> {
    return this.callProgram(
      P.QEMU_PROGRAM,
      P.QEMU_PROTOCOL_VERSION,
      P.QemuProc.DOMAIN_MONITOR_COMMAND,
      (w) => (P.encodeDomain(w, dom), w.string(command, P.REMOTE_STRING_MAX).uint(flags)),
      (r) => r.string(P.REMOTE_STRING_MAX, 'monitor result'),
      options,
    );
  }

  /**
   * qemu-guest-agent command (JSON text in, JSON text out). `agentTimeoutSec` is libvirt's
   * own wait: -2 block, -1 default, 0 no wait, >0 seconds.
   */
  domainAgentCommand(dom: P.RemoteDomain, command: string, agentTimeoutSec = -1, flags = 0, options?: CallOptions): Promise<string | null> {
    return this.callProgram(
      P.QEMU_PROGRAM,
      P.QEMU_PROTOCOL_VERSION,
      P.QemuProc.DOMAIN_AGENT_COMMAND,
      (w) => (P.encodeDomain(w, dom), w.string(command, P.REMOTE_STRING_MAX).int(agentTimeoutSec).uint(flags)),
      (r) => r.optional((x) => x.string(P.REMOTE_STRING_MAX, 'agent result'), 'agent result'),
      options,
    );
  }
}
