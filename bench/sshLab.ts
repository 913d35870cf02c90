// The lab's second host (scripts/lab/ssh-host.sh) for the SSH benchmarks (bench/fleet.ts, bench/ssh.ts):
// its client files, ssh_config aliases of it (each its own SSH connection, as separate hosts would be),
// a wrapper for libvirt's ?command= and the CPU time of everything a bench started.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const LAB_SCRIPT = path.join(__dirname, '../scripts/lab/ssh-host.sh');

export interface SshLab {
  addr: string;
  alias: string;
  key: string;
  knownHosts: string;
  sshConfig: string;
}

/** The second host's client files; throws with what to do when it is not up. */
export function sshLab(): SshLab {
  const status = execFileSync('bash', [LAB_SCRIPT, 'status'], { encoding: 'utf8' });
  if (status.trim().split('\n').pop() !== 'sshhost: up') throw new Error('the second host is not up: bash scripts/lab/ssh-host.sh up (or scripts/lab.sh up)');
  const env = new Map<string, string>();
  for (const l of execFileSync('bash', [LAB_SCRIPT, 'env'], { encoding: 'utf8' }).split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env.set(l.slice(0, i), l.slice(i + 1));
  }
  const get = (k: string) => env.get(k) ?? (() => { throw new Error(`ssh-host.sh env has no ${k}`); })(); // prettier-ignore
  return {
    addr: get('SSHHOST_ADDR'),
    alias: get('SSHHOST_ALIAS'),
    key: get('SSHHOST_KEY'),
    knownHosts: get('SSHHOST_KNOWN_HOSTS'),
    sshConfig: get('SSHHOST_SSH_CONFIG'),
  };
}

/** An ssh_config block naming the second host as `alias` (at `hostName`:`port`, its keys checked as its own). */
export function aliasBlock(lab: SshLab, alias: string, hostName = lab.addr, port?: number): string {
  return [
    `Host ${alias}`,
    `  HostName ${hostName}`,
    ...(port ? [`  Port ${port}`, `  HostKeyAlias ${lab.addr}`] : []),
    '  User root',
    `  IdentityFile ${lab.key}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${lab.knownHosts}`,
    '',
  ].join('\n');
}

/**
 * `dir/ssh_config` with `n` aliases (prefix01…) of the second host, each with the lab's key and
 * known_hosts. Every alias is a host of its own to ssh: its own master, its own ControlPath.
 */
export function writeAliases(lab: SshLab, dir: string, prefix: string, n: number, port?: number): { config: string; aliases: string[] } {
  const aliases = Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);
  const config = path.join(dir, 'ssh_config');
  fs.writeFileSync(config, aliases.map((a) => aliasBlock(lab, a, lab.addr, port)).join('\n'), { mode: 0o600 });
  return { config, aliases };
}

/**
 * An ssh wrapper for libvirt's `?command=` (as a user's ssh_config with ControlMaster auto would be):
 * batch mode, the host keys checked, one master per alias under `controlDir`.
 */
export function sshWrapper(dir: string, name: string, config: string, controlDir: string): string {
  fs.mkdirSync(controlDir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  const opts = [
    `-F ${config}`,
    '-o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR',
    `-o ControlMaster=auto -o ControlPath=${controlDir}/%C -o ControlPersist=120`,
  ].join(' ');
  fs.writeFileSync(file, `#!/bin/sh\nexec ssh ${opts} "$@"\n`, { mode: 0o755 });
  return file;
}

/** Ends the masters the wrapper left (ControlPersist), each by its alias. */
export function closeMasters(config: string, controlDir: string, aliases: readonly string[]): void {
  for (const a of aliases) {
    try {
      execFileSync('ssh', ['-F', config, '-o', `ControlPath=${controlDir}/%C`, '-O', 'exit', a], { stdio: 'ignore', timeout: 5000 });
    } catch {
      /* none for that alias */
    }
  }
}

const statTicksPerMs = 100 / 1000; // /proc/PID/stat counts USER_HZ (100) ticks

/** utime+stime+cutime+cstime of one process, ms (cu/cs: its children it has waited for). */
function procCpuMs(pid: string | number): number {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / statTicksPerMs;
}

/**
 * CPU time (ms) of this machine's side of a bench so far: this process with the children it reaped,
 * plus every live process whose command line names `tag` (ssh masters and kept virsh shells, which
 * are not reaped while the bench runs). Differences of two readings are what a block of work cost.
 */
export function clientCpuMs(tag: string): number {
  let ms = procCpuMs('self');
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(tag)) ms += procCpuMs(pid);
    } catch {
      /* gone */
    }
  }
  return ms;
}

/** The port of the bench's own sshd on the second host (see startFleetSshd). */
export const FLEET_SSHD_PORT = 2222;

// Inside the second host: a copy of its sshd_config on another port with room for many handshakes at
// once, started; and stopped again. Fixed scripts (no input from outside).
const START_SSHD =
  `sed -e 's/^\\(ListenAddress .*\\):22$/\\1:${FLEET_SSHD_PORT}/' -e 's|^PidFile .*|PidFile /run/sshd-bench.pid|' /etc/ssh/sshd_config > /tmp/sshd-bench.conf && ` +
  `echo 'MaxStartups 200' >> /tmp/sshd-bench.conf && /usr/sbin/sshd -f /tmp/sshd-bench.conf -E /tmp/sshd-bench.log < /dev/null`;
const STOP_SSHD = 'p=$(cat /run/sshd-bench.pid 2>/dev/null) && kill "$p"; rm -f /tmp/sshd-bench.conf /tmp/sshd-bench.log /run/sshd-bench.pid';

/**
 * N hosts have N sshds: one sshd standing in for all of them drops handshakes beyond its MaxStartups
 * (10 unauthenticated at once, then 30 % at random), which no real fleet of separate hosts does. The
 * fleet bench's aliases reach a second sshd of the same host (same keys and accounts, its own port,
 * MaxStartups 200); stopFleetSshd ends it. The lab's own sshd is left as it is.
 */
export function startFleetSshd(): void {
  execFileSync('bash', [LAB_SCRIPT, 'exec', 'sh', '-c', START_SSHD], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function stopFleetSshd(): void {
  execFileSync('bash', [LAB_SCRIPT, 'exec', 'sh', '-c', STOP_SSHD], { stdio: 'ignore' });
}
