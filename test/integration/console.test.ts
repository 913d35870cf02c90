// Open Console against the lab's libvirtd: labvm's serial console (a shell runs there) answers a
// command; a second client is refused safely, then takes the console over; labvlxc's console opens
// (libvirt-LXC takes no console flags). A libvirt-LXC domain of this test's own is shut down and
// started again (the session waits and reopens), then destroyed (the session ends). The lab guests
// keep their state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { requireCapability } from '../../src/core/capabilities';
import { ConsoleSession } from '../../src/core/console/session';
import { ConsoleBusyError } from '../../src/core/console/types';
import type { Guest } from '../../src/core/model';
import { waitFor } from './util';

const qemu = new LibvirtBackend({ id: 'it-qemu', type: 'libvirt', uri: 'qemu:///system' });
const lxc = new LibvirtBackend({ id: 'it-lxc', type: 'libvirt', uri: 'lxc:///system' });
const OWN = `vs-console-${process.pid}`;
const ROOT = '/run/virtscope-lab/labvlxc-root';

async function guest(b: LibvirtBackend, name: string): Promise<Guest> {
  const g = (await b.list()).find((x) => x.name === name);
  assert.ok(g, `${name} is in the lab`);
  return g;
}

function session(b: LibvirtBackend, g: Guest): { s: ConsoleSession; out: () => string; notices: string[]; exit: Promise<{ reason?: string }> } {
  const s = new ConsoleSession(g.name, () => requireCapability(b, g, 'console'), { device: null, retryMs: 250, retries: 40 });
  let text = '';
  const notices: string[] = [];
  s.on('data', (d) => (text += d.toString('utf8')));
  s.on('notice', (n) => notices.push(n));
  const exit = new Promise<{ reason?: string }>((resolve) => s.on('exit', resolve));
  return { s, out: () => text, notices, exit };
}

const virshLxc = (...args: string[]) => execFileSync('virsh', ['-c', 'lxc:///system', ...args], { encoding: 'utf8', timeout: 30_000, stdio: 'pipe' });

before(async () => {
  await Promise.all([qemu.connect(), lxc.connect()]);
});

after(async () => {
  try {
    virshLxc('destroy', OWN);
  } catch {
    /* not running */
  }
  try {
    virshLxc('undefine', OWN);
  } catch {
    /* not defined */
  }
  rmSync(`/var/log/libvirt/lxc/${OWN}.log`, { force: true });
  await Promise.all([qemu.close(), lxc.close()]);
});

test('labvm: the serial console answers a command typed into it', async () => {
  const g = await guest(qemu, 'labvm');
  const devices = await requireCapability(qemu, g, 'console').devices();
  assert.ok(
    devices.some((d) => d.alias === 'serial0' && d.type === 'pty'),
    JSON.stringify(devices),
  );
  const c = session(qemu, g);
  await c.s.start();
  try {
    c.s.write('\r');
    await waitFor(() => c.out().length > 0, 30_000, "anything after Enter (the shell's prompt)");
    c.s.write('echo vs-console-$((6*7))\r');
    await waitFor(() => c.out().includes('vs-console-42'), 30_000, `the command output in ${JSON.stringify(c.out())}`);
  } finally {
    await c.s.close();
  }
});

test('labvm: a second client is refused safely, then takes the console over', async () => {
  const g = await guest(qemu, 'labvm');
  const first = session(qemu, g);
  await first.s.start();
  const other = new LibvirtBackend({ id: 'it-qemu-2', type: 'libvirt', uri: 'qemu:///system' });
  try {
    await other.connect();
    const second = session(other, g);
    await assert.rejects(second.s.start(), (e: unknown) => e instanceof ConsoleBusyError && /Active console session exists/.test(e.detail));
    await second.s.start(true);
    const { reason } = await Promise.race([
      first.exit,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the first session did not end within 30 s of the takeover')), 30_000)),
    ]);
    assert.match(reason ?? '', /another client took over the console of "labvm"/);
    second.s.write('echo vs-forced-$((2*21))\r');
    await waitFor(() => second.out().includes('vs-forced-42'), 30_000, 'output on the forced console');
    await second.s.close();
  } finally {
    await first.s.close();
    await other.close();
  }
});

test('labvlxc: the libvirt-LXC console opens (no flags for that driver) and closes', async () => {
  const g = await guest(lxc, 'labvlxc');
  const c = session(lxc, g);
  await c.s.start();
  assert.equal(c.s.attached, true);
  await c.s.close();
});

test(
  'a libvirt-LXC domain of our own: shut down and started again, the console reopens; destroyed, it ends',
  { skip: !existsSync(`${ROOT}/bin/busybox`) && 'no lab rootfs' },
  async () => {
    const script = 'trap "exit 0" TERM; while :; do echo vs-mark-$$; sleep 1; done';
    const xml = `<domain type='lxc'><name>${OWN}</name><memory unit='MiB'>64</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>${script}</initarg></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices><emulator>/usr/lib/libvirt/libvirt_lxc</emulator>
  <filesystem type='mount'><source dir='${ROOT}'/><target dir='/'/><readonly/></filesystem>
  <console type='pty'/></devices></domain>`;
    const file = `/tmp/${OWN}.xml`;
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: xml });
    try {
      virshLxc('define', file);
    } finally {
      execFileSync('rm', ['-f', file]);
    }
    virshLxc('start', OWN);
    let g = await guest(lxc, OWN);
    const c = session(lxc, g);
    await c.s.start();
    await waitFor(() => /vs-mark-\d+/.test(c.out()), 20_000, 'the init writing on its console');

    virshLxc('shutdown', '--mode', 'signal', OWN);
    await waitFor(() => c.notices.some((n) => /is stopped; the console opens again when it runs/.test(n)), 30_000, 'the session waiting');
    const before = c.out().length;
    virshLxc('start', OWN);
    g = await guest(lxc, OWN);
    c.s.guestChanged();
    await waitFor(() => c.notices.some((n) => /open again/.test(n)), 30_000, 'the console reopened');
    await waitFor(() => /vs-mark-\d+/.test(c.out().slice(before)), 20_000, 'output after the restart');

    virshLxc('destroy', OWN);
    const { reason } = await c.exit;
    assert.match(reason ?? '', /was destroyed \(forced off\): the console is closed/);
  },
);
