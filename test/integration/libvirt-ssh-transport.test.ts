// libvirt over SSH on the lab's second host as libvirt's qemu+ssh:// does it: the RPC stream over
// virt-ssh-helper, over `nc -U`, a typed qemu+ssh:// URI in a connection config, and failures in the
// words of ssh or of the program. Runs only while the second host is up; it changes nothing there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { SshHost } from '../../src/core/host/ssh';
import { openSshLibvirtStream } from '../../src/core/libvirt/sshTransport';
import { secondHost, secondHostSkip } from '../fixtures/remote/secondHost';

const skip = secondHostSkip;
let env: Record<string, string> = {};
let host: SshHost;
let scratch: string;
/** Does the second host have nc with -U? (why not, else undefined) */
let noNetcat: string | undefined;

before(async () => {
  if (skip) return;
  ({ env, host, scratch } = secondHost('vs-sshtransport-'));
  const r = await host.run(['sh', '-c', 'command -v nc || echo none; nc -h 2>&1 | grep -q -- -U && echo has-U || echo no-U']);
  const [where, u] = r.stdout.trim().split('\n');
  noNetcat = where === 'none' ? 'the second host has no nc' : u !== 'has-U' ? `nc on the second host (${where}) has no -U` : undefined;
});

after(async () => {
  await host?.dispose();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

async function names(b: LibvirtBackend): Promise<string[]> {
  try {
    return (await b.list()).map((g) => g.name);
  } finally {
    await b.close();
  }
}

const backend = (uri: string, h?: SshHost) =>
  new LibvirtBackend(
    { id: 'ssh', type: 'libvirt', label: 'ssh', uri },
    h ? { host: h } : { ssh: { configFile: env.SSHHOST_SSH_CONFIG, controlDir: path.join(scratch, 'own') } },
  );

test('proxy=auto picks virt-ssh-helper on the second host, and remotevm is listed over it', { skip }, async () => {
  const s = await openSshLibvirtStream(host, `qemu+ssh://${env.SSHHOST_ALIAS}/system`);
  s.stream.destroy();
  assert.deepEqual(s.route, { via: 'helper', argv: ['virt-ssh-helper', 'qemu:///system'] });
  assert.ok((await names(backend(`qemu+ssh://${env.SSHHOST_ALIAS}/system?proxy=native`, host))).includes('remotevm'));
});

test('proxy=netcat lists remotevm over nc -U', { skip }, async (t) => {
  if (noNetcat) return t.skip(noNetcat);
  assert.ok((await names(backend(`qemu+ssh://${env.SSHHOST_ALIAS}/system?proxy=netcat`, host))).includes('remotevm'));
});

test('a qemu+ssh:// URI typed in a connection config: the connection makes its own SSH host and lists remotevm', { skip }, async () => {
  const b = backend(`qemu+ssh://${env.SSHHOST_ALIAS}/system`);
  assert.equal(b.host.label, env.SSHHOST_ALIAS);
  assert.ok((await names(b)).includes('remotevm'));
  assert.equal(fs.readdirSync(path.join(scratch, 'own')).filter((f) => f.startsWith('m-') && !f.endsWith('.log')).length, 0, 'its master went with close()');
});

test("a dead socket path: the error is the program's own words, with the host", { skip }, async (t) => {
  if (noNetcat) return t.skip(noNetcat);
  const b = backend(`qemu+ssh://${env.SSHHOST_ALIAS}/system?proxy=netcat&socket=/run/virtscope-no-such.sock`, host);
  await assert.rejects(names(b), (e: Error) => /nc on sshhost-lab exited with \d+/.test(e.message) || (console.log(e.message), false));
});

test("a helper path that is not there (proxy=native on a dead port): ssh's own reason", { skip }, async () => {
  const b = backend(`qemu+ssh://${env.SSHHOST_ALIAS}:1/system?proxy=native`);
  await assert.rejects(names(b), (e: Error) => /unreachable: .*(Connection refused|port 1)/i.test(e.message) || (console.log(e.message), false));
});
