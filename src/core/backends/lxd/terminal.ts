// Open Shell and Open Console in an LXD / Incus instance, over the same websockets as exec: the
// shell is an exec on a terminal (interactive, with the terminal's size; resizes go as
// `window-resize` on the control stream), the console is the instance's /dev/console (containers)
// or serial console (VMs) from POST /1.0/instances/NAME/console. Both carry the bytes on fd "0".
import { Duplex, PassThrough } from 'node:stream';
import type WebSocket from 'ws';
import { GUEST_PATH } from '../../guest/exec';
import { pickShellArgv, SHELL_TERM } from '../../console/shell';
import type { ConsoleGuestState, GuestConsole, GuestShell, ShellOptions, TerminalProcess } from '../../console/types';
import type { LxdClient } from './client';
import { LxdError } from './errors';
import {
  closed,
  connectStreams,
  execError,
  exitCodeOfOperation,
  killExec,
  newMarker,
  onData,
  resizeMessage,
  startExec,
  type LxdInstanceRef,
  type LxdStreams,
} from './exec';
import type { LxdOperation } from './types';

/** Sends on a websocket unless it is closed already (a keystroke after the end is dropped). */
function sendTo(ws: WebSocket, data: Buffer | string, binary: boolean): void {
  if (ws.readyState === ws.OPEN) ws.send(typeof data === 'string' && binary ? Buffer.from(data) : data, { binary });
}

const SHELL_WORDS: Record<string, number> = { 'command not found': 127, 'permission denied': 126 };

/** An interactive exec as a TerminalProcess: fd "0" both ways, sizes on the control stream. */
export function terminalOfStreams(client: LxdClient, where: LxdInstanceRef, s: LxdStreams, kill: () => Promise<void>): TerminalProcess {
  const output = new PassThrough();
  const data = s.fds['0'];
  onData(data, (d) => output.write(d));
  const exited = client.follow(s.op, `the shell in ${where.name}`).then(
    (op) => exitCodeOfOperation(op),
    // LXD fails the operation of a program that exits with 127 or 126, in words
    (e: unknown) => (e instanceof LxdError ? SHELL_WORDS[e.lxdMessage.toLowerCase()] : undefined),
  );
  return {
    output,
    write: (d) => sendTo(data, d, true),
    resize: async (cols, rows) => sendTo(s.fds.control, resizeMessage(cols, rows), false),
    // the output may still be arriving when the operation ends: its websocket's close is the end
    exited: Promise.all([exited, closed(data)]).then(([code]) => {
      output.end();
      s.fds.control.close();
      return { code: code === -1 ? undefined : code };
    }),
    kill,
  };
}

/** Open Shell: the first of the shells that exists in the instance, as a login shell on a terminal. */
export function lxdShell(client: () => LxdClient, where: LxdInstanceRef): GuestShell {
  return {
    description: 'the LXD exec API',
    open: async (o: ShellOptions) => {
      const c = client();
      const marker = newMarker();
      const environment = { PATH: GUEST_PATH, TERM: SHELL_TERM, HOME: '/root', [marker.name]: marker.value };
      const command = pickShellArgv(o.shells, o.chosen);
      const s = await startExec(c, where, { command, environment, interactive: true, width: o.cols, height: o.rows }).catch((e: unknown) => {
        throw execError(e, ['a shell'], where);
      });
      return terminalOfStreams(c, where, s, () => killExec(c, where, s, marker));
    },
  };
}

const CONSOLE_STATE: Record<string, ConsoleGuestState> = { running: 'running', frozen: 'paused', stopped: 'stopped' };

/** A console's websocket as a stream: what the console session reads and writes. */
export function duplexOfStreams(s: LxdStreams): Duplex {
  const data = s.fds['0'];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (data.readyState !== data.OPEN) return cb(new Error('the console is closed'));
      data.send(chunk, { binary: true }, cb);
    },
    final(cb) {
      data.close();
      s.fds.control.close();
      cb();
    },
    destroy(err, cb) {
      data.terminate();
      s.fds.control.terminate();
      cb(err);
    },
  });
  onData(data, (d) => stream.push(d));
  void closed(data).then(() => {
    stream.push(null);
    s.fds.control.close();
  });
  return stream;
}

/** Open Console: the instance's console (LXD keeps one per instance; a second client shares it). */
export function lxdConsole(client: () => LxdClient, where: LxdInstanceRef): GuestConsole {
  return {
    devices: async () => [],
    open: async () => {
      const c = client();
      const path = `/1.0/instances/${encodeURIComponent(where.name)}/console`;
      const res = await c.request<LxdOperation>('POST', path, { type: 'console', width: 80, height: 24 }, { project: where.project });
      if (res.type !== 'async') throw new LxdError(500, `POST ${path}`, 'the server did not start an operation for the console');
      return duplexOfStreams(await connectStreams(c, res.metadata, ['0', 'control'], `POST ${path}`));
    },
    state: async () => {
      try {
        const st = await client().get<{ status: string }>(`/1.0/instances/${encodeURIComponent(where.name)}/state`, { project: where.project });
        return CONSOLE_STATE[st.metadata.status.toLowerCase()] ?? 'stopped';
      } catch (e) {
        if (e instanceof LxdError && e.status === 404) return 'gone';
        throw e;
      }
    },
  };
}
