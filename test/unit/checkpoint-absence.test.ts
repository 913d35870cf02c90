// Docker/Podman containers: the Checkpoint verb is absent, and the tooltip says why on that host.
import test from 'node:test';
import assert from 'node:assert/strict';
import { checkpointAbsence } from '../../src/core/backends/docker/checkpoint';
import { guestItemSpec } from '../../src/core/treeModel';
import { FakeHost, ok } from '../fixtures/remote/fakeHost';

async function withHost(fn: (h: FakeHost) => Promise<void>): Promise<void> {
  const h = new FakeHost('sshhost-lab');
  try {
    await fn(h);
  } finally {
    h.close();
  }
}

test('no criu on the host: absent, CRIU not installed, naming the host', () =>
  withHost(async (h) => {
    assert.equal(await checkpointAbsence(h), 'Checkpoint/restore: absent — CRIU is not installed on sshhost-lab');
    assert.deepEqual(h.ran, [['criu', 'check']]);
  }));

test("criu that cannot checkpoint on this kernel: absent, with criu's own last words", () =>
  withHost(async (h) => {
    // the words CRIU 3.17 printed on this lab's kernel
    const stderr = 'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\nCould not initialize kernel features detection.\n';
    h.programs.set('criu', () => ({ exitCode: 1, stdout: '', stderr }));
    assert.equal(
      await checkpointAbsence(h),
      'Checkpoint/restore: absent — CRIU cannot checkpoint on sshhost-lab (criu check: Could not initialize kernel features detection.)',
    );
  }));

test('a working criu: still absent, and the tooltip says virtscope does not offer it yet', () =>
  withHost(async (h) => {
    h.programs.set('criu', () => ok('Looks good.\n'));
    assert.match(await checkpointAbsence(h), /CRIU works on sshhost-lab, but virtscope does not offer container checkpoints yet/);
  }));

test("the reason is a line of the container's tooltip", () => {
  const spec = guestItemSpec(
    { id: 'c1', name: 'web', kind: 'container', state: 'running', rawState: 'Up', absentVerbs: ['Checkpoint/restore: absent — CRIU is not installed on here'] },
    'Podman',
  );
  assert.match(spec.tooltip, /\n\nCheckpoint\/restore: absent — CRIU is not installed on here$/);
});
