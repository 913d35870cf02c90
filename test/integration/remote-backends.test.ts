// Every backend on the lab's second host, reached only over SSH (scripts/lab/ssh-host.sh): discovery,
// the guest lists, a libvirt event, and a dropped link. Runs only while the second host is up (the
// lead brings the lab up; this test never does). What it creates on the remote host it removes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackend } from '../../src/core/backends';
import { discoverConnections } from '../../src/core/backends/discover';
import { Connection } from '../../src/core/connection';
import { SshHost } from '../../src/core/host/ssh';
import type { ConnectionConfig } from '../../src/core/model';
import { waitFor } from './util';
import { secondHost, secondHostSkip } from '../fixtures/remote/secondHost';

const skip = secondHostSkip;
const up = !skip;

let env: Record<string, string> = {};
let host: SshHost;
let scratch: string;
const tag = randomBytes(3).toString('hex');

before(() => {
  if (!up) return;
  ({ env, host, scratch } = secondHost('vs-remote-'));
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

test("each backend on the second host lists its guests there, not this machine's", { skip, timeout: 120_000 }, async () => {
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

test("a container created on the second host arrives through the engine's event stream over SSH", { skip, timeout: 120_000 }, async () => {
  const conn = new Connection({ id: 'sshhost:podman', type: 'docker', socketPath: '/run/podman/podman.sock' }, (c) => createBackend(c, host));
  try {
    await conn.start();
    assert.equal(conn.status.state, 'connected');
    // events only: the connection is not shown, so nothing polls
    await withRemoteContainer(async (pod) => {
      const seen = await waitFor(() => [...conn.guests.values()].some((g) => g.name === pod), 5000, `${pod} in the tree`);
      console.log(`# remote engine event: created container seen after ${seen} ms`);
    });
    await waitFor(() => ![...conn.guests.values()].some((g) => g.name.startsWith('vs-remote-pod-')), 5000, 'the container gone from the tree');
  } finally {
    await conn.dispose();
  }
});

/** The second host's end of its link, down or up (the lab's veth inside its namespace). */
const link = (state: 'up' | 'down') => execFileSync('ip', ['-n', env.SSHHOST_NETNS, 'link', 'set', 'vsh1', state]);

/** Ends the SSH master of a control directory (it would end by itself within SSH's keepalive window). */
function endMaster(dir: string): number {
  let n = 0;
  for (const p of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let cmd: string[] = [];
    try {
      cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd.includes('ControlMaster=yes') && cmd.some((a) => a.startsWith(dir))) {
      process.kill(Number(p), 'SIGTERM');
      n++;
    }
  }
  return n;
}

test("a dropped link: every backend on the host says why in SSH's words, and all come back by themselves", { skip, timeout: 120_000 }, async () => {
  const dir = path.join(scratch, 'ctl-drop');
  const h = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, label: 'sshhost-lab', controlDir: dir, connectTimeoutS: 2 });
  const configs: ConnectionConfig[] = [
    { id: 'sshhost:qemu', type: 'libvirt', uri: 'qemu:///system' },
    { id: 'sshhost:lxc', type: 'lxc' },
    { id: 'sshhost:podman', type: 'docker', socketPath: '/run/podman/podman.sock' },
  ];
  const conns = configs.map((c) => new Connection(c, (cc) => createBackend(cc, h), { reconnectMinMs: 250, reconnectMaxMs: 1000, pollMs: 500 }));
  const why = (c: Connection) => (c.status.state === 'unreachable' ? c.status.message : c.status.state);
  // a timeout says where each connection stood
  const waitAll = (cond: () => boolean, what: string) =>
    waitFor(cond, 30_000, what).catch((e: Error) => {
      throw new Error(`${e.message}; statuses: ${JSON.stringify(conns.map((c) => [why(c), c.guests.size]))}`);
    });
  try {
    await Promise.all(conns.map((c) => c.start()));
    for (const c of conns) c.setVisible(true); // lxc-tools is polled while shown
    assert.deepEqual(conns.map(why), ['connected', 'connected', 'connected']);
    assert.ok(conns[0].guests.size > 0 && conns[1].guests.size > 0, 'remotevm and remotect listed');
    link('down');
    assert.equal(endMaster(dir), 1);
    const noticed = await waitAll(
      () => conns.every((c) => /^sshhost-lab is unreachable: ssh: connect to host 10\.81\.0\.2 port 22: /.test(why(c))),
      "all unreachable in SSH's words",
    );
    console.log(`# dropped link: unreachable after ${noticed} ms: ${why(conns[0])}`);
    for (const c of conns) assert.equal(c.guests.size, 0);
    link('up');
    // (the remote Podman may have no containers: its list is not waited for)
    const back = await waitAll(
      () => conns.every((c) => c.status.state === 'connected') && conns[0].guests.size > 0 && conns[1].guests.size > 0,
      'all connected again',
    );
    console.log(`# link back: all connected again after ${back} ms`);
  } finally {
    link('up');
    await Promise.all(conns.map((c) => c.dispose()));
    await h.dispose();
  }
});
