// SshHost against the lab's second host (scripts/lab/ssh-host.sh: its own netns, sshd, libvirtd),
// reached only over SSH. Brings the second host up if it is not, and takes it down again then.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { HostRunError } from '../../src/core/host/host';
import { SshHost, SshUnreachableError } from '../../src/core/host/ssh';
import { processStream } from '../../src/core/host/stream';
import { LibvirtClient } from '../../src/core/libvirt/client';

const LAB = path.join(__dirname, '../../scripts/lab/ssh-host.sh');
const lab = (...args: string[]) => execFileSync('bash', [LAB, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const env: Record<string, string> = {};
let broughtUp = false;
let host: SshHost;
let scratch: string;
const figures: string[] = [];

before(() => {
  if (lab('status').trim().split('\n').pop() !== 'sshhost: up') {
    lab('up');
    broughtUp = true;
  }
  for (const l of lab('env').split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-sshtest-'));
  host = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, label: 'sshhost-lab' });
});

after(async () => {
  await host?.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
  if (figures.length) console.log(`# figures (second host over SSH):\n#   ${figures.join('\n#   ')}`);
  if (broughtUp) lab('down');
});

const ms = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('run: the first command starts the master; further ones are multiplexed over it', async () => {
  const [r, first] = await ms(() => host.run(['hostname']));
  assert.deepEqual(r, { exitCode: 0, stdout: 'sshhost\n', stderr: '' });
  const times: number[] = [];
  for (let i = 0; i < 10; i++) times.push((await ms(() => host.run(['true'])))[1]);
  figures.push(`first connection (master + hostname) ${first.toFixed(0)} ms; multiplexed run(['true']) median ${median(times).toFixed(1)} ms`);
  // the remote is another host, not this one
  assert.notEqual(r.stdout.trim(), os.hostname());
});

test('run: sshd allows fewer sessions than configured: channels wait for the master, none logs in on its own', async () => {
  const dir = path.join(scratch, 'ctl-over');
  const h = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, controlDir: dir, maxSessions: 50 });
  const before = sshdLogins();
  try {
    const rs = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => h.run(['sh', '-c', `cat; sleep 0.3; echo ${i}`], { stdin: `in${i} ` })));
    assert.deepEqual(
      rs.map((r) => (r.status === 'fulfilled' ? r.value.stdout : String(r.reason))),
      Array.from({ length: 30 }, (_, i) => `in${i} ${i}\n`),
    );
    assert.equal(sshdLogins() - before, 1, "connections authenticated by the second host's sshd");
  } finally {
    await h.dispose();
  }
});

/** Local ssh processes that are masters on this control directory. */
function masters(dir: string): number {
  let n = 0;
  for (const p of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const cmd = (() => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })();
    if (cmd.includes('ControlMaster=yes') && cmd.some((a) => a.startsWith(dir))) n++;
  }
  return n;
}

/** Connections the second host's sshd has accepted so far (its log). */
const sshdLogins = () => (fs.readFileSync(path.join(env.SSHHOST_STATE, 'root/var-log/sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;

test('run: 30 callers at once on a new host: one master, and all run although sshd allows 10 sessions per connection', async () => {
  const dir = path.join(scratch, 'ctl-many');
  const h = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, controlDir: dir });
  const before = sshdLogins();
  try {
    const rs = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => h.run(['sh', '-c', `sleep 0.3; echo ${i}`])));
    const failed = rs.filter((r) => r.status === 'rejected' || r.value.exitCode !== 0);
    assert.deepEqual(
      failed.map((r) => (r.status === 'rejected' ? String(r.reason) : r.value.stderr)),
      [],
    );
    assert.deepEqual(
      rs.map((r) => (r.status === 'fulfilled' ? r.value.stdout : '')),
      Array.from({ length: 30 }, (_, i) => `${i}\n`),
    );
    assert.equal(masters(dir), 1);
    // a channel sshd refuses makes ssh fall back, silently, to a connection of its own: none may
    assert.equal(sshdLogins() - before, 1, "connections authenticated by the second host's sshd");
  } finally {
    await h.dispose();
  }
});

test('run: hostile argv reaches the remote program intact and nothing in it runs on either machine', async () => {
  const marker = `/tmp/vs-pwned-${randomBytes(4).toString('hex')}`;
  const args = [
    'two words',
    '',
    "it's",
    '"dq"',
    `; touch ${marker}`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `a\ntouch ${marker}`,
    `|| touch ${marker}`,
    '$HOME *',
    '~',
    '-n',
    'ünïcödé ✓',
    '--',
  ];
  const r = await host.run(['printf', '%s\\0', ...args]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), args);
  assert.equal(await host.exists(marker), false, 'marker appeared on the remote host');
  assert.equal(fs.existsSync(marker), false, 'marker appeared on this machine');
});

test('run: exit codes, stderr, stdin and env reach the caller; a missing program is named with the host', async () => {
  assert.deepEqual(await host.run(['sh', '-c', 'cat; echo err >&2; exit 3'], { stdin: 'in\n' }), { exitCode: 3, stdout: 'in\n', stderr: 'err\n' });
  assert.equal((await host.run(['sh', '-c', 'echo "$VS_T"'], { env: { ...process.env, VS_T: 'a b' } })).stdout, 'a b\n');
  assert.equal((await host.run(['sh', '-c', 'kill -TERM $$'])).exitCode, 143);
  const e = await host.run(['no-such-program-vs']).catch((x) => x);
  assert.ok(e instanceof HostRunError && e.notFound, String(e));
  assert.match(e.message, /no-such-program-vs is not installed or not on PATH on sshhost-lab/);
});

test("run: what the login shell prints before the program is not taken for the program's stderr", async () => {
  const rc = '/root/.bashrc';
  const old = await host.readFile(rc).catch(() => undefined);
  await host.writeFile(rc, `echo login-noise >&2\n${old ?? ''}`);
  try {
    assert.deepEqual(await host.run(['sh', '-c', 'echo prog >&2; sleep 0.3']), { exitCode: 0, stdout: '', stderr: 'prog\n' });
    // and kill() still finds the remote process group
    const p = host.spawn(['sleep', '3013']);
    await new Promise((r) => setTimeout(r, 400));
    await p.kill();
    assert.equal(await remoteCount('^sleep 3013$'), '0');
  } finally {
    if (old === undefined) await host.rm(rc, { force: true });
    else await host.writeFile(rc, old);
  }
});

const remoteCount = async (pattern: string) => (await host.run(['pgrep', '-c', '-f', pattern])).stdout.trim();

test('spawn + kill: the remote process and its children are gone', async () => {
  const p = host.spawn(['sh', '-c', 'sleep 3011 & sleep 3011; wait']);
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await remoteCount('^sleep 3011$'), '2');
  await p.kill();
  assert.equal(p.done, true);
  assert.equal(await remoteCount('^sleep 3011$'), '0');
});

test('run: a timeout kills the remote process', async () => {
  const e = await host.run(['sleep', '3012'], { timeoutMs: 700 }).catch((x) => x);
  assert.ok(e instanceof HostRunError && e.reason === 'timeout', String(e));
  assert.equal(await remoteCount('^sleep 3012$'), '0');
});

test("spawn: a long-running reader streams lines; stderr is the program's own", async () => {
  const p = host.spawn(['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.05; done; echo bye >&2']);
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const exit = await p.exited;
  assert.deepEqual([exit.code, out, err], [0, 'line1\nline2\nline3\n', 'bye\n']);
});

test('files: write (plain and atomic), read, stat, readdir, readlink, rm on the remote host', async () => {
  const dir = await host.mkdtemp('vs-files-');
  try {
    const f = `${dir}/a file`;
    await host.writeFile(f, 'one\n', { mode: 0o600 });
    assert.equal(await host.readFile(f), 'one\n');
    let st = await host.stat(f);
    assert.ok(st && st.isFile && !st.isDirectory && st.size === 4 && (st.mode & 0o777) === 0o600, JSON.stringify(st));
    await host.writeFile(f, "two 'quoted' $(x)\n", { atomic: true });
    assert.equal(await host.readFile(f), "two 'quoted' $(x)\n");
    st = await host.stat(f);
    assert.equal(st!.mode & 0o777, 0o600, 'atomic write kept the mode');
    await host.writeFile(`${dir}/new`, 'n', { atomic: true, mode: 0o644 });
    assert.equal((await host.stat(`${dir}/new`))!.mode & 0o777, 0o644);
    await host.mkdir(`${dir}/sub\ndir/deeper`, { recursive: true });
    await host.run(['ln', '-s', 'a file', `${dir}/link`]);
    const names = (await host.readdir(dir)).map((e) => `${e.type}:${e.name}`).sort();
    assert.deepEqual(names, ['directory:sub\ndir', 'file:a file', 'file:new', 'symlink:link']);
    assert.equal(await host.readlink(`${dir}/link`), 'a file');
    assert.equal(await host.stat(`${dir}/missing`), undefined);
    const e = await host.readFile(`${dir}/missing`).catch((x) => x);
    assert.equal(e.code, 'ENOENT');
    assert.match(e.message, /cannot read .*missing on sshhost-lab: No such file or directory/);
  } finally {
    await host.rm(dir, { recursive: true, force: true });
  }
  assert.equal(await host.exists(dir), false);
});

test('connectUnix: the remote libvirtd through a forwarded socket; a libvirt call over it', async () => {
  const [stream, forwardMs] = await ms(() => host.connectUnix('/run/libvirt/libvirt-sock'));
  const client = new LibvirtClient(stream, { keepaliveIntervalMs: 0 });
  try {
    await client.authenticate();
    await client.connectOpen('qemu:///system');
    assert.equal(await client.getHostname(), 'sshhost');
    const times: number[] = [];
    let names: string[] = [];
    for (let i = 0; i < 10; i++) {
      const [doms, t] = await ms(() => client.listAllDomains());
      names = doms.map((d) => d.name);
      times.push(t);
    }
    assert.ok(names.includes('remotevm'), names.join(','));
    figures.push(
      `connectUnix (check + forward + connect) ${forwardMs.toFixed(0)} ms; listAllDomains over the forwarded socket median ${median(times).toFixed(1)} ms`,
    );
  } finally {
    await client.connectClose().catch(() => undefined);
    client.destroy();
  }
  // a second stream reuses the forward
  const [s2, again] = await ms(() => host.connectUnix('/run/libvirt/libvirt-sock'));
  s2.destroy();
  figures.push(`connectUnix again (forward kept) ${again.toFixed(1)} ms`);
});

test('connectUnix: LibvirtBackend lists the remote guests through a socket factory', async () => {
  const b = new LibvirtBackend(
    { id: 'remote-qemu', type: 'libvirt', uri: 'qemu:///system' },
    { openStream: (ep) => host.connectUnix(ep.socketPath), keepaliveIntervalMs: 0 },
  );
  try {
    const names = (await b.list()).map((g) => g.name);
    assert.ok(names.includes('remotevm'), names.join(','));
    assert.ok(!names.includes('labvm'), 'the local lab guest must not show on the second host');
  } finally {
    await b.close();
  }
});

test('virt-ssh-helper: the libvirt RPC stream over a channel, as qemu+ssh:// does it', async () => {
  const [client, openMs] = await ms(async () => {
    const c = new LibvirtClient(processStream(host, ['virt-ssh-helper', 'qemu:///system']), { keepaliveIntervalMs: 0 });
    await c.authenticate();
    await c.connectOpen('qemu:///system');
    return c;
  });
  try {
    const times: number[] = [];
    let names: string[] = [];
    for (let i = 0; i < 10; i++) {
      const [doms, t] = await ms(() => client.listAllDomains());
      names = doms.map((d) => d.name);
      times.push(t);
    }
    assert.ok(names.includes('remotevm'), names.join(','));
    figures.push(`virt-ssh-helper channel: open ${openMs.toFixed(0)} ms; listAllDomains median ${median(times).toFixed(1)} ms`);
  } finally {
    await client.connectClose().catch(() => undefined);
    client.destroy();
  }
});

test('processStream: a helper that is missing on the host closes the stream with a clear reason', async () => {
  const s = processStream(host, ['no-such-helper-vs', 'qemu:///system']);
  const e = await new Promise<Error>((resolve) => s.on('error', resolve));
  assert.match(e.message, /no-such-helper-vs is not installed or not on PATH on sshhost-lab/);
});

test('connectUnix: the remote Podman API answers through its own forward', async () => {
  const s = await host.connectUnix('/run/podman/podman.sock');
  const reply = await new Promise<string>((resolve, reject) => {
    let buf = '';
    s.on('data', (d) => (buf += d));
    s.on('end', () => resolve(buf));
    s.on('error', reject);
    s.write('GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 200 OK/);
  assert.match(reply, /\r\n\r\nOK$/);
});

test('connectUnix: a socket that is not there says so, with the host', async () => {
  await assert.rejects(host.connectUnix('/run/nothing/here.sock'), /cannot connect to \/run\/nothing\/here\.sock on sshhost-lab: no such socket/);
});

test("sshd down: a clear error with SSH's own reason and the host; back by itself when sshd is back", async () => {
  await host.run(['true']);
  // every sshd of the second host (its pid namespace holds only its own): the master's session ends too
  lab('exec', 'sh', '-c', 'kill $(pidof sshd)');
  try {
    const e = await waitForError(() => host.run(['true']));
    assert.ok(e instanceof SshUnreachableError, String(e));
    assert.match(e.message, /sshhost-lab/);
    assert.match(e.message, /Connection refused|closed by remote host|Connection reset/);
    const direct = await new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, controlDir: path.join(scratch, 'ctl-down') })
      .run(['true'])
      .catch((x) => x);
    assert.ok(direct instanceof SshUnreachableError);
    assert.match(direct.message, /true could not be started on sshhost-lab: ssh: connect to host 10\.81\.0\.2 port 22: Connection refused/);
  } finally {
    lab('sshd-start');
  }
  assert.deepEqual(await host.run(['echo', 'back']), { exitCode: 0, stdout: 'back\n', stderr: '' });
});

async function waitForError(f: () => Promise<unknown>): Promise<Error> {
  for (let i = 0; i < 40; i++) {
    const e = await f().then(
      () => undefined,
      (x: Error) => x,
    );
    if (e) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the host stayed reachable with sshd killed');
}

/** A host whose key this client has never seen: the lab's key and user, an empty known_hosts. */
function strangerHost(kh: string, askpass?: (r: { kind: string; prompt: string }) => Promise<string | undefined>) {
  fs.writeFileSync(kh, '');
  return new SshHost({
    destination: `root@${env.SSHHOST_ADDR}`,
    label: `root@${env.SSHHOST_ADDR}`,
    extraArgs: ['-i', env.SSHHOST_KEY, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null'],
    controlDir: path.join(scratch, `ctl-${path.basename(kh)}`),
    askpass,
  });
}

test("host key: an unknown key is refused without a prompt answer, with OpenSSH's message", async () => {
  const kh = path.join(scratch, 'kh-none');
  const h = strangerHost(kh);
  try {
    const e = await h.run(['true']).catch((x) => x);
    assert.ok(e instanceof SshUnreachableError, String(e));
    assert.match(e.message, /Host key verification failed/);
    assert.equal(fs.readFileSync(kh, 'utf8'), '', 'nothing was written to known_hosts');
  } finally {
    await h.dispose();
  }
});

test('host key: asked through the prompt; "no" refuses, "yes" connects and records the key', async () => {
  const asked: string[] = [];
  const kh1 = path.join(scratch, 'kh-no');
  const h1 = strangerHost(kh1, async (r) => (asked.push(r.kind), 'no'));
  try {
    await assert.rejects(h1.run(['true']), /Host key verification failed/);
  } finally {
    await h1.dispose();
  }
  const kh2 = path.join(scratch, 'kh-yes');
  const h2 = strangerHost(kh2, async (r) => (asked.push(r.kind), 'yes'));
  try {
    assert.equal((await h2.run(['hostname'])).stdout, 'sshhost\n');
    assert.match(fs.readFileSync(kh2, 'utf8'), / ssh-ed25519 AAAA/);
  } finally {
    await h2.dispose();
  }
  assert.deepEqual(asked, ['host-key', 'host-key']);
});

test('dispose: the master is closed and the private directory removed', async () => {
  const dir = path.join(scratch, 'ctl-dispose');
  const h = new SshHost({ destination: env.SSHHOST_ALIAS, configFile: env.SSHHOST_SSH_CONFIG, controlDir: dir });
  await h.run(['true']);
  assert.equal(
    fs.readdirSync(dir).some((f) => f.startsWith('m-') && !f.endsWith('.log')),
    true,
  );
  await h.dispose();
  assert.equal(
    fs.readdirSync(dir).some((f) => f.startsWith('m-') && !f.endsWith('.log')),
    false,
  );
  await assert.rejects(h.run(['true']), /closed/);
});
