// Open Shell's pieces on this machine, with real programs: the shell pick (a fixed script, the
// names as arguments), the pty made by util-linux `script` on a Host (a real TTY, its size set and
// followed with stty), the command string quoted by quote.ts only, and hostile names going through
// as single arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { localHost } from '../../src/core/host/local';
import { hostPtyProcess, pickShellArgv, PICK_SHELL, scriptArgv, takeTtyLine } from '../../src/core/console/shell';
import { remoteCommand } from '../../src/core/host/quote';
import { ShellSession } from '../../src/core/console/shellSession';
import type { GuestShell } from '../../src/core/console/types';
import { shellCandidates } from '../../src/core/settings';

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the shell pick: the first candidate that exists runs as a login shell; a missing first choice is said', () => {
  const run = (shells: string[]) =>
    execFileSync(pickShellArgv(shells)[0], pickShellArgv(shells).slice(1), { input: 'echo "shell=$0"\n', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  assert.match(run(['sh']), /shell=-?sh/);
  const both = spawnSync('/bin/sh', ['-c', PICK_SHELL, 'sh', '1', 'virtscope-no-such-shell', 'sh'], { input: 'echo "shell=$0"\n', encoding: 'utf8' });
  assert.match(both.stderr, /virtscope: virtscope-no-such-shell is not in this guest, starting sh/);
  assert.match(both.stdout, /shell=-?sh/);
  // the default order (bash, then sh) is not the user's choice: no word about a missing bash
  const quiet = spawnSync('/bin/sh', ['-c', PICK_SHELL, 'sh', '0', 'virtscope-no-such-shell', 'sh'], { input: 'echo "shell=$0"\n', encoding: 'utf8' });
  assert.equal(quiet.stderr, '');
  assert.match(quiet.stdout, /shell=-?sh/);
  assert.throws(
    () => execFileSync('/bin/sh', ['-c', PICK_SHELL, 'sh', '0', 'nope-1', 'nope-2'], { stdio: 'pipe' }),
    (e: { status?: number; stderr?: Buffer }) => e.status === 127 && /none of nope-1 nope-2/.test(String(e.stderr)),
  );
});

test("the script command string is quote.ts's, and a hostile name stays one argument", () => {
  const hostile = `x'; touch /tmp/virtscope-pwned; echo '`;
  const argv = scriptArgv(['lxc-attach', '-n', hostile], 100, 30);
  assert.deepEqual(argv.slice(0, 4), ['env', 'SHELL=/bin/sh', 'script', '-qfec']);
  assert.equal(argv[5], '/dev/null');
  assert.ok(argv[4].endsWith(remoteCommand(['lxc-attach', '-n', hostile])));
  // what /bin/sh makes of the string: the same argv, byte for byte
  const parsed = execFileSync(
    '/bin/sh',
    [
      '-c',
      `set -- ${argv[4].slice(argv[4].indexOf("'lxc-attach'") >= 0 ? argv[4].indexOf("'lxc-attach'") : argv[4].indexOf('lxc-attach'))}; printf '%s\\0' "$@"`,
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(parsed.split('\0').slice(0, -1), ['lxc-attach', '-n', hostile]);
});

test('the pty line: parsed and hidden, partial lines wait, other output passes', () => {
  assert.deepEqual(takeTtyLine('virtscope-tty:/dev/pts/7\r\n$ '), { tty: '/dev/pts/7', rest: '$ ' });
  assert.equal(takeTtyLine('virtscope-t'), undefined);
  assert.equal(takeTtyLine('virtscope-tty:/dev/pts/1'), undefined);
  assert.deepEqual(takeTtyLine('lxc-attach: failed\r\n'), { rest: 'lxc-attach: failed\r\n' });
});

test('a program under script on this machine has a real TTY of the asked size, and follows a resize', async () => {
  const proc = hostPtyProcess(localHost, ['/bin/sh'], 100, 30);
  let out = '';
  proc.output.on('data', (d: Buffer) => (out += d.toString('utf8')));
  try {
    proc.write('stty size; tty -s && echo IS-A-TTY\n');
    await waitFor(() => /30 100/.test(out) && out.includes('IS-A-TTY'), 'size 30x100 and a tty');
    assert.ok(!out.includes('virtscope-tty:'), 'the pty line is not shown');
    await proc.resize(120, 40);
    proc.write('stty size\n');
    await waitFor(() => /40 120/.test(out), 'the new size');
    proc.write('exit 3\n');
    assert.deepEqual(await proc.exited, { code: 3 });
  } finally {
    await proc.kill();
  }
});

test('ShellSession: output, resize before the shell is up, exit code; close kills the shell', async () => {
  const shell: GuestShell = { description: 'local', open: async (o) => hostPtyProcess(localHost, ['/bin/sh'], o.cols, o.rows) };
  const s = new ShellSession('here', shell, ['sh']);
  let out = '';
  s.on('data', (d) => (out += d.toString('utf8')));
  const exit = new Promise<{ code?: number; reason?: string }>((resolve) => s.on('exit', resolve));
  await s.start(90, 20);
  s.resize(91, 21);
  s.write('sleep 0.3; stty size\n');
  await waitFor(() => /21 91/.test(out), `the resized size in ${JSON.stringify(out)}`);
  s.write('exit 0\n');
  const e = await exit;
  assert.equal(e.code, 0);
  assert.match(e.reason ?? '', /the shell in "here" ended \(exit code 0\)/);

  const s2 = new ShellSession('here', shell, ['sh']);
  await s2.start(80, 24);
  const closed = new Promise<{ reason?: string }>((resolve) => s2.on('exit', resolve));
  await s2.close();
  assert.equal((await closed).reason, undefined, 'closed by the user: no reason');
});

test("virtscope.shell: tried first and marked as the user's choice; bash, then sh otherwise", () => {
  assert.deepEqual(
    shellCandidates(() => undefined),
    { shells: ['bash', 'sh'], chosen: false },
  );
  assert.deepEqual(
    shellCandidates(() => '  zsh '),
    { shells: ['zsh', 'bash', 'sh'], chosen: true },
  );
  assert.deepEqual(
    shellCandidates(() => 'sh'),
    { shells: ['sh', 'bash'], chosen: true },
  );
  assert.deepEqual(
    shellCandidates(() => 42),
    { shells: ['bash', 'sh'], chosen: false },
  );
});
