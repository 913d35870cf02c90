// A machine that runs guests, as features see it: run a program (argument vector, never a shell
// string), stream a long-running one, touch files, open unix sockets. LocalHost is this machine; a
// remote host implements the same interface, and no feature changes.
import type { Duplex, Readable, Writable } from 'node:stream';

export interface HostRunOptions {
  /** Killed (with every process it started) after this long; default 30 s. */
  timeoutMs?: number;
  /** Aborting kills the process tree and rejects with HostRunError (reason 'cancelled'). */
  signal?: AbortSignal;
  stdin?: string | Buffer;
  /** stdout and stderr together beyond this are cut off and the process killed; default 32 MiB. */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
}

export interface HostRunResult {
  /** 128+N when killed by signal N, as a shell reports it. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type HostRunFailure = 'not-found' | 'timeout' | 'cancelled' | 'too-much-output' | 'spawn-failed';

/** The program could not run to its end. The message names the program and the host. */
export class HostRunError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly host: string,
    readonly reason: HostRunFailure,
    detail?: string,
    readonly stdout = '',
    readonly stderr = '',
  ) {
    super(failureMessage(argv[0] ?? '', host, reason, detail));
    this.name = 'HostRunError';
  }
  get notFound(): boolean {
    return this.reason === 'not-found';
  }
}

function failureMessage(program: string, host: string, reason: HostRunFailure, detail?: string): string {
  switch (reason) {
    case 'not-found':
      return `${program} is not installed or not on PATH on ${host}`;
    case 'timeout':
      return `${program} on ${host} timed out${detail ? ` after ${detail}` : ''} and was killed`;
    case 'cancelled':
      return `${program} on ${host} was cancelled and killed`;
    case 'too-much-output':
      return `${program} on ${host} wrote more than ${detail ?? 'the allowed'} of output and was killed`;
    case 'spawn-failed':
      return `${program} could not be started on ${host}${detail ? `: ${detail}` : ''}`;
  }
}

/** readFiles of a host that reads file by file (this machine, test hosts). */
export async function readEach(host: Pick<Host, 'readFile'>, paths: readonly string[]): Promise<Map<string, string | Error>> {
  const out = new Map<string, string | Error>();
  await Promise.all(paths.map(async (p) => out.set(p, await host.readFile(p).catch((e: Error) => e))));
  return out;
}

export interface HostSpawnOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface HostExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when it never ran (missing program) or failed to start. */
  readonly error?: HostRunError;
}

/** A long-running process on a host (a server, a reader of a trace pipe). */
export interface HostChild {
  readonly argv: readonly string[];
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when it has exited (never rejects). */
  readonly exited: Promise<HostExit>;
  /** Has it exited already? */
  readonly done: boolean;
  /** Kills it and everything it started; resolves when it has exited (or after a grace period). */
  kill(): Promise<void>;
  /** Sends one signal to the process itself (SIGTERM lets a reader flush its last output). */
  signal(sig: NodeJS.Signals): void;
}

export interface HostStat {
  readonly size: number;
  /** Permission bits and type bits, as stat(2). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
}

export interface HostDirent {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
}

export interface HostWriteOptions {
  /** Mode of a new file. */
  mode?: number;
  /**
   * Write through a temporary file and rename it over the target, keeping the old file's mode and
   * owner: readers see the old text or the new one, never half of it.
   */
  atomic?: boolean;
}

export interface Host {
  /** For messages: "this machine", "root@kvm1". */
  readonly label: string;
  /** Runs argv to its end. Resolves with any exit code; rejects with HostRunError when it cannot run to its end. */
  run(argv: readonly string[], opts?: HostRunOptions): Promise<HostRunResult>;
  /** Starts argv and returns at once; aborting `signal` kills it with its children. */
  spawn(argv: readonly string[], opts?: HostSpawnOptions): HostChild;
  readFile(path: string): Promise<string>;
  /**
   * Several whole files at once: each path's text, or the error reading it gave (missing, unreadable),
   * path by path. On a remote host one program run for all of them, not a channel per file.
   */
  readFiles(paths: readonly string[]): Promise<Map<string, string | Error>>;
  writeFile(path: string, data: string, opts?: HostWriteOptions): Promise<void>;
  readdir(path: string): Promise<HostDirent[]>;
  /** undefined when there is nothing at `path`. */
  stat(path: string): Promise<HostStat | undefined>;
  exists(path: string): Promise<boolean>;
  /** Removes a file, or with `recursive` a tree; `force`: no error when it is missing. */
  rm(path: string, opts?: { recursive?: boolean; force?: boolean }): Promise<void>;
  /** Removes an empty directory (tracefs instances refuse rm -r). */
  rmdir(path: string): Promise<void>;
  mkdir(path: string, opts?: { recursive?: boolean; mode?: number }): Promise<void>;
  /** A new private directory under the host's temporary directory; its path. */
  mkdtemp(prefix: string): Promise<string>;
  chmod(path: string, mode: number): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  readlink(path: string): Promise<string>;
  /** A byte stream to a unix socket on the host. */
  connectUnix(path: string, opts?: { timeoutMs?: number }): Promise<Duplex>;
}
