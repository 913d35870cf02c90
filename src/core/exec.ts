// Running host programs when only success counts: a non-zero exit becomes an ExecError carrying the
// program's own stderr. Always an argument array, never a shell string; the work is the Host's.
import type { Host, HostRunFailure } from './host/host';
import { HostRunError } from './host/host';
import { localHost } from './host/local';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

export class ExecError extends Error {
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
    cause?: string,
    /** Why it did not run to its end (undefined: it ran and exited with exitCode). */
    readonly failure?: HostRunFailure,
  ) {
    super(firstLine(stderr) || cause || `${file} exited with ${exitCode}`);
    this.name = 'ExecError';
  }
  /** True when the program itself is missing. */
  get notFound(): boolean {
    return this.failure === 'not-found';
  }
}

function firstLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 2000);
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  maxBuffer?: number;
}

/** Runs argv on `host`; rejects with ExecError unless it exits 0. */
export async function runOn(host: Host, argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  try {
    const r = await host.run(argv, { timeoutMs: opts.timeoutMs, signal: opts.signal, env: opts.env, maxOutputBytes: opts.maxBuffer });
    if (r.exitCode !== 0) throw new ExecError(file, args, r.exitCode, r.stderr, r.stdout);
    return { stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    if (!(e instanceof HostRunError)) throw e;
    // a program that could not run to its end: the host's message (names the program and host) leads
    const err = new ExecError(file, args, null, e.stderr, e.stdout, e.message, e.reason);
    err.message = e.message;
    err.cause = e; // e.g. an unreachable host, told apart by the backends
    throw err;
  }
}

/** Run `file` with `args` on this machine (no shell). Rejects with ExecError carrying the program's own stderr. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return runOn(localHost, [file, ...args], opts);
}
