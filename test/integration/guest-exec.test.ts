// Runs commands inside every lab guest through executorFor(): argv must arrive verbatim, stdin works,
// exit codes come back, and a timed-out command leaves no process behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../src/core/backends';
import { Backend, Guest } from '../../src/core/model';
import { executorFor, GuestExecAborted, GuestExecutor } from '../../src/core/guest/exec';

const CASES: Array<{ conn: Parameters<typeof createBackend>[0]; name: string }> = [
  { conn: { id: 'q', type: 'libvirt', uri: 'qemu:///system' }, name: 'labvm' },
  { conn: { id: 'l', type: 'libvirt', uri: 'lxc:///system' }, name: 'labvlxc' },
  { conn: { id: 't', type: 'lxc' }, name: 'labct' },
  { conn: { id: 'd', type: 'docker', socketPath: '/run/podman/podman.sock' }, name: 'labpod' },
];

const HOSTILE = ['it\'s "quoted"', 'a;b', '$(touch /tmp/virtscope-pwned)', '`id`', '*', ' lead and trail ', '\\n', ''];

const backends: Backend[] = [];
const executors = new Map<string, GuestExecutor>();

before(async () => {
  for (const c of CASES) {
    const b = createBackend(c.conn);
    await b.connect();
    backends.push(b);
    const g = (await b.list()).find((x: Guest) => x.name === c.name);
    assert.ok(g, `lab guest ${c.name} not found: is the lab up (bash scripts/lab.sh up)?`);
    executors.set(c.name, executorFor(b, g));
  }
});
after(async () => {
  for (const b of backends) await b.close();
});

for (const c of CASES) {
  test(`exec in ${c.name}: argv verbatim, stdin, exit code`, async () => {
    const ex = executors.get(c.name)!;
    const r = await ex.exec(['printf', '%s\\n', ...HOSTILE], { timeoutMs: 20_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, -1), HOSTILE);
    const cat = await ex.exec(['cat'], { stdin: 'line 1\n$(x) ; "y"\n', timeoutMs: 20_000 });
    assert.equal(cat.stdout, 'line 1\n$(x) ; "y"\n');
    const f = await ex.exec(['sh', '-c', 'echo err >&2; exit 7'], { timeoutMs: 20_000 });
    assert.equal(f.exitCode, 7);
    assert.equal(f.stderr.trim(), 'err');
    const ls = await ex.exec(['ls', '/tmp/virtscope-pwned'], { timeoutMs: 20_000 });
    assert.notEqual(ls.exitCode, 0, 'the $(…) argument must not have been run by a shell');
  });

  test(`exec in ${c.name}: timeout kills the guest process tree`, async () => {
    const ex = executors.get(c.name)!;
    const marker = `virtscope-exec-${process.pid}-${c.name}`;
    // sh with a child sleep: both must be gone after the timeout (the marker is in sh's argv)
    await assert.rejects(ex.exec(['sh', '-c', 'sleep 30; true', marker], { timeoutMs: 1200 }), GuestExecAborted);
    const ps = await ex.exec(['ps', '-o', 'pid,args'], { timeoutMs: 20_000 }).catch(() => ex.exec(['ps'], { timeoutMs: 20_000 }));
    assert.ok(!ps.stdout.includes(marker), `left behind in ${c.name}:\n${ps.stdout}`);
    assert.ok(!/sleep 30/.test(ps.stdout), `sleep left behind in ${c.name}:\n${ps.stdout}`);
  });
}
