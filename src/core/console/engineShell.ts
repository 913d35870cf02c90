// Docker/Podman: a shell through the engine's exec API with a TTY (Tty: true, so the output is one
// raw stream, not multiplexed), resized with the exec resize call, on the backend's own engine client.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { killProcessTree } from '../host/local';
import { pickShellArgv, SHELL_TERM } from './shell';
import type { GuestShell, ShellOptions, TerminalProcess } from './types';

/** How long the engine may take to say an exec has ended before we look at its process. */
const EXIT_INSPECT_MS = 5000;

export function engineShell(engine: () => Docker, containerId: string, engineLocal: boolean): GuestShell {
  return {
    description: "the engine's exec",
    open: (o) => openEngineShell(engine(), containerId, o, engineLocal),
  };
}

async function openEngineShell(docker: Docker, containerId: string, o: ShellOptions, engineLocal: boolean): Promise<TerminalProcess> {
  const ex = await docker.getContainer(containerId).exec({
    Cmd: pickShellArgv(o.shells, o.chosen),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: [`TERM=${SHELL_TERM}`],
  });
  const stream = (await ex.start({ hijack: true, stdin: true, Tty: true })) as unknown as NodeJS.ReadWriteStream & { destroy(): void };
  const output = new PassThrough();
  stream.on('data', (d: Buffer) => output.write(d));
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  const resize = async (cols: number, rows: number) => {
    await ex.resize({ w: Math.max(1, Math.floor(cols)), h: Math.max(1, Math.floor(rows)) }).catch(() => undefined);
  };
  await resize(o.cols, o.rows);
  const exited = ended.then(async () => {
    output.end();
    const info = await ex.inspect({ abortSignal: AbortSignal.timeout(EXIT_INSPECT_MS) }).catch(() => undefined);
    return { code: typeof info?.ExitCode === 'number' && !info.Running ? info.ExitCode : undefined };
  });
  return {
    output,
    write: (data) => void stream.write(data),
    resize,
    exited,
    kill: async () => {
      stream.destroy();
      // the engine has no "kill exec"; a shell whose terminal went away may linger: its pid is ours to end on this host
      const info = await ex.inspect({ abortSignal: AbortSignal.timeout(EXIT_INSPECT_MS) }).catch(() => undefined);
      if (engineLocal && info?.Running && info.Pid > 0) await killProcessTree(info.Pid);
    },
  };
}
