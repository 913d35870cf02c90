// Programs inside an LXD / Incus instance through the exec API: POST /1.0/instances/NAME/exec with
// wait-for-websocket, then one websocket per file descriptor the operation names (0, 1, 2 and
// control for a program; 0 and control for one on a terminal), connected before the program starts.
// The exit code is the finished operation's metadata `return`. Every program carries a marker in its
// environment, inherited by what it starts, so a cancel or timeout kills the whole tree in the
// instance (the API's own signal reaches only the first process).
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { DEFAULT_EXEC_TIMEOUT_MS, GUEST_PATH, GuestExecAborted, type GuestExecOptions, type GuestExecResult, type GuestExecutor } from '../../guest/exec';
import type { LxdClient } from './client';
import { BackendError } from '../../model';
import { LxdError } from './errors';
import type { LxdOperation } from './types';

/** The environment variable that marks an exec's processes (its value: a random id per exec). */
export const EXEC_MARKER = 'VIRTSCOPE_EXEC';

/** How long the kill of a cancelled program's tree may take. */
const KILL_TIMEOUT_MS = 10_000;

export interface LxdExecRequest {
  readonly command: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** On a terminal (one stream, fd "0") or not (stdin, stdout and stderr apart). */
  readonly interactive: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Where the instance is: its name and project. */
export interface LxdInstanceRef {
  readonly name: string;
  readonly project: string;
  /** Placed on another member than the one spoken to: its streams would be relayed. */
  readonly relayed?: boolean;
}

/** A started exec (or console): its operation and a websocket per fd ("0", "1", "2", "control"). */
export interface LxdStreams {
  readonly op: LxdOperation;
  readonly fds: Readonly<Record<string, WebSocket>>;
}

/** The control websocket's messages (JSON text). LXD takes the sizes as strings. */
export function resizeMessage(cols: number, rows: number): string {
  const n = (v: number) => String(Math.max(1, Math.min(9999, Math.floor(Number.isFinite(v) ? v : 1))));
  return JSON.stringify({ command: 'window-resize', args: { width: n(cols), height: n(rows) } });
}

export function signalMessage(signal: number): string {
  if (!Number.isInteger(signal) || signal < 1 || signal > 64) throw new Error(`not a signal number: ${signal}`);
  return JSON.stringify({ command: 'signal', signal });
}

/** The secrets of the operation's websockets, by fd; an error names what is missing. */
export function execSecrets(op: LxdOperation, wanted: readonly string[], what: string): Record<string, string> {
  const fds = (op.metadata as { fds?: Record<string, unknown> } | null)?.fds;
  const out: Record<string, string> = {};
  for (const fd of wanted) {
    const s = fds?.[fd];
    if (typeof s !== 'string' || !s) throw new LxdError(500, what, `the server named no websocket for fd ${fd}`);
    out[fd] = s;
  }
  return out;
}

/** The program's exit code from the finished operation (`return`); -1 when the server gives none. */
export function exitCodeOfOperation(op: LxdOperation): number {
  const r = (op.metadata as { return?: unknown } | null)?.return;
  return typeof r === 'number' && Number.isInteger(r) ? r : -1;
}

/**
 * Connects the websockets of an operation (its fds), all of them or none. A websocket connected
 * first flows while the others connect: what it receives meanwhile is kept for onData.
 */
export async function connectStreams(client: LxdClient, op: LxdOperation, wanted: readonly string[], what: string): Promise<LxdStreams> {
  const secrets = execSecrets(op, wanted, what);
  const path = (fd: string) => `/1.0/operations/${encodeURIComponent(op.id)}/websocket?secret=${encodeURIComponent(secrets[fd])}`;
  const tries = await Promise.allSettled(wanted.map((fd) => connectForwarded(client, op.id, path(fd)).then(keepEarly)));
  const failed = tries.find((t) => t.status === 'rejected');
  if (failed) {
    for (const t of tries) if (t.status === 'fulfilled') t.value.terminate();
    throw failed.reason;
  }
  const fds: Record<string, WebSocket> = {};
  wanted.forEach((fd, i) => (fds[fd] = (tries[i] as PromiseFulfilledResult<WebSocket>).value));
  return { op, fds };
}

/** Attempts at a websocket the member relays to the instance's member (LXD 5.0 refuses some at once). */
const RELAY_ATTEMPTS = 6;

/**
 * A stream's websocket. A member that relays it to the instance's member sometimes answers "websocket:
 * bad handshake" at once (seen on LXD 5.0.2, about 1 in 5); the operation still waits for that fd,
 * so the same secret is tried again — only while the operation still runs: LXD 5.0.2 answers a
 * connect to a finished one with "Only running operations can be connected", and a member that got
 * a burst of those was seen to crash in the lab.
 */
async function connectForwarded(client: LxdClient, opId: string, path: string): Promise<WebSocket> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.websocket(path);
    } catch (e) {
      if (attempt >= RELAY_ATTEMPTS || !(e instanceof LxdError && /bad handshake/i.test(e.lxdMessage))) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
      if (!(await stillRunning(client, opId))) throw e;
    }
  }
}

async function stillRunning(client: LxdClient, opId: string): Promise<boolean> {
  const op = await client.get<LxdOperation>(`/1.0/operations/${encodeURIComponent(opId)}`).catch(() => undefined);
  return op?.metadata.status === 'Running';
}

const early = new WeakMap<WebSocket, { messages: Buffer[]; listener: (d: Buffer) => void }>();

function keepEarly(ws: WebSocket): WebSocket {
  const messages: Buffer[] = [];
  const listener = (d: Buffer) => messages.push(Buffer.from(d));
  ws.on('message', listener);
  early.set(ws, { messages, listener });
  return ws;
}

/**
 * The bytes a stream's websocket brings, from its first message on. An empty message is LXD's end
 * of the stream: the websocket is closed from this side too (LXD waits for that to end the program).
 */
export function onData(ws: WebSocket, handler: (d: Buffer) => void): void {
  const kept = early.get(ws);
  early.delete(ws);
  const take = (d: Buffer) => {
    if (d.length === 0) return void ws.close();
    handler(Buffer.from(d));
  };
  if (kept) ws.off('message', kept.listener);
  ws.on('message', take);
  for (const m of kept?.messages ?? []) take(m);
}

/** Starts a program in the instance and connects its websockets (it runs once they are all connected). */
export async function startExec(client: LxdClient, where: LxdInstanceRef, req: LxdExecRequest): Promise<LxdStreams> {
  const path = `/1.0/instances/${encodeURIComponent(where.name)}/exec`;
  const body = {
    command: req.command,
    environment: req.environment,
    'wait-for-websocket': true,
    interactive: req.interactive,
    'record-output': false,
    ...(req.interactive ? { width: req.width ?? 80, height: req.height ?? 24 } : {}),
  };
  const res = await client.request<LxdOperation>('POST', path, body, { project: where.project });
  if (res.type !== 'async') throw new LxdError(500, `POST ${path}`, 'the server did not start an operation for the program');
  return connectStreams(client, res.metadata, req.interactive ? ['0', 'control'] : ['0', '1', '2', 'control'], `POST ${path}`);
}

/** Settles when the websocket is closed (by either side, or broken). */
export function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.once('error', () => resolve());
  });
}

/** Closes every websocket of an exec now. */
export function terminateAll(s: LxdStreams): void {
  for (const ws of Object.values(s.fds)) ws.terminate();
}

// A fixed POSIX sh script (the marker is its argument $1, never part of it): stops every process
// whose environment carries the marker, looking again until no new one appears (a process can fork
// in between), then kills them all. Runs with busybox's sh, tr and grep.
const KILL_MARKED =
  'all=; again=1; while [ $again = 1 ]; do again=0; for d in /proc/[0-9]*; do p=${d#/proc/}; ' +
  'case " $all " in *" $p "*) continue;; esac; ' +
  'if tr "\\000" "\\n" < $d/environ 2>/dev/null | grep -qxF "$1"; then kill -STOP $p 2>/dev/null; all="$all $p"; again=1; fi; done; done; ' +
  '[ -z "$all" ] || kill -KILL $all 2>/dev/null; true';

/** The argv that kills every process of the instance carrying `marker` ("NAME=VALUE"). */
export function killMarkedArgv(marker: string): string[] {
  if (!/^\w+=[\w-]+$/.test(marker)) throw new Error(`not an exec marker: ${marker}`);
  return ['/bin/sh', '-c', KILL_MARKED, 'sh', marker];
}

/** A fresh marker for one exec: NAME=VALUE. */
export function newMarker(): { name: string; value: string } {
  return { name: EXEC_MARKER, value: randomUUID() };
}

/** Kills the program's tree: the API's signal to its first process, then every marked process. */
export async function killExec(client: LxdClient, where: LxdInstanceRef, s: LxdStreams, marker: { name: string; value: string }): Promise<void> {
  try {
    s.fds.control?.send(signalMessage(9));
  } catch {
    /* the control stream is gone: the marked kill still runs */
  }
  await runExec(client, where, killMarkedArgv(`${marker.name}=${marker.value}`), { timeoutMs: KILL_TIMEOUT_MS }, false).catch(() => undefined);
  terminateAll(s);
}

/** Collects stdout and stderr until their websockets close, then reads the exit code. */
async function collect(client: LxdClient, s: LxdStreams, opts: GuestExecOptions, what: string): Promise<GuestExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  onData(s.fds['1'], (d) => out.push(d));
  onData(s.fds['2'], (d) => err.push(d));
  const stdin = s.fds['0'];
  if (opts.stdin !== undefined && opts.stdin !== '') stdin.send(Buffer.from(opts.stdin), { binary: true });
  // closing stdin is the program's EOF
  stdin.close();
  const [op] = await Promise.all([client.follow(s.op, what), closed(s.fds['1']), closed(s.fds['2'])]);
  s.fds.control.close();
  return { exitCode: exitCodeOfOperation(op), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * Runs argv in the instance to its end (stdin given, then closed), killing its tree on timeout or
 * cancel (GuestExecAborted). `mark`: give it the marker a kill needs (the kill itself goes without).
 */
export async function runExec(client: LxdClient, where: LxdInstanceRef, argv: string[], opts: GuestExecOptions = {}, mark = true): Promise<GuestExecResult> {
  if (opts.signal?.aborted) throw new GuestExecAborted(where.name, argv, 'cancelled');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const marker = newMarker();
  const environment = { PATH: GUEST_PATH, ...(mark ? { [marker.name]: marker.value } : {}) };
  // only where a relay would carry the streams (see runRecorded): a program's background children
  // outlive it through websockets, not always when its output is recorded
  const recorded = !!where.relayed && (opts.stdin === undefined || opts.stdin === '');
  const s = recorded ? undefined : await startExec(client, where, { command: argv, environment, interactive: false });
  let stop: (why: 'cancelled' | 'timeout') => void = () => undefined;
  const aborted = new Promise<'cancelled' | 'timeout'>((resolve) => (stop = resolve));
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const onAbort = () => stop('cancelled');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const what = `${argv[0]} in ${where.name}`;
    const ran = s ? collect(client, s, opts, what) : runRecorded(client, where, argv, environment, what);
    const first = await Promise.race([ran, aborted]);
    if (typeof first !== 'string') return first;
    ran.catch(() => undefined);
    if (mark && s) await killExec(client, where, s, marker);
    else if (mark) await runExec(client, where, killMarkedArgv(`${marker.name}=${marker.value}`), { timeoutMs: KILL_TIMEOUT_MS }, false).catch(() => undefined);
    else if (s) terminateAll(s);
    throw new GuestExecAborted(where.name, argv, first, timeoutMs);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * A program with no input on an instance of another member, run without websockets: LXD records its stdout and stderr in files that
 * are read and deleted here. Why: on LXD 5.0.2 a member relaying an exec's websockets to the
 * instance's member refuses some at once ("websocket: bad handshake"), and a member that got a
 * burst of those crashed in the lab.
 */
async function runRecorded(
  client: LxdClient,
  where: LxdInstanceRef,
  argv: string[],
  environment: Record<string, string>,
  what: string,
): Promise<GuestExecResult> {
  const path = `/1.0/instances/${encodeURIComponent(where.name)}/exec`;
  const body = { command: argv, environment, 'wait-for-websocket': false, 'record-output': true, interactive: false };
  const res = await client.request<LxdOperation>('POST', path, body, { project: where.project });
  if (res.type !== 'async') throw new LxdError(500, `POST ${path}`, 'the server did not start an operation for the program');
  const op = await client.follow(res.metadata, what, { project: where.project });
  const output = (op.metadata as { output?: Record<string, string> } | null)?.output ?? {};
  const read = async (fd: string) => {
    const file = output[fd];
    if (!file) return '';
    const text = await client.getText(file, { project: where.project });
    await client.request('DELETE', file, undefined, { project: where.project }).catch(() => undefined);
    return text;
  };
  const [stdout, stderr] = await Promise.all([read('1'), read('2')]);
  return { exitCode: exitCodeOfOperation(op), stdout, stderr };
}

/** LXD's refusal in a user's words: what could not run where, and LXD's own reason. */
export function execError(e: unknown, argv: readonly string[], where: LxdInstanceRef): unknown {
  if (!(e instanceof LxdError)) return e;
  const why = e.status === 404 && /instance/i.test(e.lxdMessage) ? `"${where.name}" is not there any more (LXD: ${e.lxdMessage})` : `LXD: ${e.lxdMessage}`;
  return Object.assign(new BackendError(`cannot run ${argv[0]} in "${where.name}": ${why}`, e.status), { cause: e });
}

/** The `exec` capability of an LXD instance. */
export class LxdExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    /** The connection's client (throws when not connected). */
    private readonly client: () => LxdClient,
    private readonly where: LxdInstanceRef,
  ) {
    this.description = `${where.name} (LXD exec)`;
  }

  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    try {
      return await runExec(this.client(), this.where, argv, opts);
    } catch (e) {
      throw execError(e, argv, this.where);
    }
  }
}
