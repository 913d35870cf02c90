// The graphical console on the second host (over SSH): a small TCG domain of this file's own,
// defined in that host's libvirt with a VNC unix socket, reached with SshHost.connectUnix through
// the same bridge the webview uses (handshake + a FramebufferUpdate); a TCP-only display there is
// refused as unsupported. Runs only while the second host is up; removes its domain at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import { SshHost } from '../../src/core/host/ssh';
import type { Guest } from '../../src/core/model';
import { handshakeAndFrame } from '../rfb-client';

const LAB = path.join(__dirname, '../../scripts/lab/ssh-host.sh');
const lab = (...args: string[]) => execFileSync('bash', [LAB, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const up = (() => {
  try {
    return lab('status').trim().split('\n').pop() === 'sshhost: up';
  } catch {
    return false;
  }
})();
const skip = up ? false : 'the second host is not up (bash scripts/lab.sh status)';
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
  const env: Record<string, string> = {};
  for (const l of lab('env').split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-vnc-remote-'));
  host = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, label: 'sshhost-lab', controlDir: path.join(scratch, 'ctl') });
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
