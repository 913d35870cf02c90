// Programs inside a Docker/Podman container through the engine's exec API (a Cmd array), on the
// connection's own engine client.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { Guest } from '../../model';
import { DEFAULT_EXEC_TIMEOUT_MS, GUEST_PATH, GuestExecAborted, GuestExecOptions, GuestExecResult, GuestExecutor, killTreeArgv, sleep } from '../../guest/exec';
import type { Host } from '../../host/host';

/** How long a timed-out exec may take to find the process to kill. */
const KILL_INSPECT_MS = 2_000;

interface ExecRun {
  ex?: Docker.Exec;
  stream?: NodeJS.ReadWriteStream;
}

export class EngineExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    /** The connection's engine client (throws when not connected). */
    private readonly docker: () => Docker,
    private readonly guest: Guest,
    /** The machine the engine runs on: an exec's Pid is a pid there. */
    private readonly host: Host,
  ) {
    this.description = `${guest.name} (engine exec)`;
  }

  /** One timer covers the whole call (create, start, output, exit code): a hung engine cannot outlast it. */
  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    const where = this.guest.name;
    if (opts.signal?.aborted) throw new GuestExecAborted(where, argv, 'cancelled');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
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
    const run: ExecRun = {};
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

  private async run(argv: string[], opts: GuestExecOptions, abortSignal: AbortSignal, run: ExecRun): Promise<GuestExecResult> {
    const docker = this.docker();
    const stdin = opts.stdin !== undefined;
    const ex = await docker.getContainer(this.guest.id).exec({
      Cmd: argv,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: stdin,
      Env: [`PATH=${GUEST_PATH}`],
      Tty: false,
      abortSignal,
    });
    run.ex = ex;
    const stream = (await ex.start({ hijack: true, stdin, abortSignal })) as NodeJS.ReadWriteStream;
    run.stream = stream;
    const output = collectOutput(docker, stream);
    if (opts.stdin !== undefined) {
      stream.write(opts.stdin);
      // half-close so the program sees EOF
      (stream as unknown as { end?: () => void }).end?.();
    }
    await output.ended;
    const exitCode = await exitCodeOfExec(ex, abortSignal);
    // read after the engine's answer: the demuxed streams hand on their last chunk asynchronously
    return { exitCode, ...output.text() };
  }

  /** The engine has no "kill exec": kill the exec's process tree on the engine's host. */
  private async killExec(ex: Docker.Exec): Promise<void> {
    try {
      // bounded: after a timeout the engine may be the thing that hangs
      const info = await ex.inspect({ abortSignal: AbortSignal.timeout(KILL_INSPECT_MS) });
      if (info.Pid && info.Pid > 1) await this.host.run(killTreeArgv(info.Pid), { timeoutMs: 10_000 });
    } catch {
      /* engine or process gone */
    }
  }
}

/** stdout and stderr of an exec's multiplexed stream, collected until it ends. */
function collectOutput(docker: Docker, stream: NodeJS.ReadWriteStream): { ended: Promise<void>; text(): { stdout: string; stderr: string } } {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  err.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  docker.modem.demuxStream(stream, out, err);
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  return { ended, text: () => ({ stdout, stderr }) };
}

/** The exec's exit code; the stream can end before the engine records it. */
async function exitCodeOfExec(ex: Docker.Exec, abortSignal: AbortSignal): Promise<number> {
  let info = await ex.inspect({ abortSignal });
  for (let i = 0; i < 50 && info.Running; i++) {
    await sleep(20);
    info = await ex.inspect({ abortSignal });
  }
  return typeof info.ExitCode === 'number' ? info.ExitCode : -1;
}
