// One way to run a program inside any kind of guest. The argument vector arrives verbatim: no shell
// string is built on the host side (QEMU: qemu-guest-agent `guest-exec` path + arg array; libvirt-LXC:
// nsenter into the init process's namespaces; lxc-tools: lxc-attach -- argv; Docker/Podman: the
// engine's exec API with a Cmd array).
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { Backend, BackendError, Guest } from '../model';
import { LibvirtBackend } from '../backends/libvirt';
import { LxcBackend } from '../backends/lxc';
import { DockerBackend } from '../backends/docker';
import { engineClient } from '../backends/engineClient';
import { LibvirtError } from '../libvirt/client';

export interface GuestExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  stdin?: string;
}
export interface GuestExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}
export interface GuestExecutor {
  readonly description: string;
  exec(argv: string[], opts?: GuestExecOptions): Promise<GuestExecResult>;
}

/** The PATH given to guest programs (agents and lxc-attach --clear-env start with an empty environment). */
export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_TIMEOUT_MS = 60_000;
/** How long a timed-out container exec may take to find the process to kill. */
const KILL_INSPECT_MS = 2_000;

/** Raised when a guest command was cancelled or timed out; the guest process was killed. */
export class GuestExecAborted extends Error {
  constructor(
    readonly guest: string,
    readonly argv: readonly string[],
    readonly reason: 'cancelled' | 'timeout',
    readonly timeoutMs?: number,
  ) {
    super(
      reason === 'timeout'
        ? `${argv[0]} in ${guest} timed out after ${Math.round((timeoutMs ?? 0) / 1000)} s and was killed`
        : `${argv[0]} in ${guest} was cancelled and killed`,
    );
    this.name = 'GuestExecAborted';
  }
}

export function executorFor(backend: Backend, guest: Guest): GuestExecutor {
  switch (guest.kind) {
    case 'qemu':
      if (!(backend instanceof LibvirtBackend)) throw new BackendError(`${guest.name}: a QEMU guest needs a libvirt connection`);
      return new QemuAgentExecutor(backend, guest);
    case 'libvirt-lxc':
      return new NsenterExecutor(guest, () => libvirtLxcInitPid(guest.name));
    case 'lxc':
      return new LxcAttachExecutor(guest, backend.config.lxcPath);
    case 'container': {
      if (!(backend instanceof DockerBackend)) throw new BackendError(`${guest.name}: a container needs a Docker/Podman connection`);
      const socketPath = backend.socket ?? backend.config.socketPath;
      if (!socketPath) throw new BackendError(`${guest.name}: not connected to the container engine`);
      return new EngineExecutor(engineClient(socketPath), guest);
    }
  }
}

/** Runs on the host itself (the baseline of a benchmark). */
export function hostExecutor(): GuestExecutor {
  return {
    description: 'host',
    exec: (argv, opts) => spawnCollect('host', argv[0], argv.slice(1), opts),
  };
}

// ---------------------------------------------------------------------------------------------
// pure helpers (unit-tested)

/** qemu-guest-agent `guest-exec` command for argv (path + arg array; stdin as base64 input-data). */
export function guestExecCommand(argv: readonly string[], stdin?: string): string {
  if (!argv.length) throw new Error('empty argv');
  const args: Record<string, unknown> = {
    path: argv[0],
    arg: argv.slice(1),
    env: [`PATH=${GUEST_PATH}`],
    'capture-output': true,
  };
  if (stdin !== undefined) args['input-data'] = Buffer.from(stdin, 'utf8').toString('base64');
  return JSON.stringify({ execute: 'guest-exec', arguments: args });
}

export interface AgentExecStatus {
  exited: boolean;
  exitCode?: number;
  signal?: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Parses the reply of `guest-exec-status`. */
export function parseGuestExecStatus(reply: string): AgentExecStatus {
  const r = JSON.parse(reply)?.return;
  if (!r || typeof r !== 'object') throw new Error(`unexpected guest-exec-status reply: ${reply.slice(0, 200)}`);
  const dec = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
  return {
    exited: !!r.exited,
    exitCode: typeof r.exitcode === 'number' ? r.exitcode : undefined,
    signal: typeof r.signal === 'number' ? r.signal : undefined,
    stdout: dec(r['out-data']),
    stderr: dec(r['err-data']),
    truncated: !!(r['out-truncated'] || r['err-truncated']),
  };
}

/** Exit code as a shell would report it: 128+N when killed by signal N. */
export function exitCodeOf(code: number | null | undefined, signal?: number | null): number {
  if (typeof code === 'number') return code;
  if (typeof signal === 'number') return 128 + signal;
  return -1;
}

/** Descendants of `root` (not root itself) from a pid → ppid map, deepest first. */
export function descendants(root: number, ppid: ReadonlyMap<number, number>): number[] {
  const kids = new Map<number, number[]>();
  for (const [p, pp] of ppid) {
    if (!kids.has(pp)) kids.set(pp, []);
    kids.get(pp)!.push(p);
  }
  const out: number[] = [];
  const walk = (p: number, depth: number) => {
    if (depth > 64) return;
    for (const c of kids.get(p) ?? []) {
      walk(c, depth + 1);
      out.push(c);
    }
  };
  walk(root, 0);
  return out;
}

/** The ppid field of /proc/PID/stat (the comm field may contain spaces and parentheses). */
export function parseStatPpid(stat: string): number | undefined {
  const i = stat.lastIndexOf(')');
  if (i < 0) return undefined;
  const f = stat.slice(i + 2).split(' ');
  const n = parseInt(f[1], 10);
  return Number.isFinite(n) ? n : undefined;
}

export function agentMissingHint(name: string): string {
  return (
    `The QEMU guest agent does not answer in "${name}". Install it in the guest ` +
    `(apt-get install qemu-guest-agent / dnf install qemu-guest-agent; systemctl enable --now qemu-guest-agent) ` +
    `and add its channel to the domain: <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel> ` +
    `(virsh edit ${name}, then restart the guest).`
  );
}

// ---------------------------------------------------------------------------------------------
// host process helpers

async function hostPpidMap(): Promise<Map<number, number>> {
  const m = new Map<number, number>();
  for (const e of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const pp = parseStatPpid(await fs.readFile(`/proc/${e}/stat`, 'utf8'));
      if (pp !== undefined) m.set(+e, pp);
    } catch {
      /* gone */
    }
  }
  return m;
}

/** SIGKILL a host process and all its descendants (stopped first so none respawns). */
export async function killHostTree(pid: number, includeRoot = true): Promise<void> {
  // Stop what we find, then look again until nothing new appears: a process can fork between the
  // snapshot and the kill (fio forks one process per job), and its child would be orphaned.
  const all = new Set<number>(includeRoot ? [pid] : []);
  if (includeRoot) safeKill(pid, 'SIGSTOP');
  for (let round = 0; round < 20; round++) {
    const m = await hostPpidMap();
    const found = [pid, ...all].flatMap((p) => descendants(p, m)).filter((p) => !all.has(p));
    if (!found.length) break;
    for (const p of found) {
      all.add(p);
      safeKill(p, 'SIGSTOP');
    }
  }
  for (const p of all) safeKill(p, 'SIGKILL');
  for (const p of all) safeKill(p, 'SIGCONT');
}

function safeKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Spawns a host program (argument array, no shell), collects output, kills its tree on abort/timeout. */
export function spawnCollect(
  where: string,
  file: string,
  args: readonly string[],
  opts: GuestExecOptions = {},
  env?: NodeJS.ProcessEnv,
  displayArgv?: readonly string[],
): Promise<GuestExecResult> {
  const shown = displayArgv ?? [file, ...args];
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new GuestExecAborted(where, shown, 'cancelled'));
    const child = spawn(file, args as string[], { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let aborted: 'cancelled' | 'timeout' | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin.on('error', () => undefined);
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const kill = (why: 'cancelled' | 'timeout') => {
      if (aborted || child.pid === undefined) return;
      aborted = why;
      void killHostTree(child.pid);
    };
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    const onAbort = () => kill('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new Error(`${file} is not installed or not on PATH (${where})`) : e);
    });
    let settled = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (aborted) return reject(new GuestExecAborted(where, shown, aborted, timeoutMs));
      resolve({ exitCode: exitCodeOf(code, sig ? signalNumber(sig) : undefined), stdout: out, stderr: err });
    };
    child.on('close', finish);
    // after a kill, a pipe can stay open in a process that escaped (reparented): do not wait for it
    child.on('exit', (code, sig) => {
      if (!aborted) return;
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, sig);
      }, 1000).unref();
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  const n = osConstants.signals[sig];
  return typeof n === 'number' ? n : 0;
}

// ---------------------------------------------------------------------------------------------
// QEMU: qemu-guest-agent over libvirt RPC

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

class QemuAgentExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    private readonly backend: LibvirtBackend,
    private readonly guest: Guest,
  ) {
    this.description = `${guest.name} (qemu-guest-agent)`;
  }

  private async agent(command: string): Promise<string> {
    const c = await this.backend.client();
    const dom = UUID_RE.test(this.guest.id) ? await c.domainLookupByUUID(this.guest.id) : await c.domainLookupByName(this.guest.name);
    try {
      const reply = await c.domainAgentCommand(dom, command, 10);
      if (reply == null) throw new BackendError(`qemu-guest-agent in ${this.guest.name} returned nothing`);
      return reply;
    } catch (e) {
      if (e instanceof LibvirtError && /agent/i.test(e.message)) {
        throw new BackendError(`${this.guest.name}: ${e.message}`, e.code, agentMissingHint(this.guest.name));
      }
      throw e;
    }
  }

  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    const where = this.guest.name;
    if (opts.signal?.aborted) throw new GuestExecAborted(where, argv, 'cancelled');
    const started = JSON.parse(await this.agent(guestExecCommand(argv, opts.stdin)));
    const pid = started?.return?.pid;
    if (typeof pid !== 'number') throw new BackendError(`guest-exec in ${where} returned no pid`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let delay = 20;
    for (;;) {
      const st = parseGuestExecStatus(await this.agent(JSON.stringify({ execute: 'guest-exec-status', arguments: { pid } })));
      if (st.exited) {
        return { exitCode: exitCodeOf(st.exitCode, st.signal), stdout: st.stdout, stderr: st.stderr };
      }
      const why = opts.signal?.aborted ? 'cancelled' : Date.now() > deadline ? 'timeout' : undefined;
      if (why) {
        await this.killTree(pid);
        throw new GuestExecAborted(where, argv, why, timeoutMs);
      }
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, 250);
    }
  }

  /** Kills the guest process and its descendants. The script is constant; the pid is an argument. */
  private async killTree(pid: number): Promise<void> {
    const script =
      'r=$1; kill -STOP $r 2>/dev/null; all=$r; again=1; while [ $again = 1 ]; do again=0; for s in /proc/[0-9]*/stat; do ' +
      'read -r line < "$s" 2>/dev/null || continue; p=${s#/proc/}; p=${p%/stat}; rest=${line##*) }; set -- $rest; ' +
      'case " $all " in *" $p "*) ;; *) case " $all " in *" $2 "*) kill -STOP $p 2>/dev/null; all="$all $p"; again=1;; esac;; esac; done; done; ' +
      'kill -KILL $all 2>/dev/null; true';
    try {
      const started = JSON.parse(await this.agent(guestExecCommand(['/bin/sh', '-c', script, 'sh', String(pid)])));
      const kp = started?.return?.pid;
      for (let i = 0; i < 40 && typeof kp === 'number'; i++) {
        const st = parseGuestExecStatus(await this.agent(JSON.stringify({ execute: 'guest-exec-status', arguments: { pid: kp } })));
        if (st.exited) break;
        await sleep(50);
      }
      // reap the killed process's status so the agent forgets it
      await this.agent(JSON.stringify({ execute: 'guest-exec-status', arguments: { pid } })).catch(() => undefined);
    } catch {
      /* the guest may be gone */
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// libvirt-LXC: nsenter into the namespaces of the domain's init

/** /run/libvirt/lxc/NAME.pid is the libvirt_lxc controller; its (only) child is the container's init. */
export async function libvirtLxcInitPid(name: string, runDir = '/run/libvirt/lxc'): Promise<number> {
  if (name.includes('/') || name === '..' || name === '.') throw new BackendError(`invalid domain name ${JSON.stringify(name)}`);
  let ctl: number;
  try {
    ctl = parseInt((await fs.readFile(path.join(runDir, `${name}.pid`), 'utf8')).trim(), 10);
  } catch {
    throw new BackendError(
      `libvirt-LXC domain "${name}" has no controller pid file in ${runDir}`,
      'ENOENT',
      'Is the domain running on this host? Commands inside libvirt-LXC domains need the local lxc:///system driver.',
    );
  }
  const children: number[] = [];
  try {
    for (const t of await fs.readdir(`/proc/${ctl}/task`)) {
      const text = await fs.readFile(`/proc/${ctl}/task/${t}/children`, 'utf8').catch(() => '');
      children.push(...text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    throw new BackendError(`libvirt-LXC controller ${ctl} of "${name}" is not running`);
  }
  // verify: init is in a different pid namespace than the controller
  const ctlNs = await fs.readlink(`/proc/${ctl}/ns/pid`).catch(() => '');
  for (const c of children) {
    const ns = await fs.readlink(`/proc/${c}/ns/pid`).catch(() => '');
    if (ns && ns !== ctlNs) return c;
  }
  throw new BackendError(`could not find the init process of libvirt-LXC domain "${name}" (controller pid ${ctl})`);
}

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
      const ctl = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'nsdelegate');
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
// arguments, then execs nsenter with the rest of its arguments, so every process started in the
// guest is charged to the guest's cgroups (and bound by its limits), not to the caller's.
const JOIN_CGROUPS_AND_EXEC = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" 2>/dev/null; shift; n=$((n-1)); done; exec "$@"';

class NsenterExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    private readonly guest: Guest,
    private readonly initPid: () => Promise<number>,
  ) {
    this.description = `${guest.name} (nsenter)`;
  }
  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    const pid = await this.initPid();
    const [mountinfo, procCgroup] = await Promise.all([
      fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
      fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => ''),
    ]);
    const files = cgroupProcsFiles(procCgroup, parseCgroupMounts(mountinfo));
    const nsenter = ['nsenter', '--target', String(pid), '--all', '--root', '--wd', '--', ...argv];
    return spawnCollect(this.guest.name, '/bin/sh', ['-c', JOIN_CGROUPS_AND_EXEC, 'sh', String(files.length), ...files, ...nsenter], opts, { PATH: GUEST_PATH }, argv);
  }
}

// ---------------------------------------------------------------------------------------------
// lxc-tools

export function lxcAttachArgs(name: string, lxcPath: string | undefined, argv: readonly string[]): string[] {
  return ['-n', name, ...(lxcPath ? ['-P', lxcPath] : []), '--clear-env', '--set-var', `PATH=${GUEST_PATH}`, '--', ...argv];
}

class LxcAttachExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    private readonly guest: Guest,
    private readonly lxcPath: string | undefined,
  ) {
    this.description = `${guest.name} (lxc-attach)`;
  }
  exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    return spawnCollect(this.guest.name, 'lxc-attach', lxcAttachArgs(this.guest.name, this.lxcPath, argv), opts, undefined, argv);
  }
}

// ---------------------------------------------------------------------------------------------
// Docker / Podman exec API

class EngineExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    private readonly docker: Docker,
    private readonly guest: Guest,
  ) {
    this.description = `${guest.name} (engine exec)`;
  }

  /** One timer covers the whole call (create, start, output, exit code): a hung engine cannot outlast it. */
  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    const where = this.guest.name;
    if (opts.signal?.aborted) throw new GuestExecAborted(where, argv, 'cancelled');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // aborts the engine requests themselves, so no socket is left waiting
    const ac = new AbortController();
    let aborted: 'cancelled' | 'timeout' | undefined;
    const stop = (why: 'cancelled' | 'timeout') => {
      aborted ??= why;
      ac.abort();
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const abortP = new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }));
    abortP.catch(() => {});
    const run: { ex?: Docker.Exec; stream?: NodeJS.ReadWriteStream } = {};
    try {
      return await Promise.race([this.run(argv, opts, ac.signal, run), abortP]);
    } catch (e) {
      if (!aborted) throw e;
      (run.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      if (run.ex) await this.killExec(run.ex);
      throw new GuestExecAborted(where, argv, aborted, timeoutMs);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(
    argv: string[],
    opts: GuestExecOptions,
    abortSignal: AbortSignal,
    run: { ex?: Docker.Exec; stream?: NodeJS.ReadWriteStream },
  ): Promise<GuestExecResult> {
    const container = this.docker.getContainer(this.guest.id);
    const ex = await container.exec({
      Cmd: argv,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: opts.stdin !== undefined,
      Env: [`PATH=${GUEST_PATH}`],
      Tty: false,
      abortSignal,
    });
    run.ex = ex;
    const stream = (await ex.start({ hijack: true, stdin: opts.stdin !== undefined, abortSignal })) as NodeJS.ReadWriteStream;
    run.stream = stream;
    const out = new PassThrough();
    const err = new PassThrough();
    let so = '';
    let se = '';
    out.setEncoding('utf8').on('data', (d: string) => (so += d));
    err.setEncoding('utf8').on('data', (d: string) => (se += d));
    this.docker.modem.demuxStream(stream, out, err);
    const finished = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    if (opts.stdin !== undefined) {
      stream.write(opts.stdin);
      // half-close so the program sees EOF
      const s = stream as unknown as { end?: () => void };
      s.end?.();
    }
    await finished;
    // the stream can end before the engine records the exit code
    let info = await ex.inspect({ abortSignal });
    for (let i = 0; i < 50 && info.Running; i++) {
      await sleep(20);
      info = await ex.inspect({ abortSignal });
    }
    return { exitCode: typeof info.ExitCode === 'number' ? info.ExitCode : -1, stdout: so, stderr: se };
  }

  /** The engine has no "kill exec": the exec's Pid is a host pid when the engine runs on this host. */
  private async killExec(ex: Docker.Exec): Promise<void> {
    try {
      // bounded: after a timeout the engine may be the thing that hangs
      const info = await ex.inspect({ abortSignal: AbortSignal.timeout(KILL_INSPECT_MS) });
      if (info.Pid && info.Pid > 0) await killHostTree(info.Pid);
    } catch {
      /* engine gone */
    }
  }
}
