// Which capabilities each kind of backend gives for each kind of guest: features ask for these
// instead of testing the backend's class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { capabilitiesOf, capability, requireCapability } from '../../src/core/capabilities';
import { DockerBackend } from '../../src/core/backends/docker';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { LxcBackend } from '../../src/core/backends/lxc';
import { editableDefinitions } from '../../src/core/editing/definitions';
import { Host } from '../../src/core/host/host';
import { localHost } from '../../src/core/host/local';
import { Guest } from '../../src/core/model';
import { traceTargetFor } from '../../src/core/trace/target';

const guest = (kind: Guest['kind'], extra: Partial<Guest> = {}): Guest => ({ id: `id-${kind}`, name: `g-${kind}`, kind, state: 'running', rawState: 'running', ...extra });
const names = (o: object) => Object.entries(o).filter(([, v]) => v !== undefined).map(([k]) => k).sort();

test('libvirt qemu:///system: a QEMU domain has exec, monitor, definition, stats, host process, console, log', () => {
  const b = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
  assert.deepEqual(names(capabilitiesOf(b, guest('qemu'))), ['console', 'definition', 'exec', 'hostProcess', 'log', 'monitor', 'stats']);
  assert.equal(capability(b, guest('qemu'), 'definition')!.language, 'xml');
  assert.equal(capability(b, guest('qemu'), 'hostProcess')!.host, localHost);
  // the connection itself: definitions (create) and bulk stats
  assert.deepEqual(names(capabilitiesOf(b)), ['definition', 'stats']);
});

test('libvirt lxc:///system: a libvirt-LXC domain has no monitor', () => {
  const b = new LibvirtBackend({ id: 'l', type: 'libvirt', uri: 'lxc:///system' });
  assert.deepEqual(names(capabilitiesOf(b, guest('libvirt-lxc'))), ['console', 'definition', 'exec', 'hostProcess', 'log', 'shell', 'stats']);
});

test('libvirt on a driver elsewhere (test driver, ssh): no host process here', () => {
  const b = new LibvirtBackend({ id: 't', type: 'libvirt', uri: 'test+unix:///default' });
  assert.deepEqual(names(capabilitiesOf(b, guest('qemu'))), ['console', 'definition', 'exec', 'monitor', 'stats']);
});

test('libvirt host process: the pid file of the domain, through the backend\'s host', async () => {
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
  assert.deepEqual(names(capabilitiesOf(b, guest('lxc', { runtimeId: process.pid }))), ['definition', 'exec', 'hostProcess', 'log', 'shell']);
  assert.equal(capability(b, undefined, 'definition')!.language, 'lxc-config');
  // the pid lxc-info gave while listing, while that process lives
  assert.equal(await capability(b, guest('lxc', { runtimeId: process.pid }), 'hostProcess')!.pid(), process.pid);
});

test('Docker/Podman: exec once connected, the engine\'s pid as host process, a shell, its log, no definition', () => {
  const b = new DockerBackend({ id: 'd', type: 'docker', socketPath: '/nonexistent.sock' });
  assert.deepEqual(names(capabilitiesOf(b, guest('container', { runtimeId: 77 }))), ['exec', 'hostProcess', 'log', 'shell']);
  assert.equal(editableDefinitions(b), undefined);
  assert.deepEqual(names(capabilitiesOf(b, guest('container'))), ['exec', 'log', 'shell']);
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
