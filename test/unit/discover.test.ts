// discoverConnections on a host that is not this machine (a scripted Host whose sockets are real:
// a small libvirtd and a container engine listen behind them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { discoverConnections } from '../../src/core/backends/discover';
import { FakeHost, fakeEngine, fakeLibvirtd, ok } from '../fixtures/remote/fakeHost';

const LIBVIRT = '/run/libvirt/libvirt-sock';
const PODMAN = '/run/podman/podman.sock';

test('a host with libvirt (qemu, not lxc), lxc-tools and Podman: each found, with the prefix', async () => {
  const host = new FakeHost();
  const daemon = await fakeLibvirtd(host.bindSocket(LIBVIRT), ['qemu']);
  const engine = await fakeEngine(host.bindSocket(PODMAN), 'Podman Engine');
  host.programs.set('lxc-ls', () => ok('5.0.2\n'));
  host.programs.set('id', () => ok('0\n'));
  try {
    const found = await discoverConnections(host, 'kvm1:');
    assert.deepEqual(found, [
      // /var/run is not a link to /run on this host: the socket is named
      { id: 'kvm1:qemu', type: 'libvirt', label: 'QEMU/KVM', uri: 'qemu:///system', socketPath: LIBVIRT },
      { id: 'kvm1:lxc', type: 'lxc', label: 'LXC' },
      { id: 'kvm1:podman', type: 'docker', label: 'Podman', socketPath: PODMAN },
    ]);
  } finally {
    await daemon.close();
    await engine.close();
    host.close();
  }
});

test("both libvirt drivers answer; Docker's socket served by Podman is named Podman", async () => {
  const host = new FakeHost();
  const daemon = await fakeLibvirtd(host.bindSocket('/var/run/libvirt/libvirt-sock'), ['qemu', 'lxc'], ['vm1']);
  const engine = await fakeEngine(host.bindSocket('/var/run/docker.sock'), 'Podman Engine');
  host.programs.set('id', () => ok('0\n'));
  try {
    const found = await discoverConnections(host, 'h:');
    assert.deepEqual(
      found.map((c) => [c.id, c.uri ?? c.socketPath, c.label, c.problem]),
      [
        ['h:qemu', 'qemu:///system', 'QEMU/KVM', undefined],
        ['h:libvirt-lxc', 'lxc:///system', 'libvirt LXC', undefined],
        ['h:docker', '/var/run/docker.sock', 'Podman', undefined],
      ],
    );
  } finally {
    await daemon.close();
    await engine.close();
    host.close();
  }
});

test('installed but not running: libvirtd without its socket, Podman without its API service; each says why', async () => {
  const host = new FakeHost();
  host.files.set('/usr/sbin/libvirtd', 'file');
  host.files.set('/usr/bin/podman', 'file');
  host.programs.set('find', () => ok('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so\n'));
  host.programs.set('id', () => ok('0\n'));
  try {
    const found = await discoverConnections(host, 'h:');
    assert.deepEqual(
      found.map((c) => c.id),
      ['h:qemu', 'h:podman'],
    ); // no lxc driver module, no lxc-tools, no Docker
    assert.match(
      found[0].problem ?? '',
      /libvirt is installed but its daemon is not running \(no socket at \/var\/run\/libvirt\/libvirt-sock or \/var\/run\/libvirt\/virtqemud-sock\)/,
    );
    assert.match(
      found[1].problem ?? '',
      /Podman is installed but its API service is not running \(no socket at \/run\/podman\/podman\.sock\)\. Start the Podman API service/,
    );
  } finally {
    host.close();
  }
});

test('a socket nobody listens on, a failing lxc-ls: reported with the reason; an absent host has nothing', async () => {
  const host = new FakeHost();
  host.files.set('/var/run/libvirt/libvirt-sock', 'socket'); // stale: no listener behind it
  const podman = host.bindSocket(PODMAN);
  fs.writeFileSync(podman, ''); // not a socket: connecting fails
  host.programs.set('lxc-ls', () => ({ exitCode: 1, stdout: '', stderr: 'lxc-ls: Failed to load config\n' }));
  host.programs.set('id', () => ok('0\n'));
  const empty = new FakeHost();
  empty.programs.set('id', () => ok('0\n'));
  try {
    const found = await discoverConnections(host, 'h:');
    assert.deepEqual(
      found.map((c) => c.id),
      ['h:qemu', 'h:libvirt-lxc', 'h:lxc', 'h:podman'],
    );
    assert.match(
      found[0].problem ?? '',
      /libvirt on fakehost did not open qemu:\/\/\/system: libvirt socket \/var\/run\/libvirt\/libvirt-sock on fakehost does not exist/,
    );
    assert.match(found[2].problem ?? '', /lxc-ls --version on fakehost failed: lxc-ls: Failed to load config/);
    assert.match(found[3].problem ?? '', /the API at \/run\/podman\/podman\.sock on fakehost did not answer/);
    assert.deepEqual(await discoverConnections(empty, 'e:'), []);
  } finally {
    host.close();
    empty.close();
  }
});

test('rootless engines of a non-root user are found only where their sockets are', async () => {
  const host = new FakeHost();
  host.programs.set('id', () => ok('1000\n'));
  const engine = await fakeEngine(host.bindSocket('/run/user/1000/podman/podman.sock'), 'Podman Engine');
  const docker = await fakeEngine(host.bindSocket('/run/user/1000/docker.sock'), 'Docker Engine');
  try {
    assert.deepEqual(await discoverConnections(host, 'u:'), [
      { id: 'u:podman-user', type: 'docker', label: 'Podman', socketPath: '/run/user/1000/podman/podman.sock' },
      { id: 'u:docker-user', type: 'docker', label: 'Docker', socketPath: '/run/user/1000/docker.sock' },
    ]);
  } finally {
    await engine.close();
    await docker.close();
    host.close();
  }
});

test("an unreachable host: discovery fails with SSH's own reason and the host's name", async () => {
  const host = new FakeHost('kvm1');
  host.unreachable = 'ssh: connect to host kvm1 port 22: Connection refused';
  try {
    await assert.rejects(discoverConnections(host, 'k:'), (e: Error & { code?: string }) => {
      assert.equal(e.message, 'kvm1 is unreachable: ssh: connect to host kvm1 port 22: Connection refused');
      assert.equal(e.code, 'EHOSTUNREACH');
      return true;
    });
  } finally {
    host.close();
  }
});

test("podman-docker: Docker's socket is a link to Podman's, so the one engine is listed once", async () => {
  const host = new FakeHost();
  const engine = await fakeEngine(host.bindSocket(PODMAN), 'Podman Engine');
  host.sockets.set('/var/run/docker.sock', host.sockets.get(PODMAN)!);
  host.files.set('/var/run/docker.sock', 'socket');
  host.programs.set('id', () => ok('0\n'));
  host.programs.set('readlink', (argv) => ok(`${argv.at(-1) === '/var/run/docker.sock' ? PODMAN : argv.at(-1)}\n`));
  try {
    assert.deepEqual(
      (await discoverConnections(host, 'p:')).map((c) => [c.id, c.label]),
      [['p:podman', 'Podman']],
    );
  } finally {
    await engine.close();
    host.close();
  }
});

test('a socket the SSH user may not use: permission denied, with who and what to do', async () => {
  const host = new FakeHost();
  host.files.set('/var/run/libvirt/libvirt-sock', 'socket'); // the forward is refused: the stream cannot be opened
  host.files.set(PODMAN, 'socket');
  host.programs.set('test', () => ({ exitCode: 1, stdout: '', stderr: '' }));
  host.programs.set('id', (argv) => ok(argv[1] === '-un' ? 'alice\n' : '1000\n'));
  try {
    const found = await discoverConnections(host, 'a:');
    assert.deepEqual(
      found.map((c) => c.id),
      ['a:qemu', 'a:libvirt-lxc', 'a:podman'],
    );
    assert.match(
      found[0].problem ?? '',
      /^permission denied: alice on fakehost may not use \/var\/run\/libvirt\/libvirt-sock\. Add the user to the "libvirt" group/,
    );
    assert.match(found[2].problem ?? '', /^permission denied: alice on fakehost may not use \/run\/podman\/podman\.sock\. Rootful engines/);
  } finally {
    host.close();
  }
});
