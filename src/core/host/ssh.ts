// A remote machine as a Host, through the system's OpenSSH client: the user's ~/.ssh/config, agent,
// keys, ProxyJump and known_hosts work unchanged. One master connection per host (ControlMaster in a
// private directory); every command, file operation and forwarded socket is a channel over it, so only
// the first costs a handshake. Remote commands are built by quote.ts only.
import { spawn as spawnChild } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, openSync, closeSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { AskpassBridge, type AskpassHandler } from './askpass';
import {
  Host,
  HostDirent,
  HostExit,
  HostChild,
  HostRunError,
  HostRunOptions,
  HostRunResult,
  HostSpawnOptions,
  HostStat,
  HostWriteOptions,
  readEach,
} from './host';
import { remoteCommand } from './quote';

export interface SshHostOptions {
  /** An alias of ~/.ssh/config, host or user@host (see parseDestination). */
  destination: string;
  port?: number;
  /** For messages; default the destination. */
  label?: string;
  /** ssh -F FILE instead of ~/.ssh/config. */
  configFile?: string;
  /** More ssh arguments before the destination (`-i KEY`, `-o Option=value`). */
  extraArgs?: readonly string[];
  /** Asks the user for host keys, passphrases, passwords. Without it ssh runs in BatchMode and an unknown host key is refused. */
  askpass?: AskpassHandler;
  /** Private directory (0700) for the master socket, forwards and the askpass helper; default a new one under tmpdir(). */
  controlDir?: string;
  /** How long the master stays after its last channel closed; default 300 s. */
  controlPersistS?: number;
  connectTimeoutS?: number;
  /**
   * libvirt's `no_verify=1` in a qemu+ssh URI: an unknown host key is accepted without asking. Only ever
   * the user's explicit choice for this one host (OpenSSH still refuses a changed key).
   */
  noVerifyHostKey?: boolean;
  /** The ssh program; default `ssh` on PATH. */
  sshPath?: string;
  /**
   * sshd's MaxSessions (default 10): channels beyond it are queued here. sshd refuses them otherwise and
   * ssh silently falls back to a whole new connection per channel. One session is kept for kills.
   */
  maxSessions?: number;
}

/** The host could not be reached: `reason` is SSH's own last line ("Connection refused", "Host key verification failed."). */
export class SshUnreachableError extends HostRunError {
  constructor(
    argv: readonly string[],
    host: string,
    readonly sshReason: string,
    stdout = '',
    stderr = '',
  ) {
    super(argv, host, 'spawn-failed', sshReason, stdout, stderr);
    this.name = 'SshUnreachableError';
  }
}

/** A file operation failed on the remote host: code as node:fs would set it where we can tell. */
export class RemoteFileError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'RemoteFileError';
  }
}

/**
 * SSH's own keepalive: after `countMax + 1` intervals without a byte from the host the master gives up
 * ("Timeout, server … not responding."), and every channel and forward ends with it. sshd answers these
 * itself, without starting a program, so a slow (loaded) host still answers; 8 s of silence is a dead
 * link. Costs one small packet per interval, and only while nothing else came from the host.
 */
export const SERVER_ALIVE = { intervalS: 2, countMax: 3 } as const;
/** A liveness probe that outlasts the keepalive window: a dead link has ended it by then. */
const PROBE_TIMEOUT_MS = 15_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 32 * 1024 * 1024;
/** The first line of stderr is ours: the remote process group, or that the program is missing. */
const MARK_PG = '@@virtscope:pg=';
const MARK_NOT_FOUND = '@@virtscope:not-found';
// Fixed script; argv arrives as "$@". No exec: the shell reports a signal death as 128+N and ssh's own
// 255 stays SSH's. The pgrp (sshd made the session) lets kill() reach the whole remote tree.
const WRAPPER =
  `read -r _ _ _ _ g _ < /proc/$$/stat; ` +
  `command -v -- "$1" >/dev/null 2>&1 || { echo '${MARK_NOT_FOUND}' >&2; exit 127; }; ` +
  `echo "${MARK_PG}$g" >&2; "$@"; s=$?; exit $s`;
// Signals every process of group $2 with $1 (walking /proc: dash's kill takes no negative pid or "--",
// and an external kill may be missing). KILL stops them first, so none forks away in between.
const SIGNAL_GROUP =
  `sig=$1; pg=$2; ps=''; for s in /proc/[0-9]*/stat; do read -r st < "$s" 2>/dev/null || continue; ` +
  `st=\${st##*) }; set -- $st; [ "$3" = "$pg" ] || continue; p=\${s#/proc/}; ps="$ps \${p%/stat}"; done; ` +
  `[ -n "$ps" ] || exit 0; if [ "$sig" = KILL ]; then kill -STOP $ps 2>/dev/null; kill -KILL $ps 2>/dev/null; kill -CONT $ps 2>/dev/null; ` +
  `else kill -"$sig" $ps 2>/dev/null; fi; exit 0`;
// readFiles: the paths arrive as "$@" (never in the script). One line per path, in order: the file in
// base64 (no byte of it can end a line or look like a status), a space, then "ok" or why it could not
// be read. No base64 on the host: exit 127, and the files are read one by one.
const READ_FILES =
  'command -v base64 >/dev/null 2>&1 || exit 127; for p do if base64 -w0 2>/dev/null < "$p"; then echo " ok"; ' +
  'elif [ ! -e "$p" ]; then echo " ENOENT"; elif [ -d "$p" ]; then echo " EISDIR"; elif [ ! -r "$p" ]; then echo " EACCES"; else echo " EIO"; fi; done';
const READ_ERRORS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EISDIR: 'Is a directory',
  EACCES: 'Permission denied',
  EIO: 'Input/output error',
};
/** Quoted paths per readFiles run: one shell argument (the remote command) holds at most 128 KiB. */
const READ_FILES_CHUNK = 64 * 1024;
/** After the local client is killed the master still holds our pipes (it got them by fd passing). */
const PIPE_GRACE_MS = 1000;

export class SshHost implements Host {
  readonly label: string;
  private dir: string | undefined;
  private ownsDir = false;
  private askpassBridge: AskpassBridge | undefined;
  private masterStarting: Promise<void> | undefined;
  private readonly forwards = new Map<string, string>();
  private forwardSeq = 0;
  private disposed = false;
  private sessions = 0;
  /** Learned when sshd refused a session: its MaxSessions is below ours. */
  private learnedMaxSessions: number | undefined;
  private readonly sessionWaiters: (() => void)[] = [];

  constructor(readonly opts: SshHostOptions) {
    this.label = opts.label ?? opts.destination;
    if (opts.destination.startsWith('-')) throw new Error(`"${opts.destination}": a host cannot start with "-"`);
  }

  // ---- ssh command lines ------------------------------------------------------------------

  private get controlPath(): string {
    const id = createHash('sha256')
      .update(
        `${this.opts.destination}\0${this.opts.port ?? ''}\0${this.opts.configFile ?? ''}\0${this.opts.noVerifyHostKey ? 1 : 0}\0${(this.opts.extraArgs ?? []).join('\0')}`,
      )
      .digest('hex')
      .slice(0, 16);
    return path.join(this.dir!, `m-${id}`);
  }

  /** Options for every ssh process of this host. ssh takes the first value given, so ours win over the config file. */
  private commonArgs(forwarding = false, logLevel = 'ERROR'): string[] {
    const o = this.opts;
    const a: string[] = [];
    if (o.configFile) a.push('-F', o.configFile);
    if (o.port) a.push('-p', String(o.port));
    a.push('-S', this.controlPath);
    const opt = (kv: string) => a.push('-o', kv);
    opt(`BatchMode=${o.askpass ? 'no' : 'yes'}`);
    // unknown keys: refused, or asked through the prompt; a changed key is always refused by OpenSSH
    opt(`StrictHostKeyChecking=${o.noVerifyHostKey ? 'no' : o.askpass ? 'ask' : 'yes'}`);
    opt(`ConnectTimeout=${o.connectTimeoutS ?? 10}`);
    opt(`ServerAliveInterval=${SERVER_ALIVE.intervalS}`);
    opt(`ServerAliveCountMax=${SERVER_ALIVE.countMax}`);
    opt('StreamLocalBindUnlink=yes');
    // the user's LocalForward & co. stay off; it would also clear the -L of our own `-O forward`
    if (!forwarding) opt('ClearAllForwardings=yes');
    opt('RemoteCommand=none');
    opt('PermitLocalCommand=no');
    opt(`LogLevel=${logLevel}`);
    a.push(...(o.extraArgs ?? []));
    return a;
  }

  private async env(): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
    if (this.askpassBridge) Object.assign(env, this.askpassBridge.env(this.label));
    else env.SSH_ASKPASS_REQUIRE = 'never';
    return env;
  }

  private async ensureDir(): Promise<void> {
    if (this.disposed) throw new Error(`the connection to ${this.label} was closed`);
    if (this.dir) return;
    if (this.opts.controlDir) {
      await fs.mkdir(this.opts.controlDir, { recursive: true, mode: 0o700 });
      await fs.chmod(this.opts.controlDir, 0o700);
      this.dir = this.opts.controlDir;
    } else {
      this.dir = await fs.mkdtemp(path.join(tmpdir(), 'virtscope-ssh-'));
      this.ownsDir = true;
    }
    if (this.opts.askpass) this.askpassBridge = await AskpassBridge.start(this.dir, this.opts.askpass);
  }

  // ---- the master -------------------------------------------------------------------------

  /** Is the master connection up? (a connect to its socket, no process) */
  async masterUp(): Promise<boolean> {
    return this.dir !== undefined && (await this.masterAlive());
  }

  private masterAlive(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.createConnection({ path: this.controlPath });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  }

  /**
   * Is the link alive now? A program (`true`) run through the master; never a new login. Rejects with
   * SshUnreachableError and SSH's own reason when the master has gone (its last words) or goes while
   * the probe waits (within the keepalive window). A host that answers SSH's keepalive but is slow to
   * start a program is alive: the probe's own timeout is no verdict.
   */
  async check(): Promise<void> {
    await this.ensureDir();
    if (!(await this.masterAlive())) {
      // silent: it ended by itself (ControlPersist) or never started, and a new login says more
      const reason = await this.masterReason();
      if (reason) throw new SshUnreachableError(['ssh'], this.label, reason);
      return this.connect();
    }
    await this.run(['true'], { timeoutMs: PROBE_TIMEOUT_MS }).catch((e: unknown) => {
      if (e instanceof SshUnreachableError) throw e;
    });
  }

  /** Starts the master if none is listening; concurrent callers share one attempt. */
  async connect(): Promise<void> {
    await this.ensureDir();
    if (await this.masterAlive()) return;
    this.masterStarting ??= this.startMaster().finally(() => (this.masterStarting = undefined));
    return this.masterStarting;
  }

  private async startMaster(): Promise<void> {
    if (await this.masterAlive()) return; // another caller's master came up meanwhile
    const log = path.join(this.dir!, `${path.basename(this.controlPath)}.log`);
    // the master's stderr goes to a file: after -f it keeps the descriptor, and a pipe would never end
    const fd = openSync(log, 'w', 0o600);
    const persist = this.opts.controlPersistS ?? 300;
    // -E: once detached the master's stderr is /dev/null, and its last words (at INFO: why keepalive gave
    // up, "Timeout, server … not responding.") would be lost
    const argv = [
      this.sshPath,
      ...this.commonArgs(false, 'INFO'),
      '-E',
      log,
      '-o',
      'ControlMaster=yes',
      '-o',
      `ControlPersist=${persist}`,
      '-f',
      '-N',
      '--',
      this.opts.destination,
    ];
    try {
      const env = await this.env();
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawnChild(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', fd] });
        child.once('error', reject);
        child.once('exit', (c) => resolve(c));
      });
      if (code === 0) {
        // ssh -f returns once logged in, and may listen on the control socket a moment later: a caller
        // that looked in between would start a second master (a second login)
        for (let i = 0; i < 60 && !(await this.masterAlive()); i++) await new Promise((r) => setTimeout(r, 50));
        return;
      }
      const reason = lastLine(await fs.readFile(log, 'utf8').catch(() => '')) || `ssh exited with ${code}`;
      throw new SshUnreachableError(argv, this.label, reason);
    } catch (e) {
      if (e instanceof SshUnreachableError) throw e;
      const err = e as NodeJS.ErrnoException;
      throw err.code === 'ENOENT' ? new HostRunError(argv, 'this machine', 'not-found') : e;
    } finally {
      closeSync(fd);
    }
  }

  private get sshPath(): string {
    return this.opts.sshPath ?? 'ssh';
  }

  /** What the master last said (why a connection ended). */
  /**
   * A channel that failed only in the multiplexer ("muxclient: master hello exchange failed") met a
   * master that is going down: its own last words, once it has gone (up to 5 s: on a loaded machine
   * 2 s were not always enough, and the master writes nothing at INFO before its end), say why.
   */
  private async dyingMasterReason(): Promise<string> {
    for (let i = 0; i < 50 && (await this.masterAlive()); i++) await new Promise((r) => setTimeout(r, 100));
    return this.masterReason();
  }

  private async masterReason(): Promise<string> {
    if (!this.dir) return '';
    return lastLine(await fs.readFile(path.join(this.dir, `${path.basename(this.controlPath)}.log`), 'utf8').catch(() => ''));
  }

  /** Closes the master, its forwards and the private directory. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.dir) return;
    if (await this.masterAlive()) {
      await runLocalQuiet([this.sshPath, ...this.commonArgs(), '-O', 'exit', '--', this.opts.destination], await this.env());
    }
    await this.askpassBridge?.close();
    if (this.ownsDir) await fs.rm(this.dir, { recursive: true, force: true });
    else for (const f of this.forwards.values()) await fs.rm(f, { force: true });
  }

  // ---- processes --------------------------------------------------------------------------

  /** The ssh argv that runs `argv` on the host through the master. */
  private channelArgv(argv: readonly string[], env?: NodeJS.ProcessEnv): string[] {
    const cmd = ['sh', '-c', WRAPPER, 'sh', ...argv];
    const assign = envDiff(env);
    const remote = remoteCommand(assign.length ? ['env', ...assign, ...cmd] : cmd);
    // ProxyCommand=false: when the master is gone or refuses a session, ssh would silently log in on its
    // own (a new handshake, maybe a new prompt); the mux path never uses the proxy, so this only stops that
    return [this.sshPath, ...this.commonArgs(), '-o', 'ControlMaster=no', '-o', 'ProxyCommand=false', '-T', '--', this.opts.destination, remote];
  }

  spawn(argv: readonly string[], opts: HostSpawnOptions = {}): HostChild {
    if (!argv.length) throw new Error('empty argv');
    return new SshProcess(this, argv, opts);
  }

  /** A session slot on the master; resolves with its release, or undefined when `cancelled` fires first. */
  async acquireSession(cancelled?: AbortSignal, reserved = false): Promise<(() => void) | undefined> {
    const cap = Math.min(this.opts.maxSessions ?? 10, this.learnedMaxSessions ?? Infinity);
    const limit = reserved ? cap : Math.max(1, cap - 1);
    while (this.sessions >= limit) {
      if (cancelled?.aborted) return undefined;
      await new Promise<void>((r) => {
        this.sessionWaiters.push(r);
        cancelled?.addEventListener('abort', () => r(), { once: true });
      });
    }
    if (cancelled?.aborted) return undefined;
    this.sessions++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.sessions--;
      this.sessionWaiters.shift()?.();
    };
  }

  /** sshd refused a session while `this.sessions` were open (counting the refused one): it allows fewer. */
  sessionRefused(): void {
    this.learnedMaxSessions = Math.max(1, Math.min(this.learnedMaxSessions ?? Infinity, this.sessions - 1));
  }

  /** For SshProcess: master up, then the local ssh client of one channel. */
  async startChannel(argv: readonly string[], env?: NodeJS.ProcessEnv) {
    await this.connect();
    const sshArgv = this.channelArgv(argv, env);
    return { sshArgv, child: spawnChild(sshArgv[0], sshArgv.slice(1), { env: await this.env(), stdio: ['pipe', 'pipe', 'pipe'] }) };
  }

  /** Kills a remote process group (best effort: the host may be gone). */
  async killGroup(pg: number, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!(await this.masterAlive())) return;
    const argv = this.channelArgv(['sh', '-c', SIGNAL_GROUP, 'sh', sig.replace(/^SIG/, ''), String(pg)]);
    const release = await this.acquireSession(undefined, true);
    try {
      await runLocalQuiet(argv, await this.env(), 5000);
    } finally {
      release?.();
    }
  }

  async unreachable(sshArgv: readonly string[], stderr: string, stdout = ''): Promise<SshUnreachableError> {
    const own = stderr
      .split('\n')
      .filter((l) => !/^kex_exchange_identification:|^Connection closed by UNKNOWN|^mux_client_|^muxclient:|^Control socket connect/.test(l.trim()))
      .join('\n');
    const reason = lastLine(own) || (await this.dyingMasterReason()) || `the connection to ${this.label} ended`;
    return new SshUnreachableError(sshArgv, this.label, reason, stdout, stderr);
  }

  async run(argv: readonly string[], opts: HostRunOptions = {}): Promise<HostRunResult> {
    if (!argv.length) throw new Error('empty argv');
    if (opts.signal?.aborted) throw new HostRunError(argv, this.label, 'cancelled');
    const p = new SshProcess(this, argv, { signal: opts.signal, env: opts.env });
    const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let stopped: 'timeout' | 'cancelled' | 'too-much-output' | undefined;
    const stop = (why: NonNullable<typeof stopped>) => {
      if (stopped || p.done) return;
      stopped = why;
      void p.kill();
    };
    const collect = (into: Buffer[]) => (d: Buffer) => {
      bytes += d.length;
      if (bytes > max) return stop('too-much-output');
      into.push(d);
    };
    p.stdout.on('data', collect(out));
    p.stderr.on('data', collect(err));
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.stdin);
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await p.exited;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    const text = (b: Buffer[]) => Buffer.concat(b).toString('utf8');
    if (stopped) {
      const detail = stopped === 'timeout' ? `${Math.round(timeoutMs / 100) / 10} s` : stopped === 'too-much-output' ? `${max} bytes` : undefined;
      throw new HostRunError(argv, this.label, stopped, detail, text(out), text(err));
    }
    if (exit.error) throw exit.error;
    return { exitCode: exit.code ?? 128, stdout: text(out), stderr: text(err) };
  }

  /** run(), and a non-zero exit becomes an error that carries the program's own last line. */
  private async ok(argv: readonly string[], what: string, p: string, stdin?: string): Promise<string> {
    const r = await this.run(argv, { stdin });
    if (r.exitCode === 0) return r.stdout;
    const line = lastLine(r.stderr) || `exit code ${r.exitCode}`;
    // "cat: /x: No such file or directory": the reason is the last part
    throw new RemoteFileError(`cannot ${what} ${p} on ${this.label}: ${line.split(': ').pop()}`, errnoOf(r.stderr));
  }

  // ---- files (remote commands, one channel each) --------------------------------------------

  readFile(p: string): Promise<string> {
    return this.ok(['cat', '--', p], 'read', p);
  }

  /** One program run per 64 KiB of paths (one, for what a metrics tick reads). */
  async readFiles(paths: readonly string[]): Promise<Map<string, string | Error>> {
    const out = new Map<string, string | Error>();
    let chunk: string[] = [];
    let size = 0;
    for (const p of new Set(paths)) {
      if (chunk.length && size + p.length > READ_FILES_CHUNK) {
        await this.readChunk(chunk, out);
        chunk = [];
        size = 0;
      }
      chunk.push(p);
      size += p.length * 4 + 3; // as quoted at worst
    }
    if (chunk.length) await this.readChunk(chunk, out);
    return out;
  }

  private async readChunk(paths: string[], out: Map<string, string | Error>): Promise<void> {
    const r = await this.run(['sh', '-c', READ_FILES, 'sh', ...paths]);
    if (r.exitCode === 127) {
      for (const [p, v] of await readEach(this, paths)) out.set(p, v);
      return;
    }
    const lines = r.stdout.split('\n');
    if (r.exitCode !== 0 || lines.length <= paths.length) {
      throw new RemoteFileError(`cannot read ${paths.length} files on ${this.label}: ${lastLine(r.stderr) || `exit code ${r.exitCode}`}`, undefined);
    }
    paths.forEach((p, i) => {
      const sp = lines[i].lastIndexOf(' ');
      const status = lines[i].slice(sp + 1);
      if (status === 'ok') out.set(p, Buffer.from(lines[i].slice(0, sp), 'base64').toString('utf8'));
      else out.set(p, new RemoteFileError(`cannot read ${p} on ${this.label}: ${READ_ERRORS[status] ?? status}`, status));
    });
  }

  async writeFile(p: string, data: string, opts: HostWriteOptions = {}): Promise<void> {
    const mode = opts.mode === undefined ? '' : (opts.mode & 0o7777).toString(8);
    // atomic: a temporary file beside the target, the old file's mode and owner, then rename over it
    const script = opts.atomic
      ? 't="$1.virtscope.new"; rm -f -- "$t"; (umask 077; cat > "$t") || exit 1; ' +
        'if [ -e "$1" ]; then chmod --reference="$1" -- "$t" && { chown --reference="$1" -- "$t" 2>/dev/null || true; }; ' +
        'else chmod "${2:-640}" -- "$t"; fi || { rm -f -- "$t"; exit 1; }; mv -f -- "$t" "$1" || { rm -f -- "$t"; exit 1; }'
      : '[ -e "$1" ] || [ -z "$2" ] || { : > "$1" && chmod "$2" -- "$1"; } || exit 1; cat > "$1"';
    await this.ok(['sh', '-c', script, 'sh', p, mode], 'write', p, data);
  }

  async readdir(p: string): Promise<HostDirent[]> {
    const out = await this.ok(['find', '-H', p, '-mindepth', '1', '-maxdepth', '1', '-printf', '%y %f\\0'], 'list', p);
    const types: Record<string, HostDirent['type']> = { f: 'file', d: 'directory', l: 'symlink' };
    return out
      .split('\0')
      .filter((e) => e.length > 2)
      .map((e) => ({ name: e.slice(2), type: types[e[0]] ?? 'other' }));
  }

  async stat(p: string): Promise<HostStat | undefined> {
    const r = await this.run(['stat', '-L', '-c', '%s %f %u %g %.3Y', '--', p]);
    if (r.exitCode !== 0) {
      if (errnoOf(r.stderr) === 'ENOENT' || errnoOf(r.stderr) === 'ENOTDIR') return undefined;
      throw new RemoteFileError(`cannot stat ${p} on ${this.label}: ${lastLine(r.stderr)}`, errnoOf(r.stderr));
    }
    const [size, modeHex, uid, gid, mtime] = r.stdout.trim().split(' ');
    const mode = parseInt(modeHex, 16);
    const type = mode & 0o170000;
    return {
      size: +size,
      mode,
      uid: +uid,
      gid: +gid,
      mtimeMs: Math.round(parseFloat(mtime) * 1000),
      isFile: type === 0o100000,
      isDirectory: type === 0o040000,
    };
  }

  async exists(p: string): Promise<boolean> {
    return (await this.run(['test', '-e', p])).exitCode === 0;
  }

  async rm(p: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    const flags = `${opts.recursive ? 'r' : ''}${opts.force ? 'f' : ''}`;
    await this.ok(['rm', ...(flags ? [`-${flags}`] : []), '--', p], 'remove', p);
  }

  async rmdir(p: string): Promise<void> {
    await this.ok(['rmdir', '--', p], 'remove directory', p);
  }

  async mkdir(p: string, opts: { recursive?: boolean; mode?: number } = {}): Promise<void> {
    const a = ['mkdir', ...(opts.recursive ? ['-p'] : []), ...(opts.mode !== undefined ? ['-m', (opts.mode & 0o7777).toString(8)] : []), '--', p];
    await this.ok(a, 'create directory', p);
  }

  async mkdtemp(prefix: string): Promise<string> {
    if (prefix.includes('/')) throw new Error(`mkdtemp: "${prefix}" must be a name, not a path`);
    return (await this.ok(['mktemp', '-d', '-t', `${prefix}XXXXXX`], 'create a temporary directory', prefix)).trim();
  }

  async chmod(p: string, mode: number): Promise<void> {
    await this.ok(['chmod', (mode & 0o7777).toString(8), '--', p], 'chmod', p);
  }

  async copyFile(from: string, to: string): Promise<void> {
    await this.ok(['cp', '--', from, to], 'copy', from);
  }

  async readlink(p: string): Promise<string> {
    return (await this.ok(['readlink', '--', p], 'read link', p)).replace(/\n$/, '');
  }

  // ---- unix sockets: OpenSSH streamlocal forwards over the master -----------------------------

  async connectUnix(remotePath: string, opts: { timeoutMs?: number } = {}): Promise<Duplex> {
    await this.connect();
    let local = this.forwards.get(remotePath);
    if (local) {
      const s = await connectLocal(local, opts.timeoutMs ?? 10_000).catch(() => undefined);
      if (s) return s;
      this.forwards.delete(remotePath); // the master was restarted: its forwards went with it
    }
    local = await this.forward(remotePath);
    return connectLocal(local, opts.timeoutMs ?? 10_000).catch((e: Error) => {
      throw new Error(`cannot connect to ${remotePath} on ${this.label} (forwarded to ${local}): ${e.message}`);
    });
  }

  private async forward(remotePath: string): Promise<string> {
    // the forward is lazy: a missing remote socket would only show as a closed stream, so look first
    const r = await this.run(['test', '-S', remotePath]);
    if (r.exitCode !== 0) throw new Error(`cannot connect to ${remotePath} on ${this.label}: no such socket`);
    const local = path.join(this.dir!, `f${++this.forwardSeq}.sock`);
    const argv = [this.sshPath, ...this.commonArgs(true), '-O', 'forward', '-L', `${local}:${remotePath}`, '--', this.opts.destination];
    const res = await runLocalQuiet(argv, await this.env(), 10_000);
    if (res.code !== 0) throw new Error(`cannot forward ${remotePath} from ${this.label}: ${lastLine(res.stderr) || `ssh exited with ${res.code}`}`);
    this.forwards.set(remotePath, local);
    return local;
  }
}

// ---- one channel as a HostChild ------------------------------------------------------------

class SshProcess implements HostChild {
  readonly pid = undefined;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly exited: Promise<HostExit>;
  done = false;
  private child: ReturnType<typeof spawnChild> | undefined;
  private pg: number | undefined;
  private killing = false;
  private clientKilled = false;
  private readonly cancelWait = new AbortController();
  /** Resolves once a local ssh client runs (or it never will): what kill() must wait for. */
  private spawned: Promise<void>;
  private markSpawned!: () => void;
  /** Resolves when the remote wrapper has said who it is (its process group), or that the program is missing. */
  private readonly announced: Promise<void>;
  private markAnnounced!: () => void;

  constructor(
    private readonly host: SshHost,
    readonly argv: readonly string[],
    opts: HostSpawnOptions,
  ) {
    let settle!: (e: HostExit) => void;
    this.exited = new Promise((r) => (settle = r));
    let release: (() => void) | undefined;
    this.spawned = new Promise((r) => (this.markSpawned = r));
    this.announced = new Promise((r) => (this.markAnnounced = r));
    void this.start(
      opts,
      (r) => (release = r),
      (e) => (release?.(), (this.done = true), this.markSpawned(), settle(e)),
    );
    if (opts.signal) {
      if (opts.signal.aborted) void this.kill();
      else opts.signal.addEventListener('abort', () => void this.kill(), { once: true });
    }
  }

  private async start(opts: HostSpawnOptions, hold: (release: () => void) => void, settle: (e: HostExit) => void): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const release = await this.host.acquireSession(this.cancelWait.signal);
      if (!release) {
        this.stdout.end();
        this.stderr.end();
        return settle({ code: null, signal: 'SIGKILL' }); // killed while waiting for a session: never started
      }
      hold(release);
      // a refused session never started the program (and read none of its stdin): try again
      if ((await this.attempt(opts, settle)) !== 'refused' || attempt >= 20) return;
      this.host.sessionRefused();
      release();
    }
  }

  private async attempt(opts: HostSpawnOptions, settle: (e: HostExit) => void): Promise<'refused' | 'settled'> {
    let sshArgv: string[] = [];
    try {
      const ch = await this.host.startChannel(this.argv, opts.env);
      sshArgv = ch.sshArgv;
      this.child = ch.child;
    } catch (e) {
      this.stdout.end();
      this.stderr.end();
      // name the program the caller ran, with SSH's reason
      const error =
        e instanceof SshUnreachableError
          ? new SshUnreachableError(this.argv, this.host.label, e.sshReason)
          : e instanceof HostRunError
            ? e
            : new HostRunError(this.argv, this.host.label, 'spawn-failed', (e as Error).message);
      settle({ code: null, signal: null, error });
      return 'settled';
    }
    const child = this.child;
    this.markSpawned();
    if (this.killing) child.kill('SIGKILL');
    child.stdin!.on('error', () => undefined);
    child.stdout!.pipe(this.stdout, { end: false });
    const err = new StderrSplitter(this.stderr, (mark) => {
      if (mark === 'not-found') return this.markAnnounced();
      this.pg = mark;
      this.stdin.pipe(child.stdin!); // stdin flows only once the program runs: a refused session loses none
      this.markAnnounced();
      // killed before it said who it is: the group is known now (the master still holds our pipes)
      if (this.clientKilled) void this.host.killGroup(mark).catch(() => undefined);
    });
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    return new Promise((resolve) => {
      const done = (e: HostExit) => (settle(e), resolve('settled'));
      child.on('error', (e) =>
        done({
          code: null,
          signal: null,
          error: new HostRunError(sshArgv, 'this machine', (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'spawn-failed', e.message),
        }),
      );
      child.on('exit', () => {
        if (!this.killing) return;
        setTimeout(() => {
          child.stdout!.destroy();
          child.stderr!.destroy();
          child.emit('close', null, 'SIGKILL');
        }, PIPE_GRACE_MS).unref();
      });
      let closed = false;
      child.on('close', async (code, sig) => {
        if (closed) return;
        closed = true;
        const beforeProgram = code === 255 && this.pg === undefined && !err.notFound && !this.killing;
        if (beforeProgram && /session request failed|Session open refused/i.test(err.sshWords) && (await this.host.masterUp())) {
          child.stdout!.unpipe(this.stdout);
          return resolve('refused');
        }
        if (!this.stdout.writableEnded) this.stdout.end();
        if (!this.stderr.writableEnded) this.stderr.end();
        if (err.notFound) return done({ code: 127, signal: null, error: new HostRunError(this.argv, this.host.label, 'not-found') });
        // 255 before our marker: SSH never reached the program. After it: the channel broke, or the program said 255.
        if (code === 255 && !this.killing && (this.pg === undefined || !(await this.host.masterUp()))) {
          const stderr = this.pg === undefined ? err.sshWords : err.tail;
          return done({ code, signal: null, error: await this.host.unreachable(this.argv, stderr) });
        }
        done({ code, signal: sig });
      });
    });
  }

  async kill(): Promise<void> {
    if (this.done) return;
    this.killing = true;
    this.cancelWait.abort();
    await this.spawned;
    if (this.done) return;
    // a busy host may take a while to start the wrapper: its group is what must die, so wait for it
    if (this.pg === undefined) await Promise.race([this.exited, this.announced, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (this.pg !== undefined) await this.host.killGroup(this.pg).catch(() => undefined);
    this.clientKilled = true;
    this.child?.kill('SIGKILL');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.done) return;
    if (this.pg !== undefined) void this.host.killGroup(this.pg, sig).catch(() => undefined);
    else this.child?.kill(sig);
  }
}

/**
 * A channel's stderr: before our marker line it is SSH's (or the login shell's), never the program's, and
 * is kept for the reason of a failure; the marker says the process group (or that the program is
 * missing); after it, everything is the program's and goes to `out`.
 */
class StderrSplitter {
  private before = '';
  private pending = '';
  private seen = false;
  private readonly last: string[] = [];
  notFound = false;

  constructor(
    private readonly out: PassThrough,
    private readonly onMark: (mark: number | 'not-found') => void,
  ) {}

  /** What came before the marker (SSH's words), for a failure's reason. */
  get sshWords(): string {
    return this.before + this.pending;
  }

  /** The program's last stderr, for a channel that broke after it started. */
  get tail(): string {
    return this.last.join('');
  }

  push(d: Buffer): void {
    if (this.seen) return this.program(d);
    this.pending += d.toString('latin1');
    for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (line.startsWith(MARK_PG) || line === MARK_NOT_FOUND) {
        this.seen = true;
        this.notFound = line === MARK_NOT_FOUND;
        this.onMark(this.notFound ? 'not-found' : Number(line.slice(MARK_PG.length)));
        if (this.pending) this.program(Buffer.from(this.pending, 'latin1'));
        this.pending = '';
        return;
      }
      this.before = (this.before + Buffer.from(line, 'latin1').toString('utf8') + '\n').slice(-8192);
    }
    if (this.pending.length > 8192) {
      this.before += this.pending.slice(0, -8192);
      this.pending = this.pending.slice(-8192);
    }
  }

  private program(d: Buffer): void {
    this.last.push(d.toString('utf8'));
    if (this.last.length > 8) this.last.shift();
    this.out.write(d);
  }
}

// ---- helpers -------------------------------------------------------------------------------

function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/** node:fs-like codes from the strerror text coreutils print. */
function errnoOf(stderr: string): string | undefined {
  const table: [RegExp, string][] = [
    [/No such file or directory/, 'ENOENT'],
    [/Not a directory/, 'ENOTDIR'],
    [/Permission denied|Operation not permitted/, 'EACCES'],
    [/File exists/, 'EEXIST'],
    [/Directory not empty/, 'ENOTEMPTY'],
    [/Is a directory/, 'EISDIR'],
  ];
  return table.find(([re]) => re.test(stderr))?.[1];
}

/** Variables the caller set or changed against this process's environment, as `env` assignments. */
function envDiff(env: NodeJS.ProcessEnv | undefined): string[] {
  if (!env) return [];
  return Object.entries(env)
    .filter(([k, v]) => v !== undefined && process.env[k] !== v && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `${k}=${v}`);
}

function connectLocal(p: string, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: p });
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    sock.once('error', (e) => (clearTimeout(timer), reject(e)));
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });
}

/** A short local ssh control command (-O forward/exit, a kill): never throws. */
function runLocalQuiet(argv: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnChild(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => (clearTimeout(timer), resolve({ code: null, stderr: e.message })));
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stderr })));
  });
}
