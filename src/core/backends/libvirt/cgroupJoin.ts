// Which cgroups a program started from the host for a libvirt-LXC domain must join, so it is
// charged to the domain (and bound by its limits), not to the caller.
import * as path from 'node:path';

/** Mount points of the cgroup hierarchies, keyed by the controller list ("memory", "cpu,cpuacct", "" for v2). */
export function parseCgroupMounts(mountinfo: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mnt = pre.split(' ')[4];
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype === 'cgroup2') out.set('', mnt);
    else if (fstype === 'cgroup') {
      const ctl = superOpts
        .split(',')
        .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'nsdelegate');
      out.set(ctl.join(','), mnt);
    }
  }
  return out;
}

/** The cgroup.procs files of every hierarchy a process is in (v1 and v2), from /proc/PID/cgroup. */
export function cgroupProcsFiles(procCgroup: string, mounts: Map<string, string>): string[] {
  const files: string[] = [];
  for (const line of procCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    if (!m) continue;
    const mnt = mounts.get(m[1]);
    if (mnt && m[2] !== '/') files.push(path.join(mnt, m[2], 'cgroup.procs'));
  }
  return files;
}

// A fixed script (no user value is ever part of it): moves itself into the cgroups given as
// arguments, then execs the rest of its arguments, so every process it starts is in them too.
const JOIN_CGROUPS_AND_EXEC = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" 2>/dev/null; shift; n=$((n-1)); done; exec "$@"';

/** argv that runs `argv` inside the cgroups whose cgroup.procs files are `procsFiles`. */
export function joinCgroupsArgv(procsFiles: readonly string[], argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', JOIN_CGROUPS_AND_EXEC, 'sh', String(procsFiles.length), ...procsFiles, ...argv];
}
