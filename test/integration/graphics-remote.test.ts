// The graphical console on the second host (over SSH): a small TCG domain of this file's own,
// defined in that host's libvirt with a VNC unix socket, reached with SshHost.connectUnix through
// the same bridge the webview uses (handshake + a FramebufferUpdate); a TCP-only display there is
// refused as unsupported. Runs only while the second host is up; removes its domain at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import { SshHost } from '../../src/core/host/ssh';
import type { Guest } from '../../src/core/model';
import { handshakeAndFrame } from '../rfb-client';
import { secondHost, secondHostSkip } from '../fixtures/remote/secondHost';

const skip = secondHostSkip;
const up = !skip;
const NAME = `vs-vnc-remote-${process.pid}`;
let host: SshHost;
let scratch = '';
let backend: LibvirtBackend;

const xml = (graphics: string) =>
  `<domain type='qemu'><name>${NAME}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${graphics}<video><model type='vga'/></video><memballoon model='none'/></devices></domain>`;

async function start(graphics: string): Promise<Guest> {
  const id = await backend.defineXML(xml(graphics));
  const c = await backend.client();
  await c.domainCreate(await c.domainLookupByName(NAME));
  return { id, name: NAME, kind: 'qemu', state: 'running', rawState: 'running' };
}

async function destroy(): Promise<void> {
  const c = await backend.client();
  const dom = await c.domainLookupByName(NAME).catch(() => undefined);
  if (!dom) return;
  await c.domainDestroy(dom).catch(() => undefined);
  await c.domainUndefine(dom).catch(() => undefined);
}

before(async () => {
  if (!up) return;
  ({ host, scratch } = secondHost('vs-vnc-remote-'));
  backend = new LibvirtBackend({ id: 'sshhost:qemu', type: 'libvirt', uri: 'qemu:///system' }, { host });
  await backend.connect();
});

after(async () => {
  if (!up) return;
  try {
    await destroy();
  } finally {
    await backend.close();
    await host.dispose();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('remote host: a VNC socket through SshHost.connectUnix, handshake and a framebuffer update', { skip, timeout: 120_000 }, async () => {
  const g = await start(`<graphics type='vnc'><listen type='socket'/></graphics>`);
  try {
    const graphics = capability(backend, g, 'graphics')!;
    const r = await handshakeAndFrame(graphics);
    assert.ok(r.width > 0 && r.rects > 0, JSON.stringify(r));
  } finally {
    await destroy();
  }
});

test('remote host: a TCP-only display is refused as unsupported, saying how to make it work', { skip, timeout: 120_000 }, async () => {
  const g = await start(`<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>`);
  try {
    await assert.rejects(capability(backend, g, 'graphics')!.open(), /remote host, which is not supported yet.*listen type='socket'/);
  } finally {
    await destroy();
  }
});
