// Which cgroup.procs files a libvirt-LXC command joins. Inputs recorded on this project's machine
// (Debian 12 kernel 6.18, hybrid cgroup v1 + v2 layout): /proc/self/mountinfo's cgroup lines, and
// /proc/<init pid>/cgroup of the lab's libvirt-LXC domain labvlxc (libvirt 9.0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupProcsFiles, parseCgroupMounts } from '../../src/core/backends/libvirt/cgroupJoin';

const MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
45 31 0:39 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb`;

const INIT_CGROUP = `13:hugetlb:/
9:name=systemd:/
8:pids:/
7:blkio:/machine/lxc-15575-labvlxc.libvirt-lxc
6:freezer:/machine/lxc-15575-labvlxc.libvirt-lxc
5:devices:/machine/lxc-15575-labvlxc.libvirt-lxc
4:memory:/machine/lxc-15575-labvlxc.libvirt-lxc
3:cpuset:/machine/lxc-15575-labvlxc.libvirt-lxc
2:cpuacct:/machine/lxc-15575-labvlxc.libvirt-lxc
1:cpu:/machine/lxc-15575-labvlxc.libvirt-lxc
0::/`;

test('cgroup mounts by controller list, v2 under ""', () => {
  const m = parseCgroupMounts(MOUNTINFO);
  assert.equal(m.get('memory'), '/sys/fs/cgroup/memory');
  assert.equal(m.get('name=systemd'), '/sys/fs/cgroup/systemd');
  assert.equal(m.get(''), '/sys/fs/cgroup/unified');
  assert.equal(m.has('tmpfs'), false);
});

test("the guest init's non-root cgroups are joined, root ones skipped", () => {
  // (MOUNTINFO above lists only some hierarchies: the others are not joinable and are skipped)
  const g = '/machine/lxc-15575-labvlxc.libvirt-lxc/cgroup.procs';
  assert.deepEqual(cgroupProcsFiles(INIT_CGROUP, parseCgroupMounts(MOUNTINFO)), [
    `/sys/fs/cgroup/memory${g}`,
    `/sys/fs/cgroup/cpuacct${g}`,
    `/sys/fs/cgroup/cpu${g}`,
  ]);
});
