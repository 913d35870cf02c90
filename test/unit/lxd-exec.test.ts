// The LXD exec, shell and console streams against a small fake LXD (test/unit/fake-lxd.ts), only for
// what the real daemon does not do on demand: output arriving before the last websocket is
// connected, a program that never ends, a server that names no control stream. The control
// messages and the kill are checked as the fake receives them; the real cluster is
// test/integration/lxd-exec.test.ts. /state mapping: recorded real answers (fixtures/lxd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import type WebSocket from 'ws';
import { fakeLxd, json, recorded, sync } from './fake-lxd';
import { EXEC_MARKER, exitCodeOfOperation, killMarkedArgv, resizeMessage, runExec, signalMessage } from '../../src/core/backends/lxd/exec';
import { lxdShell } from '../../src/core/backends/lxd/terminal';
import { statsOfState } from '../../src/core/backends/lxdBackend';
import { engineCounters } from '../../src/core/metrics/parse';
import { GuestExecAborted } from '../../src/core/guest/exec';
import type { LxdInstanceState, LxdOperation, LxdResponse } from '../../src/core/backends/lxd/types';

const WHERE = { name: 'c1', project: 'default' };

function operation(id: string, fds: Record<string, string>, extra: Partial<LxdOperation> = {}): LxdOperation {
  return {
    id,
    class: 'websocket',
    description: 'Executing command',
    created_at: '2026-12-03T17:00:00Z',
    updated_at: '2026-12-03T17:00:00Z',
    status: 'Running',
    status_code: 103,
    resources: { instances: ['/1.0/instances/c1'] },
    metadata: { fds },
    may_cancel: false,
    err: '',
    location: 'member1',
    ...extra,
  };
}

interface ExecCall {
  body: {
    command: string[];
    environment: Record<string, string>;
    interactive: boolean;
    width?: number;
    height?: number;
    'record-output'?: boolean;
    'wait-for-websocket'?: boolean;
  };
  fds: Record<string, WebSocket>;
  /** Ends the operation with this exit code. */
  end(code: number): void;
}

/**
 * A fake LXD whose every exec gets its fds; `onExec` runs once all of them are connected (as LXD
 * starts the program only then). `/wait` answers Running until the call is ended.
 */
/** A program given input goes through its websockets (one without input is recorded: see recordedCall). */
const GIVEN_INPUT = { stdin: '\n' };

async function execServer(
  onExec: (call: ExecCall, n: number) => void,
  opts: { fds?: (interactive: boolean) => string[]; onConnect?: (fd: string, ws: WebSocket) => void } = {},
) {
  const calls: ExecCall[] = [];
  const bySecret = new Map<string, { call: ExecCall; fd: string; n: number; left: Set<string> }>();
  const ended = new Map<string, number>();
  const lxd = await fakeLxd((req, body, res) => {
    const url = req.url ?? '';
    if (req.method === 'POST' && /\/exec/.test(url))
      return JSON.parse(body)['record-output'] ? recordedCall(res, JSON.parse(body)) : startCall(res, JSON.parse(body));
    const wait = /^\/1\.0\/operations\/(op\d+)\/wait/.exec(url);
    if (wait) return answerWait(res, wait[1]);
    const get = /^\/1\.0\/operations\/(op\d+)$/.exec(url);
    if (req.method === 'GET' && get) return answerGet(res, get[1]);
    json(res, 404, { type: 'error', error: 'not found', error_code: 404 });
  });
  function startCall(res: http.ServerResponse, body: ExecCall['body']) {
    const n = calls.length;
    const id = `op${n}`;
    const names = opts.fds?.(body.interactive) ?? (body.interactive ? ['0', 'control'] : ['0', '1', '2', 'control']);
    const fds = Object.fromEntries(names.map((fd) => [fd, `secret-${n}-${fd}`]));
    const call: ExecCall = { body, fds: {}, end: (code) => ended.set(id, code) };
    calls.push(call);
    const left = new Set(names);
    for (const fd of names) bySecret.set(fds[fd], { call, fd, n, left });
    created(res, id, fds);
  }
  // a program with no input runs without websockets (record-output): here it ends at once, with no output
  function recordedCall(res: http.ServerResponse, body: ExecCall['body']) {
    const id = `op${calls.length}`;
    calls.push({ body, fds: {}, end: () => undefined });
    ended.set(id, 0);
    created(res, id, {});
  }
  /** LXD's answer to a POST that started an operation. */
  function created(res: http.ServerResponse, id: string, fds: Record<string, string>) {
    json(res, 202, {
      type: 'async',
      status: 'Operation created',
      status_code: 100,
      operation: `/1.0/operations/${id}`,
      error_code: 0,
      error: '',
      metadata: operation(id, fds),
    });
  }
  function answerWait(res: http.ServerResponse, id: string) {
    const reply = () => {
      const code = ended.get(id);
      if (code === undefined) return sync(res, operation(id, {}));
      sync(res, operation(id, {}, { status: 'Success', status_code: 200, metadata: { return: code } }));
    };
    setTimeout(reply, ended.has(id) ? 0 : 50);
  }
  function answerGet(res: http.ServerResponse, id: string) {
    const code = ended.get(id);
    sync(res, code === undefined ? operation(id, {}) : operation(id, {}, { status: 'Success', status_code: 200, metadata: { return: code } }));
  }
  lxd.wss.on('connection', (ws, req) => {
    const secret = new URL(req.url ?? '', 'http://x').searchParams.get('secret') ?? '';
    const s = bySecret.get(secret);
    if (!s) return ws.close(1008, 'bad secret');
    s.call.fds[s.fd] = ws;
    opts.onConnect?.(s.fd, ws);
    s.left.delete(s.fd);
    if (!s.left.size) onExec(s.call, s.n);
  });
  return { lxd, calls };
}

/** Everything a websocket receives, as text, until it closes. */
function received(ws: WebSocket): Promise<string[]> {
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString()));
  return new Promise((resolve) => ws.on('close', () => resolve(got)));
}

test('a program: argv and environment sent as they are, stdin then its end, stdout, stderr and the exit code apart', async () => {
  const { lxd, calls } = await execServer((call) => {
    void received(call.fds['0']).then((stdin) => {
      call.fds['1'].send(Buffer.from(`got:${stdin.join('')}`));
      call.fds['1'].close();
      call.fds['2'].send(Buffer.from('warn'));
      call.fds['2'].close();
      call.end(3);
    });
  });
  try {
    const r = await runExec(lxd.client, WHERE, ['/bin/sh', '-c', 'cat; exit 3', 'sh', '$(rm -rf /)'], { stdin: 'hello' });
    assert.deepEqual(r, { exitCode: 3, stdout: 'got:hello', stderr: 'warn' });
    const b = calls[0].body;
    assert.deepEqual(b.command, ['/bin/sh', '-c', 'cat; exit 3', 'sh', '$(rm -rf /)']);
    assert.equal(b.interactive, false);
    assert.equal((b as unknown as Record<string, unknown>)['wait-for-websocket'], true);
    assert.match(b.environment[EXEC_MARKER], /^[0-9a-f-]{36}$/);
    assert.match(b.environment.PATH, /\/usr\/bin/);
  } finally {
    await lxd.close();
  }
});

test('output sent while the other websockets still connect is not lost', async () => {
  const { lxd } = await execServer(
    (call) => {
      call.fds['1'].close();
      call.fds['2'].close();
      call.end(0);
    },
    // LXD may start writing on a stream as soon as it is connected
    { onConnect: (fd, ws) => fd === '1' && ws.send(Buffer.from('early ')) },
  );
  try {
    const r = await runExec(lxd.client, WHERE, ['true'], GIVEN_INPUT);
    assert.equal(r.stdout, 'early ');
  } finally {
    await lxd.close();
  }
});

test("a shell: the terminal's size and resizes on the control stream; LXD's empty message ends the output and is answered by a close", async () => {
  let control: Promise<string[]> = Promise.resolve([]);
  const { lxd, calls } = await execServer((call) => {
    control = received(call.fds.control);
    call.fds['0'].on('message', (d: Buffer) => {
      if (d.toString() !== 'exit\n') return;
      call.fds['0'].send(Buffer.from('bye\r\n'));
      call.fds['0'].send(Buffer.alloc(0));
      // LXD ends the program once the client has closed its side
      call.fds['0'].once('close', () => {
        call.fds.control.close();
        call.end(4);
      });
    });
  });
  try {
    const p = await lxdShell(() => lxd.client, WHERE).open({ shells: ['zsh', 'sh'], chosen: true, cols: 91, rows: 27 });
    let out = '';
    p.output.on('data', (d: Buffer) => (out += d.toString()));
    await p.resize(120, 40);
    p.write('exit\n');
    assert.deepEqual(await p.exited, { code: 4 });
    assert.equal(out, 'bye\r\n');
    const b = calls[0].body;
    assert.equal(b.interactive, true);
    assert.deepEqual([b.width, b.height], [91, 27]);
    assert.equal(b.environment.TERM, 'xterm-256color');
    assert.deepEqual(
      (await control).map((m) => JSON.parse(m)),
      [{ command: 'window-resize', args: { width: '120', height: '40' } }],
    );
  } finally {
    await lxd.close();
  }
});

test('a program that does not end in time: the API signal, then every process carrying its marker killed', async () => {
  const control: Promise<string[]>[] = [];
  const { lxd, calls } = await execServer((call, n) => {
    control[n] = received(call.fds.control);
    if (n === 1) {
      // the kill itself ends at once
      call.fds['1'].close();
      call.fds['2'].close();
      call.end(0);
    }
  });
  try {
    await assert.rejects(
      runExec(lxd.client, WHERE, ['sleep', '1000'], { ...GIVEN_INPUT, timeoutMs: 200 }),
      (e: Error) => e instanceof GuestExecAborted && e.reason === 'timeout' && /sleep in c1 timed out/.test(e.message),
    );
    assert.deepEqual(await control[0], [signalMessage(9)]);
    const marker = calls[0].body.environment[EXEC_MARKER];
    assert.deepEqual(calls[1].body.command, killMarkedArgv(`${EXEC_MARKER}=${marker}`));
    assert.equal(calls[1].body.environment[EXEC_MARKER], undefined, 'the kill does not kill itself');
  } finally {
    await lxd.close();
  }
});

test('a member relaying a stream that refuses it at once ("bad handshake", LXD 5.0) is asked again with the same secret', async () => {
  const { lxd } = await execServer((call) => {
    call.fds['1'].send(Buffer.from('ok'));
    call.fds['1'].close();
    call.fds['2'].close();
    call.end(0);
  });
  let refused = 0;
  const refusal = JSON.stringify({ type: 'error', error: 'websocket: bad handshake', error_code: 500 });
  lxd.wss.options.verifyClient = (info: { req: http.IncomingMessage }, cb: (ok: boolean, code?: number, msg?: string) => void) => {
    // the first attempt at each stream is refused
    if (!seenOnce.has(info.req.url ?? '')) {
      seenOnce.add(info.req.url ?? '');
      refused++;
      return cb(false, 500, refusal);
    }
    cb(true);
  };
  const seenOnce = new Set<string>();
  try {
    assert.deepEqual(await runExec(lxd.client, WHERE, ['true'], GIVEN_INPUT), { exitCode: 0, stdout: 'ok', stderr: '' });
    assert.equal(refused, 4, 'each stream refused once, then connected');
  } finally {
    await lxd.close();
  }
});

test('a refused stream of an operation that has ended is not asked again (LXD 5.0.2 crashed on a burst of those)', async () => {
  let calls: ExecCall[] = [];
  const { lxd, calls: made } = await execServer(() => undefined);
  calls = made;
  let refused = 0;
  const refusal = JSON.stringify({ type: 'error', error: 'websocket: bad handshake', error_code: 500 });
  lxd.wss.options.verifyClient = (_info: unknown, cb: (ok: boolean, code?: number, msg?: string) => void) => {
    refused++;
    calls[0]?.end(1); // the operation ends while its streams are refused
    cb(false, 500, refusal);
  };
  try {
    await assert.rejects(runExec(lxd.client, WHERE, ['true'], GIVEN_INPUT), /bad handshake/);
    assert.equal(refused, 4, 'each stream tried once: the operation had ended, so none was asked again');
  } finally {
    await lxd.close();
  }
});

test('an instance on another member: a program with no input runs without websockets (its output recorded)', async () => {
  const { lxd, calls } = await execServer(() => assert.fail('no websocket is opened'));
  try {
    assert.deepEqual(await runExec(lxd.client, { ...WHERE, relayed: true }, ['true']), { exitCode: 0, stdout: '', stderr: '' });
    assert.equal(calls[0].body['record-output'], true);
    assert.equal(calls[0].body['wait-for-websocket'], false);
    assert.equal(lxd.wss.clients.size, 0);
  } finally {
    await lxd.close();
  }
});

test('a server that names no control stream: a clear error, no websocket left open', async () => {
  const { lxd } = await execServer(() => undefined, { fds: () => ['0', '1', '2'] });
  try {
    await assert.rejects(runExec(lxd.client, WHERE, ['true'], GIVEN_INPUT), /named no websocket for fd control/);
    assert.equal(lxd.wss.clients.size, 0);
  } finally {
    await lxd.close();
  }
});

test('control messages and the kill argv refuse what is not theirs', () => {
  assert.equal(resizeMessage(0, Number.NaN), '{"command":"window-resize","args":{"width":"1","height":"1"}}');
  assert.equal(resizeMessage(80.7, 24), '{"command":"window-resize","args":{"width":"80","height":"24"}}');
  assert.throws(() => signalMessage(0));
  assert.throws(() => killMarkedArgv('X=1; rm -rf /'));
  assert.equal(killMarkedArgv('VIRTSCOPE_EXEC=ab-12').at(-1), 'VIRTSCOPE_EXEC=ab-12');
  assert.equal(exitCodeOfOperation(operation('op', {}, { metadata: {} })), -1);
});

test('/state read as engine statistics (recorded real answers): CPU, memory, network without the loopback, processes', () => {
  const running = recorded<LxdResponse<LxdInstanceState>>('instance-state-running').body.metadata;
  const s = statsOfState(running);
  assert.equal(s.cpu_stats?.cpu_usage?.total_usage, running.cpu.usage);
  assert.equal(s.memory_stats?.usage, 1028096);
  assert.equal(s.memory_stats?.limit, undefined, 'no limit set: none claimed');
  assert.deepEqual(Object.keys(s.networks ?? {}), ['eth0']);
  assert.equal(s.pids_stats?.current, running.processes);
  const c = engineCounters(s);
  assert.deepEqual(c.net, { rxBytes: 348, txBytes: 864, rxPkts: 1, txPkts: 4 });
  assert.equal(c.memUsed, 1028096);

  const stopped = statsOfState(recorded<LxdResponse<LxdInstanceState>>('instance-state-stopped').body.metadata);
  assert.deepEqual(stopped.networks, {});
  // LXD says -1 where it cannot count: absent, not a negative figure
  assert.equal(statsOfState({ ...running, processes: -1 }).pids_stats?.current, undefined);
});
