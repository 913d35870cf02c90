// LocalHost: the host layer's implementation for this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostRunError } from '../../src/core/host/host';
import { LocalHost, localHost } from '../../src/core/host/local';

const host = new LocalHost();

/** Gone, or a zombie waiting for its new parent to reap it: either way it runs no more. */
function notRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

test('run: output and exit code; a non-zero exit resolves', async () => {
  const r = await host.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual(r, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  assert.equal(host.label, 'this machine');
  assert.equal(localHost.label, 'this machine');
});

test('run: stdin reaches the program', async () => {
  const r = await host.run(['cat'], { stdin: 'hello\n' });
  assert.equal(r.stdout, 'hello\n');
});

test('run: a missing program says which program and which host', async () => {
  await assert.rejects(host.run(['virtscope-no-such-program', '-x']), (e: unknown) => {
    assert.ok(e instanceof HostRunError);
    assert.equal(e.reason, 'not-found');
    assert.ok(e.notFound);
    assert.match(e.message, /virtscope-no-such-program is not installed or not on PATH on this machine/);
    return true;
  });
});

test('run: a timeout kills the whole process tree', async () => {
  let grandchild = 0;
  await assert.rejects(host.run(['sh', '-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 400 }), (e: unknown) => {
    assert.ok(e instanceof HostRunError);
    assert.equal(e.reason, 'timeout');
    assert.match(e.message, /^sh on this machine timed out after 0\.4 s and was killed$/);
    grandchild = parseInt(e.stdout, 10);
    return true;
  });
  assert.ok(grandchild > 0, 'the grandchild printed its pid');
  assert.ok(await eventually(() => notRunning(grandchild)), `sleep (pid ${grandchild}) was killed with its parent`);
});

test('run: aborting kills the process tree and says cancelled', async () => {
  const ac = new AbortController();
  const p = host.run(['sh', '-c', 'sleep 30 & echo $!; wait'], { signal: ac.signal, timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 300));
  ac.abort();
  let grandchild = 0;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HostRunError);
    assert.equal(e.reason, 'cancelled');
    assert.match(e.message, /sh on this machine was cancelled/);
    grandchild = parseInt(e.stdout, 10);
    return true;
  });
  assert.ok(grandchild > 0);
  assert.ok(await eventually(() => notRunning(grandchild)));
  // already aborted: nothing is started
  await assert.rejects(host.run(['true'], { signal: ac.signal }), /cancelled/);
});

test('run: output beyond the limit stops the program', async () => {
  await assert.rejects(host.run(['yes'], { maxOutputBytes: 10_000 }), (e: unknown) => {
    assert.ok(e instanceof HostRunError);
    assert.equal(e.reason, 'too-much-output');
    return true;
  });
});

test('spawn: a long-running process streams and is killed on abort', async () => {
  const ac = new AbortController();
  const p = host.spawn(['sh', '-c', 'echo ready; sleep 30 & wait'], { signal: ac.signal });
  const first = await new Promise<string>((r) => p.stdout.once('data', (d: Buffer) => r(d.toString())));
  assert.equal(first, 'ready\n');
  assert.equal(p.done, false);
  ac.abort();
  const exit = await p.exited;
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(p.done, true);
});

test('spawn: a missing program settles `exited` with a clear error', async () => {
  const p = host.spawn(['virtscope-no-such-program']);
  const exit = await p.exited;
  assert.equal(exit.error?.reason, 'not-found');
  assert.match(exit.error!.message, /virtscope-no-such-program is not installed or not on PATH on this machine/);
  await p.kill(); // no-op once gone
});

test('files: atomic write keeps the mode; stat, readdir, exists, rm', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-host-'));
  try {
    const f = path.join(dir, 'config');
    fs.writeFileSync(f, 'old\n', { mode: 0o600 });
    await host.writeFile(f, 'new\n', { atomic: true });
    assert.equal(await host.readFile(f), 'new\n');
    const st = await host.stat(f);
    assert.equal(st!.mode & 0o777, 0o600);
    assert.equal(st!.isFile, true);
    assert.equal(fs.existsSync(`${f}.virtscope.new`), false);
    assert.equal(await host.stat(path.join(dir, 'missing')), undefined);
    await host.mkdir(path.join(dir, 'sub'));
    assert.deepEqual(
      (await host.readdir(dir)).sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'config', type: 'file' },
        { name: 'sub', type: 'directory' },
      ],
    );
    assert.equal(await host.exists(f), true);
    await host.rm(f);
    assert.equal(await host.exists(f), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('connectUnix: a duplex stream to a unix socket; a missing socket is named', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-host-'));
  const sockPath = path.join(dir, 'echo.sock');
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(sockPath, r));
  try {
    const d = await host.connectUnix(sockPath);
    const echoed = new Promise<string>((r) => d.once('data', (b: Buffer) => r(b.toString())));
    d.write('ping');
    assert.equal(await echoed, 'ping');
    d.destroy();
    await assert.rejects(host.connectUnix(path.join(dir, 'none.sock')), /cannot connect to .*none\.sock on this machine: no such socket/);
  } finally {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
