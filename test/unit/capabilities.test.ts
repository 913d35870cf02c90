// Which capabilities each kind of backend gives for each kind of guest: features ask for these
// instead of testing the backend's class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { capabilitiesOf, capability, CapabilityProvider, requireCapability } from '../../src/core/capabilities';
import { DockerBackend } from '../../src/core/backends/docker';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { LxcBackend } from '../../src/core/backends/lxc';
import { editableDefinitions } from '../../src/core/editing/definitions';
import { Host } from '../../src/core/host/host';
import { localHost } from '../../src/core/host/local';
import { executorFor } from '../../src/core/guest/exec';
import { Backend, Guest } from '../../src/core/model';
import { traceTargetFor } from '../../src/core/trace/target';

const guest = (kind: Guest['kind'], extra: Partial<Guest> = {}): Guest => ({
  id: `id-${kind}`,
  name: `g-${kind}`,
  kind,
  state: 'running',
  rawState: 'running',
  ...extra,
});
const names = (o: object) =>
  Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k)
    .sort();

test('libvirt qemu:///system: a QEMU domain has exec, monitor, definition, stats, host process, console, graphics, log', () => {
  const b = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
  assert.deepEqual(names(capabilitiesOf(b, guest('qemu'))), [
    'clone',
    'console',
    'definition',
    'exec',
    'graphics',
    'hostProcess',
    'log',
    'monitor',
    'snapshots',
    'stats',
  ]);
  assert.equal(capability(b, guest('qemu'), 'definition')!.language, 'xml');
  assert.equal(capability(b, guest('qemu'), 'hostProcess')!.host, localHost);
  // the connection itself: definitions (create), bulk stats, storage and networks
  assert.deepEqual(names(capabilitiesOf(b)), ['definition', 'networks', 'stats', 'storage']);
});

test('libvirt lxc:///system: a libvirt-LXC domain has no monitor', () => {
  const b = new LibvirtBackend({ id: 'l', type: 'libvirt', uri: 'lxc:///system' });
  assert.deepEqual(names(capabilitiesOf(b, guest('libvirt-lxc'))), ['console', 'definition', 'exec', 'hostProcess', 'log', 'shell', 'stats']);
});

test('libvirt on a driver elsewhere (test driver, ssh): no host process here', () => {
  const b = new LibvirtBackend({ id: 't', type: 'libvirt', uri: 'test+unix:///default' });
  assert.deepEqual(names(capabilitiesOf(b, guest('qemu'))), ['clone', 'console', 'definition', 'exec', 'graphics', 'monitor', 'snapshots', 'stats']);
});

test("libvirt host process: the pid file of the domain, through the backend's host", async () => {
  const reads: string[] = [];
  const host = { ...localHost, label: 'fake', readFile: async (p: string) => (reads.push(p), '4242\n') } as unknown as Host;
  const b = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' }, { host });
  assert.equal(await capability(b, guest('qemu'), 'hostProcess')!.pid(), 4242);
  const l = new LibvirtBackend({ id: 'l', type: 'libvirt', uri: 'lxc:///system' }, { host });
  assert.equal(await capability(l, guest('libvirt-lxc'), 'hostProcess')!.pid(), 4242);
  assert.deepEqual(reads, ['/run/libvirt/qemu/g-qemu.pid', '/run/libvirt/lxc/g-libvirt-lxc.pid']);
});

test('lxc-tools: exec, definition, host process, shell, log; no monitor, no bulk stats', async () => {
  const b = new LxcBackend({ id: 'x', type: 'lxc', lxcPath: '/nonexistent' });
  assert.deepEqual(names(capabilitiesOf(b, guest('lxc', { runtimeId: process.pid }))), ['definition', 'exec', 'hostProcess', 'log', 'shell', 'snapshots']);
  assert.equal(capability(b, undefined, 'definition')!.language, 'lxc-config');
  // the pid lxc-info gave while listing, while that process lives
  assert.equal(await capability(b, guest('lxc', { runtimeId: process.pid }), 'hostProcess')!.pid(), process.pid);
});

test("Docker/Podman: exec once connected, engine statistics, the engine's pid as host process, a shell, its log, no definition", () => {
  const b = new DockerBackend({ id: 'd', type: 'docker', socketPath: '/nonexistent.sock' });
  assert.deepEqual(names(capabilitiesOf(b, guest('container', { runtimeId: 77 }))), ['engineStats', 'exec', 'hostProcess', 'log', 'shell']);
  assert.equal(editableDefinitions(b), undefined);
  assert.deepEqual(names(capabilitiesOf(b, guest('container'))), ['engineStats', 'exec', 'log', 'shell']);
  // for the whole connection: the engine's statistics, not libvirt's bulk statistics
  assert.deepEqual(names(capabilitiesOf(b)), ['engineStats']);
});

test('a guest kind the backend cannot run programs in: no exec (not an exception)', () => {
  const b = new LxcBackend({ id: 'x', type: 'lxc' });
  assert.equal(capability(b, guest('qemu'), 'exec'), undefined);
  assert.throws(() => requireCapability(b, guest('qemu'), 'monitor'), { message: '"g-qemu" has no hypervisor monitor' });
});

test('editableDefinitions and the trace target ask the capabilities', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-caps-'));
  try {
    assert.equal(editableDefinitions(new LxcBackend({ id: 'x', type: 'lxc', lxcPath: dir }))!.language, 'lxc-config');
    assert.equal(editableDefinitions(new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' }))!.language, 'xml');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const q = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
  assert.equal(traceTargetFor(q, guest('qemu')).name, 'g-qemu');
  assert.throws(() => traceTargetFor(new LxcBackend({ id: 'x', type: 'lxc' }), guest('lxc')), /not a QEMU guest/);
  assert.throws(() => traceTargetFor(new LibvirtBackend({ id: 'l', type: 'libvirt', uri: 'lxc:///system' }), guest('libvirt-lxc')), /not a QEMU guest/);
});

test('exec: each backend brings its own executor for the guest kinds it runs', () => {
  const q = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
  const l = new LibvirtBackend({ id: 'l', type: 'libvirt', uri: 'lxc:///system' });
  const x = new LxcBackend({ id: 'x', type: 'lxc', lxcPath: '/nonexistent' });
  const d = new DockerBackend({ id: 'd', type: 'docker', socketPath: '/nonexistent.sock' });
  assert.equal(capability(q, guest('qemu'), 'exec')!.description, 'g-qemu (qemu-guest-agent)');
  assert.equal(capability(l, guest('libvirt-lxc'), 'exec')!.description, 'g-libvirt-lxc (nsenter)');
  assert.equal(capability(x, guest('lxc'), 'exec')!.description, 'g-lxc (lxc-attach)');
  assert.equal(capability(d, guest('container'), 'exec')!.description, 'g-container (engine exec)');
  // a kind the backend does not run: none, and the connection itself has none
  assert.equal(capability(d, guest('lxc'), 'exec'), undefined);
  assert.equal(capability(x, guest('container'), 'exec'), undefined);
  assert.equal(capability(q, undefined, 'exec'), undefined);
  assert.throws(() => executorFor(x, guest('qemu')), { message: '"g-qemu" has no way to run programs inside it' });
});

test('exec: a backend of any class that says it can, is asked (no class test)', async () => {
  const exec = { description: 'fake', exec: async (argv: string[]) => ({ exitCode: 0, stdout: argv.join(' '), stderr: '' }) };
  const said: Backend & CapabilityProvider = {
    config: { id: 'f', type: 'docker' },
    connect: async () => undefined,
    close: async () => undefined,
    list: async () => [],
    get: async () => undefined,
    perform: async () => undefined,
    definition: async () => ({ language: 'json', text: '{}' }),
    subscribe: () => false,
    capabilities: (g?: Guest) => (g ? { exec } : {}),
  };
  assert.equal(executorFor(said, guest('qemu')), exec);
  assert.equal((await executorFor(said, guest('qemu')).exec(['a', 'b'])).stdout, 'a b');
  const silent: Backend = { ...said, capabilities: undefined } as unknown as Backend;
  assert.deepEqual(capabilitiesOf(silent, guest('qemu')), {});
  assert.throws(() => executorFor(silent, guest('qemu')), /no way to run programs/);
});

test("exec: Docker/Podman runs on the connection's own engine client (none before connect)", async () => {
  const d = new DockerBackend({ id: 'd', type: 'docker', socketPath: '/nonexistent.sock' });
  await assert.rejects(executorFor(d, guest('container')).exec(['true'], { timeoutMs: 2000 }), /Not connected to the container engine/);
});

test("exec and host process run on the backend's host", async () => {
  const ran: string[][] = [];
  const host = {
    ...localHost,
    label: 'kvm1',
    run: async (argv: readonly string[]) => (ran.push([...argv]), { exitCode: 0, stdout: 'hi', stderr: '' }),
  } as unknown as Host;
  const x = new LxcBackend({ id: 'x', type: 'lxc' }, host);
  assert.equal((await executorFor(x, guest('lxc')).exec(['echo', 'hi'])).stdout, 'hi');
  assert.equal(ran[0][0], 'lxc-attach');
  assert.deepEqual(ran[0].slice(-3), ['--', 'echo', 'hi']);
  const d = new DockerBackend({ id: 'd', type: 'docker' }, { host });
  assert.equal(capability(d, guest('container', { runtimeId: 77 }), 'hostProcess')!.host, host);
  assert.equal(new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' }, { host }).host, host);
});
