// The graphical console's frame rate, for bench/console.ts. The lab's labvm has no display, so a
// small TCG domain of the bench's own boots the lab guest's kernel and initramfs with a VGA text
// console and a VNC unix socket, and has its init print a hex dump of random bytes to tty1 without
// pause: the screen scrolls all the time, most of it different from one update to the next. An RFB client (test/rfb-client.ts) asks for incremental updates
// one after the other and counts them — through the extension's bridge (VncBridge, base64 messages
// as the webview gets them) or on the same stream without it. The domain is destroyed and
// undefined at the end; it leaves no file.
import * as fs from 'node:fs';
import type { LibvirtBackend } from '../src/core/backends/libvirt';
import { capability } from '../src/core/capabilities';
import type { GuestGraphics } from '../src/core/console/graphics';
import type { Guest } from '../src/core/model';
import { BridgeClient, readUpdate, requestUpdate, rfbHandshake, SocketClient, type RfbLink, type ServerInit } from '../test/rfb-client';

const LAB_GUEST = '/var/cache/virtscope-lab/guest';
/** The guest's init: /dev, then random lines to the VGA console forever (no "=": the kernel command line). */
const SCROLL = 'mount -t devtmpfs d /dev; exec hexdump -C /dev/urandom >/dev/tty1 2>&1';

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function scrollingDomainXml(name: string): string {
  return `<domain type='qemu'><name>${name}</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${LAB_GUEST}/vmlinuz</kernel><initrd>${LAB_GUEST}/initrd.cpio</initrd>
    <cmdline>console=tty0 quiet panic=-1 rdinit=/bin/sh -- -c "${xmlText(SCROLL)}"</cmdline></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices><graphics type='vnc'><listen type='socket'/></graphics><video><model type='vga'/></video><memballoon model='none'/></devices>
</domain>`;
}

export interface ScrollingGuest {
  readonly graphics: GuestGraphics;
  remove(): Promise<void>;
}

/** Defines and starts the scrolling domain; undefined when the lab's guest kernel is not built. */
export async function startScrollingGuest(backend: LibvirtBackend, name: string): Promise<ScrollingGuest | undefined> {
  if (!fs.existsSync(`${LAB_GUEST}/vmlinuz`)) return undefined;
  const remove = async () => {
    const c = await backend.client();
    const dom = await c.domainLookupByName(name).catch(() => undefined);
    if (!dom) return;
    await c.domainDestroy(dom).catch(() => undefined);
    await c.domainUndefine(dom).catch(() => undefined);
  };
  const id = await backend.defineXML(scrollingDomainXml(name));
  try {
    const c = await backend.client();
    await c.domainCreate(await c.domainLookupByName(name));
    const guest: Guest = { id, name, kind: 'qemu', state: 'running', rawState: 'running' };
    const graphics = capability(backend, guest, 'graphics');
    if (!graphics) throw new Error('a QEMU guest without the graphics capability');
    return { graphics, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

export type Via = 'bridge' | 'direct';

async function connect(graphics: GuestGraphics, via: Via): Promise<{ link: RfbLink; screen: ServerInit }> {
  const { stream } = await graphics.open();
  const link = via === 'bridge' ? new BridgeClient(stream) : new SocketClient(stream);
  try {
    const screen = await rfbHandshake(link);
    requestUpdate(link, screen, false);
    await readUpdate(link, screen); // the whole screen once: not counted
    return { link, screen };
  } catch (e) {
    link.close();
    throw e;
  }
}

export interface FpsBlock {
  readonly updates: number;
  readonly pixelBytes: number;
  /** One whole screen's pixels, bytes. */
  readonly screenBytes: number;
  readonly seconds: number;
  /** CPU time of this process (all threads) over the block, ms. */
  readonly cpuMs: number;
}

/** Incremental updates one after another for `seconds`, on a new connection via the bridge or not. */
export async function fpsBlock(graphics: GuestGraphics, via: Via, seconds: number): Promise<FpsBlock> {
  const { link, screen } = await connect(graphics, via);
  try {
    let updates = 0;
    let pixelBytes = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      requestUpdate(link, screen, true);
      pixelBytes += (await readUpdate(link, screen, 10_000)).pixelBytes;
      updates++;
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { updates, pixelBytes, screenBytes: (screen.width * screen.height * screen.bpp) / 8, seconds: wall, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    link.close();
  }
}

/** Waits until the guest's screen changes by at least a screenful a second (its init is printing). */
export async function whenScrolling(graphics: GuestGraphics, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const b = await fpsBlock(graphics, 'direct', 1).catch(() => undefined);
    if (b && b.pixelBytes >= b.screenBytes) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`the guest's screen did not scroll within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
