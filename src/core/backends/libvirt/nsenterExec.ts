// Programs inside a libvirt-LXC domain: nsenter into the namespaces of the domain's init, in the
// domain's cgroups, on the host the domain runs on.
import { BackendError, Guest } from '../../model';
import { execOnHost, GUEST_PATH, GuestExecOptions, GuestExecResult, GuestExecutor } from '../../guest/exec';
import type { Host } from '../../host/host';
import { libvirtDomainPid, LIBVIRT_PID_DIRS } from '../../host/pids';
import { cgroupProcsFiles, joinCgroupsArgv, parseCgroupMounts } from './cgroupJoin';

/** The domain's libvirt_lxc controller (its pid file); its (only) child is the container's init. */
export async function libvirtLxcInitPid(host: Host, name: string, runDir: string = LIBVIRT_PID_DIRS['libvirt-lxc']): Promise<number> {
  if (!name || /[/\0]/.test(name) || name === '..' || name === '.') throw new BackendError(`invalid domain name ${JSON.stringify(name)}`);
  const ctl = await libvirtDomainPid(host, 'libvirt-lxc', name, runDir);
  if (ctl === undefined) {
    throw new BackendError(
      `libvirt-LXC domain "${name}" has no controller pid file in ${runDir} on ${host.label}`,
      'ENOENT',
      'Is the domain running on this host? Commands inside libvirt-LXC domains need the lxc:///system driver of the host the domain runs on.',
    );
  }
  const children: number[] = [];
  try {
    for (const t of await host.readdir(`/proc/${ctl}/task`)) {
      const text = await host.readFile(`/proc/${ctl}/task/${t.name}/children`).catch(() => '');
      children.push(...text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    throw new BackendError(`libvirt-LXC controller ${ctl} of "${name}" is not running`);
  }
  // init is the child in another pid namespace than the controller's
  const ctlNs = await host.readlink(`/proc/${ctl}/ns/pid`).catch(() => '');
  for (const c of children) {
    const ns = await host.readlink(`/proc/${c}/ns/pid`).catch(() => '');
    if (ns && ns !== ctlNs) return c;
  }
  throw new BackendError(`could not find the init process of libvirt-LXC domain "${name}" (controller pid ${ctl})`);
}

/** The host argv that runs `argv` in the namespaces and cgroups of init `pid`. */
export async function nsenterArgv(host: Host, pid: number, argv: readonly string[]): Promise<string[]> {
  const [mountinfo, procCgroup] = await Promise.all([
    host.readFile('/proc/self/mountinfo').catch(() => ''),
    host.readFile(`/proc/${pid}/cgroup`).catch(() => ''),
  ]);
  const files = cgroupProcsFiles(procCgroup, parseCgroupMounts(mountinfo));
  return joinCgroupsArgv(files, ['nsenter', '--target', String(pid), '--all', '--root', '--wd', '--', ...argv]);
}

export class NsenterExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    private readonly host: Host,
    private readonly guest: Guest,
    private readonly initPid: () => Promise<number> = () => libvirtLxcInitPid(host, guest.name),
  ) {
    this.description = `${guest.name} (nsenter)`;
  }

  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    const hostArgv = await nsenterArgv(this.host, await this.initPid(), argv);
    return execOnHost(this.host, hostArgv, opts, { where: this.guest.name, env: { PATH: GUEST_PATH }, shown: argv });
  }
}
