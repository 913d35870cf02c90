// The shared host helpers: one of each, every one over a Host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostBasics } from '../../src/core/host/facts';
import { Host, HostRunError, HostRunOptions } from '../../src/core/host/host';
import { localHost } from '../../src/core/host/local';
import { lxcPathOn } from '../../src/core/host/lxcpath';
import { hostIPv4s, inNetns } from '../../src/core/host/net';
import { libvirtDomainPid } from '../../src/core/host/pids';

/** A host whose files and programs are scripted. */
function fakeHost(files: Record<string, string>, programs: Record<string, string | Error> = {}, ran: string[][] = []): Host {
  return {
    ...localHost,
    label: 'kvm1',
    readFile: async (p: string) => {
      if (p in files) return files[p];
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
    run: async (argv: readonly string[], _o?: HostRunOptions) => {
      ran.push([...argv]);
      const out = programs[argv.filter((a) => !a.startsWith('--net=') && a !== 'nsenter' && a !== '--')[0]];
      if (out instanceof Error) throw out;
      return out === undefined ? { exitCode: 127, stdout: '', stderr: 'not here' } : { exitCode: 0, stdout: out, stderr: '' };
    },
  } as unknown as Host;
}

test('libvirt pid files: qemu and lxc drivers; a name that is no file name reads nothing', async () => {
  const h = fakeHost({ '/run/libvirt/qemu/vm1.pid': '1234\n', '/run/libvirt/lxc/ct1.pid': '99', '/run/libvirt/qemu/bad.pid': 'x' });
  assert.equal(await libvirtDomainPid(h, 'qemu', 'vm1'), 1234);
  assert.equal(await libvirtDomainPid(h, 'libvirt-lxc', 'ct1'), 99);
  assert.equal(await libvirtDomainPid(h, 'qemu', 'gone'), undefined);
  assert.equal(await libvirtDomainPid(h, 'qemu', 'bad'), undefined);
  assert.equal(await libvirtDomainPid(h, 'qemu', '../qemu/vm1'), undefined);
});

test('lxcpath: configured, else lxc-config, else the default; strict names the host', async () => {
  assert.equal(await lxcPathOn(fakeHost({}), '/srv/lxc'), '/srv/lxc');
  assert.equal(await lxcPathOn(fakeHost({}, { 'lxc-config': '/var/lib/lxc2\n' })), '/var/lib/lxc2');
  assert.equal(await lxcPathOn(fakeHost({}, { 'lxc-config': '' })), '/var/lib/lxc');
  const noLxc = fakeHost({}, { 'lxc-config': new HostRunError(['lxc-config'], 'kvm1', 'not-found') });
  assert.equal(await lxcPathOn(noLxc), '/var/lib/lxc');
  await assert.rejects(lxcPathOn(noLxc, undefined, { strict: true }), { message: 'lxc-config was not found on kvm1' });
});

test("netns argv and the host's IPv4 addresses in it", async () => {
  assert.deepEqual(inNetns('lab', ['ip', 'a']), ['nsenter', '--net=/run/netns/lab', '--', 'ip', 'a']);
  assert.throws(() => inNetns('a/b', ['ip']), /not a network namespace name/);
  const ran: string[][] = [];
  const json = JSON.stringify([
    { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    {
      ifname: 'vsbr0',
      addr_info: [
        { family: 'inet6', local: 'fe80::1' },
        { family: 'inet', local: '10.77.0.1', prefixlen: 24 },
      ],
    },
  ]);
  const h = fakeHost({}, { ip: json }, ran);
  assert.deepEqual(await hostIPv4s(h, { netns: 'lab' }), [{ ifname: 'vsbr0', address: '10.77.0.1', prefix: 24 }]);
  assert.deepEqual(ran[0], ['nsenter', '--net=/run/netns/lab', '--', 'ip', '-j', '-4', 'addr', 'show']);
  await assert.rejects(hostIPv4s(fakeHost({}, { ip: 'garbage' })), /ip -j printed no JSON on kvm1/);
});

test("host basics come from the host's own /proc", async () => {
  const h = fakeHost({
    '/proc/cpuinfo': 'processor\t: 0\nmodel name\t: Test CPU\nflags\t: fpu vmx\n\nprocessor\t: 1\nmodel name\t: Test CPU\n',
    '/proc/meminfo': 'MemTotal:        2048 kB\nMemFree: 1 kB\n',
    '/proc/sys/kernel/osrelease': '6.1.0-test\n',
    '/proc/sys/kernel/ostype': 'Linux\n',
  });
  const b = await hostBasics(h);
  assert.deepEqual(
    { cpus: b.cpus, cpuModel: b.cpuModel, memBytes: b.memBytes, kernelRelease: b.kernelRelease, osType: b.osType },
    { cpus: 2, cpuModel: 'Test CPU', memBytes: 2048 * 1024, kernelRelease: '6.1.0-test', osType: 'Linux' },
  );
});
