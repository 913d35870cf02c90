// Show Guest Log against the lab: labvm's libvirt log (QEMU's command line is in it) and labpod's
// engine log, followed and stopped. Nothing in the lab changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { DockerBackend } from '../../src/core/backends/docker';
import { requireCapability } from '../../src/core/capabilities';
import { waitFor } from './util';

const qemu = new LibvirtBackend({ id: 'it-qemu', type: 'libvirt', uri: 'qemu:///system' });
const pod = new DockerBackend({ id: 'it-pod', type: 'docker', socketPath: '/run/podman/podman.sock' });

after(async () => {
  await Promise.all([qemu.close(), pod.close()]);
});

test("labvm: libvirt's log of the domain, from its host", async () => {
  await qemu.connect();
  const g = (await qemu.list()).find((x) => x.name === 'labvm');
  assert.ok(g);
  const f = await requireCapability(qemu, g, 'log').follow({ lines: 200 });
  let text = '';
  f.output.on('data', (d: Buffer) => (text += d.toString()));
  await waitFor(() => /qemu-system|-name guest=labvm/.test(text), 10_000, "QEMU's command line in the log");
  assert.equal(f.source, '/var/log/libvirt/qemu/labvm.log on this machine');
  await f.stop();
});

test("labpod: the engine's log of the container, followed until stopped", async () => {
  await pod.connect();
  const g = (await pod.list()).find((x) => x.name === 'labpod');
  assert.ok(g);
  const f = await requireCapability(pod, g, 'log').follow({ lines: 50 });
  assert.equal(f.source, "the engine's log of labpod");
  let ended = false;
  void f.ended.then(() => (ended = true));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ended, false, "a running container's log stays open");
  await f.stop();
  await waitFor(() => ended, 5000, 'the log stream to end after stop');
});
