// Every backend on the lab's second host, reached only over SSH (scripts/lab/ssh-host.sh): discovery,
// the guest lists, a libvirt event, and a dropped link. Runs only while the second host is up (the
// lead brings the lab up; this test never does). What it creates on the remote host it removes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBackend } from '../../src/core/backends';
import { discoverConnections } from '../../src/core/backends/discover';
import { Connection, ConnectionStatus } from '../../src/core/connection';
import { SshHost } from '../../src/core/host/ssh';
import type { ConnectionConfig } from '../../src/core/model';
import { waitFor } from './util';

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

const env: Record<string, string> = {};
let host: SshHost;
let scratch: string;
const tag = randomBytes(3).toString('hex');

before(() => {
  if (!up) return;
  for (const l of lab('env').split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-remote-'));
  host = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, label: 'sshhost-lab', controlDir: path.join(scratch, 'ctl') });
});

after(async () => {
  await host?.dispose();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** A container of our own in the remote Podman (created, never started), from an image imported from a one-file tar. */
async function withRemoteContainer<T>(fn: (name: string) => Promise<T>): Promise<T> {
  const src = path.join(scratch, 'rootfs');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'hello'), 'virtscope\n');
  const tar = execFileSync('tar', ['-c', '-C', src, 'hello']);
  const image = `localhost/vs-remote-${tag}:latest`;
  const name = `vs-remote-pod-${tag}`;
  const must = async (argv: string[], stdin?: Buffer) => {
    const r = await host.run(argv, { stdin, timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
  };
  await must(['podman', 'import', '-', image], tar);
  try {
    await must(['podman', 'create', '--name', name, image, '/hello']);
    return await fn(name);
  } finally {
    await host.run(['podman', 'rm', '-f', name]).catch(() => undefined);
    await host.run(['podman', 'rmi', '-f', image]).catch(() => undefined);
  }
}

test('discover on the second host: its libvirt (qemu and lxc), lxc-tools and Podman, none with a problem', { skip }, async () => {
  const t0 = performance.now();
  const found = await discoverConnections(host, 'sshhost:');
  const took = performance.now() - t0;
  assert.deepEqual(
    found.map((c) => [c.id, c.type, c.uri ?? c.socketPath ?? '', c.problem ?? '']),
    [
      ['sshhost:qemu', 'libvirt', 'qemu:///system', ''],
      ['sshhost:libvirt-lxc', 'libvirt', 'lxc:///system', ''],
      ['sshhost:lxc', 'lxc', '', ''],
      ['sshhost:podman', 'docker', '/run/podman/podman.sock', ''],
    ],
  );
  console.log(`# discover over SSH: ${took.toFixed(0)} ms`);
});

test('each backend on the second host lists its guests there, not this machine\'s', { skip, timeout: 120_000 }, async () => {
  const found = await discoverConnections(host, 'sshhost:');
  await withRemoteContainer(async (pod) => {
    const lists: Record<string, string[]> = {};
    for (const c of found) {
      const b = createBackend(c, host);
      try {
        await b.connect();
        lists[c.id] = (await b.list()).map((g) => g.name);
      } finally {
        await b.close();
      }
    }
    assert.ok(lists['sshhost:qemu'].includes('remotevm'), JSON.stringify(lists));
    assert.ok(lists['sshhost:libvirt-lxc'].includes('remotevlxc'), JSON.stringify(lists));
    assert.ok(lists['sshhost:lxc'].includes('remotect'), JSON.stringify(lists));
    assert.ok(lists['sshhost:podman'].includes(pod), JSON.stringify(lists));
    // the local lab's guests are not on that host
    for (const local of ['labvm', 'labvlxc', 'labct', 'labpod']) assert.ok(!Object.values(lists).flat().includes(local), local);
  });
});

test('a libvirt change made on the second host arrives as an event over SSH', { skip, timeout: 60_000 }, async () => {
  const conn = new Connection({ id: 'sshhost:qemu', type: 'libvirt', uri: 'qemu:///system' }, (c) => createBackend(c, host));
  const name = `vs-remote-evt-${tag}`;
  const virsh = (args: string[], stdin?: string) => host.run(['virsh', '-q', '-c', 'qemu:///system', ...args], { stdin, timeoutMs: 30_000 });
  try {
    await conn.start();
    assert.equal(conn.status.state, 'connected');
    const vm = [...conn.guests.values()].find((g) => g.name === 'remotevm');
    assert.ok(vm, 'remotevm is listed');
    // a guest of our own: remotevm's definition under a new name, without its uuid and MAC
    const xml = (await conn.requireBackend().definition(vm.id)).text
      .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
      .replace(/<uuid>[^<]*<\/uuid>\s*/, '')
      .replace(/<mac address=[^>]*\/>\s*/g, '');
    const r = await virsh(['define', '/dev/stdin'], xml);
    assert.equal(r.exitCode, 0, r.stderr);
    const seen = await waitFor(() => [...conn.guests.values()].some((g) => g.name === name), 2000, `${name} in the tree`);
    const u = await virsh(['undefine', name]);
    assert.equal(u.exitCode, 0, u.stderr);
    const gone = await waitFor(() => ![...conn.guests.values()].some((g) => g.name === name), 2000, `${name} gone from the tree`);
    console.log(`# remote libvirt events: defined seen after ${seen} ms, undefined after ${gone} ms`);
  } finally {
    await virsh(['undefine', name]).catch(() => undefined);
    await conn.dispose();
  }
});
