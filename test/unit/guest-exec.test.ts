// The guest executors: each backend's command building, and the host side of every executor going
// through the backend's Host (so a remote host runs them unchanged). Real processes on this machine
// where the point is that something dies; a scripted Host where the point is what is asked of it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { exitCodeOf, GuestExecAborted, hostExecutorOn, killTreeArgv } from '../../src/core/guest/exec';
import { agentMissingHint, guestExecCommand, parseGuestExecStatus } from '../../src/core/backends/libvirt/qemuAgentExec';
import { libvirtLxcInitPid, NsenterExecutor } from '../../src/core/backends/libvirt/nsenterExec';
import { LxcAttachExecutor, lxcAttachArgs } from '../../src/core/backends/lxc/attachExec';
import { Host, HostDirent, HostRunError, HostRunOptions } from '../../src/core/host/host';
import { descendantsOf, localHost, statPpid } from '../../src/core/host/local';
import { Guest } from '../../src/core/model';

test('guest-exec command: path + arg array, PATH env, stdin as base64', () => {
  const c = JSON.parse(guestExecCommand(['fio', '--name=a b', '$(x);"'], 'in\n'));
  assert.equal(c.execute, 'guest-exec');
  assert.equal(c.arguments.path, 'fio');
  assert.deepEqual(c.arguments.arg, ['--name=a b', '$(x);"']);
  assert.equal(c.arguments['capture-output'], true);
  assert.equal(Buffer.from(c.arguments['input-data'], 'base64').toString(), 'in\n');
  assert.match(c.arguments.env[0], /^PATH=/);
  assert.equal(JSON.parse(guestExecCommand(['true'])).arguments['input-data'], undefined);
  assert.throws(() => guestExecCommand([]));
});

test('guest-exec-status parsing', () => {
  const s = parseGuestExecStatus(
    JSON.stringify({ return: { exited: true, exitcode: 3, 'out-data': Buffer.from('o').toString('base64'), 'err-data': Buffer.from('e').toString('base64') } }),
  );
  assert.deepEqual(s, { exited: true, exitCode: 3, signal: undefined, stdout: 'o', stderr: 'e', truncated: false });
  assert.equal(parseGuestExecStatus('{"return":{"exited":false}}').exited, false);
  assert.equal(exitCodeOf(undefined, 9), 137);
  assert.equal(exitCodeOf(0, 9), 0);
  assert.throws(() => parseGuestExecStatus('{"error":{}}'));
});

test("process tree helpers (the host layer's)", () => {
  assert.equal(statPpid('123 (a) b) c) S 77 123 123 0'), 77);
  const m = new Map([
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 1],
    [6, 99],
  ]);
  assert.deepEqual(descendantsOf(2, m).sort(), [3, 4]);
  assert.deepEqual(descendantsOf(1, m).sort(), [2, 3, 4, 5]);
});

test('lxc-attach args: clear env, PATH, argv after --', () => {
  assert.deepEqual(lxcAttachArgs('ct', undefined, ['a', 'b c']).slice(-3), ['--', 'a', 'b c']);
  assert.deepEqual(lxcAttachArgs('ct', '/srv/lxc', ['x']).slice(0, 4), ['-n', 'ct', '-P', '/srv/lxc']);
  assert.ok(lxcAttachArgs('ct', undefined, ['x']).includes('--clear-env'));
  assert.match(agentMissingHint('vm1'), /qemu-guest-agent.*org\.qemu\.guest_agent\.0/s);
});

// ---- the host side, through a Host ------------------------------------------------------------

interface Ran {
  argv: string[];
  opts?: HostRunOptions;
}

/** A host whose files and one program's answer are scripted; records what was run on it. */
function scriptedHost(
  files: Record<string, string>,
  dirs: Record<string, string[]> = {},
  answer: () => Promise<{ exitCode: number; stdout: string; stderr: string }> = async () => ({ exitCode: 0, stdout: 'ok', stderr: '' }),
) {
  const ran: Ran[] = [];
  const missing = (p: string) => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  const host = {
    ...localHost,
    label: 'kvm1',
    readFile: async (p: string) => {
      if (p in files) return files[p];
      throw missing(p);
    },
    readdir: async (p: string): Promise<HostDirent[]> => {
      if (p in dirs) return dirs[p].map((name) => ({ name, type: 'directory' as const }));
      throw missing(p);
    },
    readlink: async (p: string) => {
      if (p in files) return files[p];
      throw missing(p);
    },
    run: async (argv: readonly string[], opts?: HostRunOptions) => {
      ran.push({ argv: [...argv], opts });
      return answer();
    },
  } as unknown as Host;
  return { host, ran };
}

const guest = (kind: Guest['kind'], name: string): Guest => ({ id: `id-${name}`, name, kind, state: 'running', rawState: 'running' });

/** What a libvirt-LXC domain leaves on its host: controller 500, its child init 501 in another pid namespace. */
const LIBVIRT_LXC_FILES = {
  '/run/libvirt/lxc/ct1.pid': '500\n',
  '/proc/500/task/500/children': '501 ',
  '/proc/500/ns/pid': 'pid:[1]',
  '/proc/501/ns/pid': 'pid:[2]',
  '/proc/self/mountinfo': '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n',
  '/proc/501/cgroup': '4:memory:/machine/ct1\n0::/\n',
};

test("libvirt-LXC init: the controller's child in another pid namespace, read on the domain's host", async () => {
  const { host } = scriptedHost(LIBVIRT_LXC_FILES, { '/proc/500/task': ['500'] });
  assert.equal(await libvirtLxcInitPid(host, 'ct1'), 501);
  await assert.rejects(libvirtLxcInitPid(host, 'gone'), (e: Error & { hint?: string }) => {
    assert.match(e.message, /"gone" has no controller pid file in \/run\/libvirt\/lxc on kvm1/);
    assert.match(e.hint ?? '', /running on this host/);
    return true;
  });
  await assert.rejects(libvirtLxcInitPid(host, '../x'), /invalid domain name/);
});

test("nsenter executor: runs on the domain's host, in its cgroups, argv verbatim after --", async () => {
  const { host, ran } = scriptedHost(LIBVIRT_LXC_FILES, { '/proc/500/task': ['500'] });
  const r = await new NsenterExecutor(host, guest('libvirt-lxc', 'ct1')).exec(['printf', '%s', '$(x)'], { stdin: 'in', timeoutMs: 5000 });
  assert.deepEqual(r, { exitCode: 0, stdout: 'ok', stderr: '' });
  const { argv, opts } = ran[0];
  assert.equal(argv[0], '/bin/sh');
  assert.deepEqual(argv.slice(3, 6), ['sh', '1', '/sys/fs/cgroup/memory/machine/ct1/cgroup.procs']);
  assert.deepEqual(argv.slice(6), ['nsenter', '--target', '501', '--all', '--root', '--wd', '--', 'printf', '%s', '$(x)']);
  assert.equal(opts?.stdin, 'in');
  assert.equal(opts?.timeoutMs, 5000);
  assert.match(opts?.env?.PATH ?? '', /\/usr\/bin/);
});

test("lxc-attach executor: runs on the container's host; the host's timeout is the guest command's", async () => {
  const { host, ran } = scriptedHost({}, {}, async () => {
    throw new HostRunError(['lxc-attach'], 'kvm1', 'timeout', '1 s');
  });
  const ex = new LxcAttachExecutor(host, guest('lxc', 'ct2'), '/srv/lxc');
  await assert.rejects(ex.exec(['sleep', '9'], { timeoutMs: 1000 }), (e: Error) => {
    assert.ok(e instanceof GuestExecAborted, String(e));
    assert.equal(e.message, 'sleep in ct2 timed out after 1 s and was killed');
    return true;
  });
  assert.deepEqual(ran[0].argv, ['lxc-attach', '-n', 'ct2', '-P', '/srv/lxc', '--clear-env', '--set-var', ran[0].argv[7], '--', 'sleep', '9']);
});

// ---- real processes on this machine -------------------------------------------------------------

const started: number[] = [];
after(() => started.forEach((p) => killQuietly(p)));

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live descendants of `pid` on this machine. */
async function liveDescendants(pid: number): Promise<number[]> {
  const m = new Map<number, number>();
  for (const e of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pp = statPpid(await fsp.readFile(`/proc/${e}/stat`, 'utf8').catch(() => ''));
    if (pp !== undefined) m.set(+e, pp);
  }
  return descendantsOf(pid, m);
}

async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the kill-tree script kills a process and every descendant, through a Host', { timeout: 15_000 }, async () => {
  // a shell with a background child and a foreground child, each a sleep
  const root = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30; wait'], { stdio: 'ignore', detached: true });
  started.push(root.pid!);
  const exited = new Promise((r) => root.on('exit', r));
  await until(async () => (await liveDescendants(root.pid!)).length === 2, 5000, 'both sleeps started');
  const kids = await liveDescendants(root.pid!);
  started.push(...kids);
  const r = await localHost.run(killTreeArgv(root.pid!), { timeoutMs: 10_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  await exited;
  await until(() => kids.every((k) => !alive(k) || isZombie(k)), 5000, 'the sleeps are gone');
  assert.throws(() => killTreeArgv(1), /refusing/);
  assert.throws(() => killTreeArgv(NaN), /refusing/);
});

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

test('a host program that outlives its timeout is killed with its children (GuestExecAborted)', { timeout: 15_000 }, async () => {
  const ex = hostExecutorOn(localHost);
  const marker = `virtscope-exec-test-${process.pid}`;
  const t0 = Date.now();
  await assert.rejects(ex.exec(['/bin/sh', '-c', 'sleep 30; true', marker], { timeoutMs: 300 }), (e: Error) => {
    assert.ok(e instanceof GuestExecAborted, String(e));
    assert.equal((e as GuestExecAborted).reason, 'timeout');
    return true;
  });
  assert.ok(Date.now() - t0 < 5000);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(ex.exec(['sleep', '30'], { signal: ac.signal }), { name: 'GuestExecAborted', reason: 'cancelled' });
  const left = (await liveDescendants(process.pid)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  });
  assert.deepEqual(left, []);
  assert.deepEqual(await ex.exec(['cat'], { stdin: 'a\n$(b)\n' }), { exitCode: 0, stdout: 'a\n$(b)\n', stderr: '' });
});
