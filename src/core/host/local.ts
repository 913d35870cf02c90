// This machine as a Host: spawn with argument arrays (never a shell), node:fs, node:net.
import { spawn as spawnChild } from 'node:child_process';
import { promises as fs, type Dirent } from 'node:fs';
import * as net from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
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

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 32 * 1024 * 1024;
/** After a kill, how long to wait for pipes a reparented grandchild may still hold open. */
const PIPE_GRACE_MS = 1000;

export class LocalHost implements Host {
  readonly label = 'this machine';

  run(argv: readonly string[], opts: HostRunOptions = {}): Promise<HostRunResult> {
    return runLocal(this.label, argv, opts);
  }

  spawn(argv: readonly string[], opts: HostSpawnOptions = {}): HostChild {
    return spawnLocal(this.label, argv, opts);
  }

  readFile(p: string): Promise<string> {
    return fs.readFile(p, 'utf8');
  }

  readFiles(paths: readonly string[]): Promise<Map<string, string | Error>> {
    return readEach(this, paths);
  }

  async writeFile(p: string, data: string, opts: HostWriteOptions = {}): Promise<void> {
    if (!opts.atomic) return fs.writeFile(p, data, opts.mode === undefined ? undefined : { mode: opts.mode });
    const tmp = `${p}.virtscope.new`;
    const st = await fs.stat(p).catch(() => undefined);
    await fs.writeFile(tmp, data, { mode: st ? st.mode & 0o7777 : (opts.mode ?? 0o640) });
    if (st) await fs.chown(tmp, st.uid, st.gid).catch(() => undefined);
    await fs.rename(tmp, p);
  }

  async readdir(p: string): Promise<HostDirent[]> {
    return (await fs.readdir(p, { withFileTypes: true })).map(direntOf);
  }

  async stat(p: string): Promise<HostStat | undefined> {
    try {
      const s = await fs.stat(p);
      return { size: s.size, mode: s.mode, uid: s.uid, gid: s.gid, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  exists(p: string): Promise<boolean> {
    return fs.access(p).then(
      () => true,
      () => false,
    );
  }

  rm(p: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    return fs.rm(p, opts);
  }

  rmdir(p: string): Promise<void> {
    return fs.rmdir(p);
  }

  async mkdir(p: string, opts: { recursive?: boolean; mode?: number } = {}): Promise<void> {
    await fs.mkdir(p, opts);
  }

  mkdtemp(prefix: string): Promise<string> {
    return fs.mkdtemp(path.join(tmpdir(), prefix));
  }

  chmod(p: string, mode: number): Promise<void> {
    return fs.chmod(p, mode);
  }

  copyFile(from: string, to: string): Promise<void> {
    return fs.copyFile(from, to);
  }

  readlink(p: string): Promise<string> {
    return fs.readlink(p);
  }

  connectUnix(p: string, opts: { timeoutMs?: number } = {}): Promise<Duplex> {
    return connectLocalUnix(this.label, p, opts.timeoutMs ?? 10_000);
  }
}

/** The one LocalHost: the default wherever a caller gives no host. */
export const localHost: Host = new LocalHost();

function direntOf(e: Dirent): HostDirent {
  const type = e.isDirectory() ? 'directory' : e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'other';
  return { name: e.name, type };
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Exit code as a shell would report it: 128+N when killed by signal N. */
function exitCodeOf(code: number | null, sig: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = sig ? osConstants.signals[sig] : undefined;
  return typeof n === 'number' ? 128 + n : 128;
}

function startError(label: string, argv: readonly string[], e: NodeJS.ErrnoException): HostRunError {
  return e.code === 'ENOENT' ? new HostRunError(argv, label, 'not-found') : new HostRunError(argv, label, 'spawn-failed', e.message);
}

function runLocal(label: string, argv: readonly string[], opts: HostRunOptions): Promise<HostRunResult> {
  return new Promise((resolve, reject) => {
    if (!argv.length) return reject(new Error('empty argv'));
    if (opts.signal?.aborted) return reject(new HostRunError(argv, label, 'cancelled'));
    const child = spawnChild(argv[0], argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let bytes = 0;
    let stopped: 'timeout' | 'cancelled' | 'too-much-output' | undefined;
    let settled = false;
    const text = (b: Buffer[]) => Buffer.concat(b).toString('utf8');
    const stop = (why: NonNullable<typeof stopped>) => {
      if (stopped || settled) return;
      stopped = why;
      if (child.pid !== undefined) void killProcessTree(child.pid);
    };
    const collect = (into: Buffer[]) => (d: Buffer) => {
      bytes += d.length;
      if (bytes > max) return stop('too-much-output');
      into.push(d);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => undefined); // a program that does not read its stdin
    child.stdin.end(opts.stdin);
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (code: number | null, sig: NodeJS.Signals | null, e?: HostRunError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (e) return reject(e);
      if (stopped) {
        const detail = stopped === 'timeout' ? `${Math.round(timeoutMs / 100) / 10} s` : stopped === 'too-much-output' ? `${max} bytes` : undefined;
        return reject(new HostRunError(argv, label, stopped, detail, text(out), text(err)));
      }
      resolve({ exitCode: exitCodeOf(code, sig), stdout: text(out), stderr: text(err) });
    };
    child.on('error', (e) => finish(null, null, startError(label, argv, e)));
    child.on('close', (code, sig) => finish(code, sig));
    // after a kill, a pipe can stay open in a process that escaped (reparented): do not wait for it
    child.on('exit', (code, sig) => {
      if (!stopped) return;
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, sig);
      }, PIPE_GRACE_MS).unref();
    });
  });
}

function spawnLocal(label: string, argv: readonly string[], opts: HostSpawnOptions): HostChild {
  if (!argv.length) throw new Error('empty argv');
  const child = spawnChild(argv[0], argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  let done = false;
  const exited = new Promise<HostExit>((resolve) => {
    child.on('error', (e) => ((done = true), resolve({ code: null, signal: null, error: startError(label, argv, e) })));
    child.on('close', (code, sig) => ((done = true), resolve({ code, signal: sig })));
  });
  const kill = async () => {
    if (done || child.pid === undefined) return;
    await killProcessTree(child.pid);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  };
  if (opts.signal) {
    if (opts.signal.aborted) void kill();
    else opts.signal.addEventListener('abort', () => void kill(), { once: true });
  }
  return {
    argv,
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    get done() {
      return done;
    },
    kill,
    signal: (sig) => {
      if (!done) child.kill(sig);
    },
  };
}

function connectLocalUnix(label: string, p: string, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: p });
    const fail = (why: string) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new Error(`cannot connect to ${p} on ${label}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    sock.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'ENOENT' ? 'no such socket' : e.code === 'ECONNREFUSED' ? 'nothing is listening' : e.message),
    );
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
  });
}

// ---- process trees ------------------------------------------------------------------------

/** The ppid field of /proc/PID/stat (the comm field may contain spaces and parentheses). */
export function statPpid(stat: string): number | undefined {
  const i = stat.lastIndexOf(')');
  if (i < 0) return undefined;
  const n = parseInt(stat.slice(i + 2).split(' ')[1], 10);
  return Number.isFinite(n) ? n : undefined;
}

async function ppidMap(): Promise<Map<number, number>> {
  const m = new Map<number, number>();
  for (const e of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pp = statPpid(await fs.readFile(`/proc/${e}/stat`, 'utf8').catch(() => ''));
    if (pp !== undefined) m.set(+e, pp);
  }
  return m;
}

/** Every descendant of `pid` in one snapshot of the ppid map. */
export function descendantsOf(pid: number, ppids: ReadonlyMap<number, number>): number[] {
  const kids = new Map<number, number[]>();
  for (const [p, pp] of ppids) kids.set(pp, [...(kids.get(pp) ?? []), p]);
  const out: number[] = [];
  const walk = (p: number, depth: number) => {
    if (depth > 64) return;
    for (const c of kids.get(p) ?? []) {
      out.push(c);
      walk(c, depth + 1);
    }
  };
  walk(pid, 0);
  return out;
}

/** SIGKILLs a process of this machine and all its descendants (stopped first, so none forks away). */
export async function killProcessTree(pid: number, includeRoot = true): Promise<void> {
  // stop what we find, then look again until nothing new appears: a process can fork between the
  // snapshot and the kill (fio forks one process per job), and its child would be orphaned
  const all = new Set<number>(includeRoot ? [pid] : []);
  if (includeRoot) signalQuietly(pid, 'SIGSTOP');
  for (let round = 0; round < 20; round++) {
    const m = await ppidMap();
    const found = [pid, ...all].flatMap((p) => descendantsOf(p, m)).filter((p) => !all.has(p));
    if (!found.length) break;
    for (const p of found) {
      all.add(p);
      signalQuietly(p, 'SIGSTOP');
    }
  }
  for (const p of all) signalQuietly(p, 'SIGKILL');
  for (const p of all) signalQuietly(p, 'SIGCONT');
}

function signalQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
