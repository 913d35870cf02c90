// Running host programs: always execFile with an argument array, never a shell string.
import { execFile } from 'node:child_process';

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
  ) {
    super(firstLine(stderr) || cause || `${file} exited with ${exitCode}`);
    this.name = 'ExecError';
  }
  /** True when the program itself is missing (ENOENT). */
  get notFound(): boolean {
    return this.exitCode === null && /ENOENT/.test(this.message);
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

/** Run `file` with `args` (no shell). Rejects with ExecError carrying the program's own stderr. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args as string[],
      {
        timeout: opts.timeoutMs ?? 30_000,
        signal: opts.signal,
        env: opts.env,
        maxBuffer: opts.maxBuffer ?? 32 * 1024 * 1024,
        encoding: 'utf8',
        shell: false,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        const code = typeof e.code === 'number' ? e.code : null;
        let cause = e.message;
        if (e.code === 'ENOENT') cause = `ENOENT: ${file} is not installed or not on PATH`;
        else if (e.killed) cause = `${file} timed out or was cancelled`;
        reject(new ExecError(file, args, code, stderr ?? '', stdout ?? '', cause));
      },
    );
  });
}
