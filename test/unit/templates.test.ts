// New Guest from Template: a QEMU guest is made for the host it will run on (its arch, whether it
// has KVM), which for a remote host is not the machine VS Code runs on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QEMU_TEMPLATE, renderTemplate, templateFactsOf } from '../../src/core/editing/templates';
import type { Host } from '../../src/core/host/host';

/** A host that answers `uname -m` and /dev/kvm as told. */
function hostWith(arch: string, kvm: boolean): Host {
  return {
    label: 'kvm-arm',
    run: async (argv: readonly string[]) => {
      assert.deepEqual(argv, ['uname', '-m']);
      return { exitCode: 0, stdout: `${arch}\n`, stderr: '' };
    },
    exists: async (p: string) => p === '/dev/kvm' && kvm,
  } as unknown as Host;
}

test("the QEMU template takes the arch and KVM of the guest's host", async () => {
  const arm = renderTemplate(QEMU_TEMPLATE, 'vm1', await templateFactsOf(hostWith('aarch64', false)));
  assert.match(arm, /<domain type='qemu'>/);
  assert.match(arm, /<type arch='aarch64'>hvm<\/type>/);
  const kvm = renderTemplate(QEMU_TEMPLATE, 'vm1', await templateFactsOf(hostWith('x86_64', true)));
  assert.match(kvm, /<domain type='kvm'>/);
  assert.match(kvm, /<type arch='x86_64'>hvm<\/type>/);
});

test('a host that cannot say its arch: x86_64, the common case', async () => {
  const mute = { label: 'h', run: async () => Promise.reject(new Error('gone')), exists: async () => false } as unknown as Host;
  assert.deepEqual(await templateFactsOf(mute), { arch: 'x86_64', kvm: false });
});
