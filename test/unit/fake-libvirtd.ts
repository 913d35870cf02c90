// A small scripted libvirtd for unit tests: decodes each CALL the client sends over a Duplex pair and
// answers it from a per-procedure handler (a reply body or a libvirt error). Records every call so a
// test can check what reached the daemon and what did not.
import { Duplex, PassThrough } from 'node:stream';
import { LibvirtClient } from '../../src/core/libvirt/client';
import * as P from '../../src/core/libvirt/protocol';
import { XdrReader, XdrWriter } from '../../src/core/libvirt/xdr';

export type Answer = ((w: XdrWriter) => void) | { error: number; message: string };
export type Handler = (args: XdrReader) => Answer;

export interface SeenCall {
  readonly proc: number;
  /** The raw argument bytes. */
  readonly body: Buffer;
}

export function fakeLibvirtd(handlers: Partial<Record<number, Handler>>) {
  const toClient = new PassThrough();
  const fromClient = new PassThrough();
  const calls: SeenCall[] = [];
  let buf = Buffer.alloc(0);
  fromClient.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      const packet = buf.subarray(4, len);
      buf = buf.subarray(len);
      const h = P.decodeHeader(new XdrReader(packet));
      if (h.type !== P.MessageType.CALL) continue;
      const body = Buffer.from(packet.subarray(P.VIR_NET_MESSAGE_HEADER_MAX));
      calls.push({ proc: h.proc, body });
      const handler = handlers[h.proc];
      const answer: Answer = handler
        ? handler(new XdrReader(body))
        : { error: P.ErrorCode.NO_SUPPORT, message: `fake libvirtd: no handler for proc ${h.proc}` };
      toClient.write(reply(h, answer));
    }
  });
  const stream = Duplex.from({ readable: toClient, writable: fromClient });
  const client = new LibvirtClient(stream, { keepaliveIntervalMs: 0, callTimeoutMs: 2000 });
  /** Sends an event message (an async MESSAGE of the remote program), as the daemon does. */
  const send = (proc: number, write: (w: XdrWriter) => void) =>
    toClient.write(reply({ prog: P.REMOTE_PROGRAM, vers: 1, proc, type: P.MessageType.MESSAGE, serial: 0, status: P.MessageStatus.OK }, write));
  return { client, calls, send, procs: () => calls.map((c) => c.proc) };
}

function reply(h: P.MessageHeader, answer: Answer): Buffer {
  const w = new XdrWriter();
  w.uint(0);
  const error = typeof answer !== 'function';
  const type = h.type === P.MessageType.MESSAGE ? h.type : P.MessageType.REPLY;
  P.encodeHeader(w, { ...h, type, status: error ? P.MessageStatus.ERROR : P.MessageStatus.OK });
  if (error) P.encodeRemoteError(w, { code: answer.error, domain: 0, message: answer.message });
  else answer(w);
  const out = Buffer.from(w.finish());
  out.writeUInt32BE(out.length, 0);
  return out;
}
