// Running a program inside a guest, as features see it. Each backend brings its own executor as
// its `exec` capability (backends/libvirt: QEMU guest agent and nsenter; backends/lxc: lxc-attach;
// backends/docker: the engine's exec API); this module holds what they share. The argument vector
// arrives verbatim: no shell string is built from it.
import type { Backend, Guest } from '../model';
import { requireCapability } from '../capabilities';
import { Host, HostRunError } from '../host/host';

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
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

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

/** The guest's executor, asked of its backend; a BackendError says so when it has none. */
export function executorFor(backend: Backend, guest: Guest): GuestExecutor {
  return requireCapability(backend, guest, 'exec');
}

/** Exit code as a shell would report it: 128+N when killed by signal N. */
export function exitCodeOf(code: number | null | undefined, signal?: number | null): number {
  if (typeof code === 'number') return code;
  if (typeof signal === 'number') return 128 + signal;
  return -1;
}

export interface HostExecOptions {
  /** The guest (or host) named in messages. */
  where: string;
  env?: NodeJS.ProcessEnv;
  /** The argv named in messages (the guest program, not the host wrapper around it). */
  shown?: readonly string[];
}

/**
 * Runs a host program that carries the guest program (lxc-attach, nsenter) on `host`. The host kills
 * its process tree on timeout or cancel; that is reported as GuestExecAborted like every executor.
 */
export async function execOnHost(host: Host, argv: readonly string[], opts: GuestExecOptions, how: HostExecOptions): Promise<GuestExecResult> {
  const shown = how.shown ?? argv;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  if (opts.signal?.aborted) throw new GuestExecAborted(how.where, shown, 'cancelled');
  try {
    return await host.run(argv, { timeoutMs, signal: opts.signal, stdin: opts.stdin, env: how.env });
  } catch (e) {
    if (e instanceof HostRunError && (e.reason === 'cancelled' || e.reason === 'timeout')) throw new GuestExecAborted(how.where, shown, e.reason, timeoutMs);
    throw e;
  }
}

/** Programs on the host itself (the baseline of a benchmark), with the guest executors' cancel/timeout errors. */
export function hostExecutorOn(host: Host): GuestExecutor {
  return {
    description: host.label,
    exec: (argv, opts = {}) => execOnHost(host, argv, opts, { where: host.label }),
  };
}

// A fixed POSIX sh script (no value is ever part of it; the pid is its argument $1): stops the
// process, then every descendant it finds in /proc until no new one appears (a process can fork
// in between: fio forks one per job), then kills them all. The same script serves inside a QEMU
// guest (through the agent) and on a host (the engine's exec process), local or remote.
const KILL_TREE =
  'r=$1; kill -STOP $r 2>/dev/null; all=$r; again=1; while [ $again = 1 ]; do again=0; for s in /proc/[0-9]*/stat; do ' +
  'read -r line < "$s" 2>/dev/null || continue; p=${s#/proc/}; p=${p%/stat}; rest=${line##*) }; set -- $rest; ' +
  'case " $all " in *" $p "*) ;; *) case " $all " in *" $2 "*) kill -STOP $p 2>/dev/null; all="$all $p"; again=1;; esac;; esac; done; done; ' +
  'kill -KILL $all 2>/dev/null; true';

/** The argv that kills process `pid` and all its descendants where it runs. */
export function killTreeArgv(pid: number): string[] {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`refusing to kill the process tree of pid ${pid}`);
  return ['/bin/sh', '-c', KILL_TREE, 'sh', String(pid)];
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
