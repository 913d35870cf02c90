import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeGuest, verbsFor, verbLabel, deleteWarning, formatBytes, Guest } from '../../src/core/model';
import { parseConnections, DEFAULT_CONNECTIONS } from '../../src/core/config';
import { mapContainerState, candidateSockets } from '../../src/core/backends/docker';

const vm: Guest = {
  id: 'u1',
  name: 'web',
  kind: 'qemu',
  state: 'running',
  rawState: 'running',
  vcpus: 2,
  memoryBytes: 512 * 1024 ** 2,
  maxMemoryBytes: 1024 ** 3,
};

test('describeGuest: "running · 2 vCPU · 512 MiB"', () => {
  assert.equal(describeGuest({ ...vm, maxMemoryBytes: undefined }), 'running · 2 vCPU · 512 MiB');
  assert.equal(describeGuest(vm), 'running · 2 vCPU · 1 GiB', 'the allocation, not the current usage');
  assert.equal(describeGuest({ ...vm, state: 'stopped', rawState: 'shut off' }), 'stopped · 2 vCPU · 1 GiB');
  assert.equal(describeGuest({ id: 'c', name: 'c', kind: 'container', state: 'paused', rawState: 'Paused', image: 'busybox' }), 'paused · busybox');
});

test('formatBytes', () => {
  assert.equal(formatBytes(256 * 1024 ** 2), '256 MiB');
  assert.equal(formatBytes(2 * 1024 ** 3), '2 GiB');
  assert.equal(formatBytes(1.3 * 1024 ** 3), '1.3 GiB');
});

test('verbsFor: only verbs that fit the state', () => {
  assert.deepEqual(verbsFor({ kind: 'qemu', state: 'running' }), ['shutdown', 'reboot', 'suspend', 'forceOff']);
  assert.deepEqual(verbsFor({ kind: 'qemu', state: 'stopped' }), ['start', 'delete']);
  assert.deepEqual(verbsFor({ kind: 'lxc', state: 'paused' }), ['resume', 'forceOff']);
  assert.deepEqual(verbsFor({ kind: 'container', state: 'crashed' }), ['start', 'delete']);
  assert.ok(!verbsFor({ kind: 'qemu', state: 'running' }).includes('delete'), 'a running guest cannot be deleted from the menu');
});

test('verbLabel: freeze for LXC, pause for containers', () => {
  assert.equal(verbLabel('suspend', 'lxc'), 'Freeze');
  assert.equal(verbLabel('suspend', 'container'), 'Pause');
  assert.equal(verbLabel('suspend', 'qemu'), 'Suspend');
  assert.equal(verbLabel('resume', 'lxc'), 'Unfreeze');
});

test('deleteWarning says what is lost', () => {
  assert.match(deleteWarning({ ...vm, kind: 'lxc' }), /root filesystem are deleted/);
  assert.match(deleteWarning(vm), /Disk images are kept/);
});

test('mapContainerState', () => {
  assert.equal(mapContainerState('running'), 'running');
  assert.equal(mapContainerState('exited'), 'stopped');
  assert.equal(mapContainerState('created'), 'stopped');
  assert.equal(mapContainerState('paused'), 'paused');
  assert.equal(mapContainerState('dead'), 'crashed');
  assert.equal(mapContainerState('weird'), 'unknown');
});

test('candidateSockets: DOCKER_HOST first, then Docker, then Podman', () => {
  assert.deepEqual(candidateSockets({ DOCKER_HOST: 'unix:///x/d.sock' }), ['/x/d.sock', '/var/run/docker.sock', '/run/podman/podman.sock']);
  assert.deepEqual(candidateSockets({ DOCKER_HOST: 'tcp://h:2375', XDG_RUNTIME_DIR: '/run/user/1000' }), [
    '/var/run/docker.sock',
    '/run/podman/podman.sock',
    '/run/user/1000/podman/podman.sock',
  ]);
});

test('parseConnections: defaults, bad entries reported, the rest loaded', () => {
  assert.equal(parseConnections(undefined).connections.length, DEFAULT_CONNECTIONS.length);
  const r = parseConnections([
    { type: 'libvirt', uri: 'qemu:///system' },
    { type: 'libvirt' },
    { type: 'nope' },
    7,
    { type: 'docker', socketPath: '/s' },
    { type: 'libvirt', uri: 'qemu:///system' },
  ]);
  assert.deepEqual(
    r.connections.map((c) => c.id),
    ['qemu:///system', 'docker-5'],
  );
  assert.equal(r.problems.length, 4);
  assert.match(r.problems[0], /needs a uri/);
  assert.match(r.problems[3], /duplicate id/);
});
