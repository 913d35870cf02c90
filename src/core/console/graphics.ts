// A QEMU domain's graphical display (VNC), read from its live XML, and a byte stream to it through
// the guest's host: its unix socket with Host.connectUnix (local or over SSH), or a TCP port with a
// plain connection when the host is this machine. No vscode import.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Host } from '../host/host';
import { BackendError } from '../model';
import { tagAttr } from '../domainXml';

/** One <graphics> element of a domain's XML. */
export interface GraphicsDisplay {
  /** vnc, spice, rdp, … (only vnc is served). */
  readonly type: string;
  /** The TCP port; undefined when there is none yet (a stopped domain's autoport) or a socket is used. */
  readonly port: number | undefined;
  /** The unix socket QEMU listens on. */
  readonly socket: string | undefined;
  /** The address the port listens on (127.0.0.1, 0.0.0.0, ::). */
  readonly listen: string | undefined;
  readonly autoport: boolean;
}

/** The guest has no display virtscope can show (a serial console may still be there). */
export class NoGraphicsError extends BackendError {
  constructor(
    readonly guest: string,
    detail: string,
  ) {
    super(`"${guest}" has no graphical console virtscope can show: ${detail}`, 'ENOGRAPHICS');
    this.name = 'NoGraphicsError';
  }
}

/** The <graphics> elements of a domain XML, in order; a <listen> child fills what the element leaves out. */
export function graphicsDisplays(xml: string): GraphicsDisplay[] {
  const devices = /<devices\b[^>]*>([\s\S]*?)<\/devices>/.exec(xml)?.[1] ?? '';
  const out: GraphicsDisplay[] = [];
  for (const m of devices.matchAll(/<graphics\b([^>]*?)(?:\/>|>([\s\S]*?)<\/graphics>)/g)) {
    const tag = `<g ${m[1]}>`;
    const listenTag = /<listen\b[^>]*>/.exec(m[2] ?? '')?.[0] ?? '';
    const port = Number(tagAttr(tag, 'port'));
    out.push({
      type: tagAttr(tag, 'type') ?? '',
      port: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined,
      socket: tagAttr(tag, 'socket') ?? tagAttr(listenTag, 'socket'),
      listen: tagAttr(tag, 'listen') ?? tagAttr(listenTag, 'address'),
      autoport: tagAttr(tag, 'autoport') === 'yes',
    });
  }
  return out;
}

/** Where a display can be reached from, and how: its socket on the guest's host, or a local TCP port. */
export interface GraphicsRoute {
  /** The guest's host, when virtscope can open unix sockets there. */
  readonly host: Host | undefined;
  /** The host is this machine: a TCP port can be connected to directly. */
  readonly local: boolean;
}

/** The first VNC display, or NoGraphicsError saying what the guest has instead. */
export function pickVnc(guest: string, displays: readonly GraphicsDisplay[]): GraphicsDisplay {
  const vnc = displays.find((d) => d.type === 'vnc');
  if (vnc) return vnc;
  if (!displays.length) throw new NoGraphicsError(guest, 'its definition has no <graphics> device');
  throw new NoGraphicsError(guest, `its display is ${displays.map((d) => d.type.toUpperCase()).join(', ')}; only VNC is supported`);
}

/** The address to connect to for a port listening on `listen` (a wildcard means loopback). */
function dialAddress(listen: string | undefined): string {
  if (!listen || listen === '0.0.0.0') return '127.0.0.1';
  if (listen === '::' || listen === '[::]') return '::1';
  return listen;
}

function connectTcp(address: string, port: number, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address, port });
    const timer = setTimeout(() => s.destroy(new Error(`no answer from ${address}:${port} within ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A byte stream to the display, through the route; a clear message where the route cannot reach it. */
export async function openDisplay(guest: string, d: GraphicsDisplay, route: GraphicsRoute, timeoutMs = 10_000): Promise<{ stream: Duplex; where: string }> {
  if (d.socket) {
    if (!route.host) throw new BackendError(`the display of "${guest}" is a unix socket on a host virtscope has no access to`, 'ENOTSUP');
    return { stream: await route.host.connectUnix(d.socket, { timeoutMs }), where: `${d.socket} on ${route.host.label}` };
  }
  if (d.port === undefined) throw new NoGraphicsError(guest, 'its VNC display has no port yet (is the guest running?)');
  if (!route.local)
    throw new BackendError(
      `the VNC display of "${guest}" is TCP port ${d.port} on a remote host, which is not supported yet; give it a unix socket instead (<graphics type='vnc'><listen type='socket'/></graphics>)`,
      'ENOTSUP',
    );
  const address = dialAddress(d.listen);
  return { stream: await connectTcp(address, d.port, timeoutMs), where: `${address}:${d.port}` };
}

/** The guest's graphical console as a capability. */
export interface GuestGraphics {
  /** The displays of the running guest's live XML. */
  displays(): Promise<GraphicsDisplay[]>;
  /** A byte stream to its VNC display (NoGraphicsError when it has none). */
  open(): Promise<{ stream: Duplex; where: string }>;
}

/** A domain's displays from its live XML (`xml`), reached through `route`. */
export function domainGraphics(guest: string, xml: () => Promise<string>, route: GraphicsRoute): GuestGraphics {
  const displays = async () => graphicsDisplays(await xml());
  return {
    displays,
    open: async () => openDisplay(guest, pickVnc(guest, await displays()), route),
  };
}
