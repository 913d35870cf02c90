// SshHost without a network: a fake `ssh` records the command line it was given and answers as
// OpenSSH does when the host cannot be reached. The real thing runs in test/integration/ssh-host.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostRunError } from '../../src/core/host/host';
import { SshHost, SshUnreachableError } from '../../src/core/host/ssh';

/** A fake ssh: argv one per line (then the askpass variables) into $dir/argv, then OpenSSH's refusal. */
function fakeSsh(dir: string): string {
  const p = path.join(dir, 'ssh');
  fs.writeFileSync(
    p,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${dir}/argv"\n` +
      `printf 'SSH_ASKPASS_REQUIRE=%s\\n' "$SSH_ASKPASS_REQUIRE" >> "${dir}/argv"\n` +
      `echo 'ssh: connect to host kvm9 port 22: Connection refused' >&2\nexit 255\n`,
    { mode: 0o755 },
  );
  return p;
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-sshunit-'));
  try {
    await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("SshHost: an unreachable host fails with SSH's own reason, naming the program and the host", async () => {
  await withDir(async (dir) => {
    const h = new SshHost({ destination: 'root@kvm9', sshPath: fakeSsh(dir), controlDir: path.join(dir, 'ctl') });
    const e = await h.run(['virsh', 'list']).catch((x) => x);
    assert.ok(e instanceof SshUnreachableError && e instanceof HostRunError, String(e));
    assert.equal(e.message, 'virsh could not be started on root@kvm9: ssh: connect to host kvm9 port 22: Connection refused');
    assert.equal(e.sshReason, 'ssh: connect to host kvm9 port 22: Connection refused');
    const p = h.spawn(['sleep', '1']);
    const exit = await p.exited;
    assert.match(String(exit.error?.message), /sleep could not be started on root@kvm9: .*Connection refused/);
    await h.dispose();
  });
});

test('SshHost: without askpass, BatchMode and strict host keys; the destination comes last, after --', async () => {
  await withDir(async (dir) => {
    const h = new SshHost({ destination: 'root@kvm9', port: 2222, sshPath: fakeSsh(dir), controlDir: path.join(dir, 'ctl') });
    await h.run(['true']).catch(() => undefined);
    const argv = fs.readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n');
    const env = argv.pop();
    for (const o of ['BatchMode=yes', 'StrictHostKeyChecking=yes', 'ControlMaster=yes', 'StreamLocalBindUnlink=yes', 'ClearAllForwardings=yes']) {
      assert.ok(argv.includes(o), `${o} in ${argv.join(' ')}`);
    }
    assert.deepEqual(argv.slice(-2), ['--', 'root@kvm9']);
    assert.deepEqual(argv.slice(argv.indexOf('-p'), argv.indexOf('-p') + 2), ['-p', '2222']);
    const ctl = argv[argv.indexOf('-S') + 1];
    assert.equal(path.dirname(ctl), path.join(dir, 'ctl'));
    assert.equal(fs.statSync(path.join(dir, 'ctl')).mode & 0o777, 0o700);
    assert.equal(env, 'SSH_ASKPASS_REQUIRE=never');
    await h.dispose();
  });
});

test('SshHost: with askpass, unknown host keys are asked (not accepted) and ssh is told to use the helper', async () => {
  await withDir(async (dir) => {
    const h = new SshHost({ destination: 'kvm9', sshPath: fakeSsh(dir), controlDir: path.join(dir, 'ctl'), askpass: async () => undefined });
    await h.run(['true']).catch(() => undefined);
    const argv = fs.readFileSync(path.join(dir, 'argv'), 'utf8').trim().split('\n');
    assert.ok(argv.includes('BatchMode=no') && argv.includes('StrictHostKeyChecking=ask'), argv.join(' '));
    assert.ok(!argv.some((a) => /StrictHostKeyChecking=(no|accept-new)/.test(a)));
    assert.equal(argv.pop(), 'SSH_ASKPASS_REQUIRE=force');
    await h.dispose();
  });
});

test('SshHost: a destination ssh would read as an option is refused', () => {
  assert.throws(() => new SshHost({ destination: '-oProxyCommand=touch /tmp/x' }), /cannot start with "-"/);
});

test('SshHost: ssh itself missing is named as missing on this machine', async () => {
  await withDir(async (dir) => {
    const h = new SshHost({ destination: 'kvm9', sshPath: path.join(dir, 'no-ssh-here'), controlDir: path.join(dir, 'ctl') });
    const e = await h.run(['true']).catch((x) => x);
    assert.ok(e instanceof HostRunError && e.notFound, String(e));
    assert.match(e.message, /no-ssh-here is not installed or not on PATH on this machine/);
    await h.dispose();
  });
});
