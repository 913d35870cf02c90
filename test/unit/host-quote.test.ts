// The one function that builds a command line for the remote shell: every hostile string reaches the
// program intact and nothing in it runs (a marker file must never appear).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { quoteArg, remoteCommand } from '../../src/core/host/quote';

function hostile(marker: string): string[] {
  return [
    'plain',
    'two words',
    '',
    "it's",
    "''",
    '"double"',
    `; touch ${marker}`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `a\ntouch ${marker}\n`,
    `|| touch ${marker}`,
    `& touch ${marker} &`,
    `> ${marker}`,
    '$HOME ${PATH} $1 $@ $$ \\',
    '*',
    '~',
    '-n',
    '--help',
    '-e \\n',
    'tab\there',
    'ünïcödé ✓ 日本',
    "'\\''",
    '!event #comment',
    '{a,b}',
  ];
}

/** Runs printf '%s\0' through `shell -c` with the quoted argv, as sshd hands the command to the login shell. */
function roundTrip(shell: string, args: string[], cwd: string): string[] {
  const line = remoteCommand(['printf', '%s\\0', ...args]);
  const out = execFileSync(shell, ['-c', line], { cwd, encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

for (const shell of ['sh', 'bash', 'dash', 'busybox']) {
  const exe = shell === 'busybox' ? ['busybox', 'sh'] : [shell];
  test(`remoteCommand: hostile strings reach the program intact through ${exe.join(' ')} -c, nothing runs`, (t) => {
    try {
      execFileSync(exe[0], [...exe.slice(1), '-c', 'true']);
    } catch {
      return t.skip(`${shell} not installed`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-quote-'));
    try {
      const marker = path.join(dir, 'PWNED');
      const args = hostile(marker);
      const line = remoteCommand(['printf', '%s\\0', ...args]);
      const out = execFileSync(exe[0], [...exe.slice(1), '-c', line], { cwd: dir, encoding: 'utf8' });
      assert.deepEqual(out.split('\0').slice(0, -1), args);
      assert.equal(fs.existsSync(marker), false, 'the marker file appeared: something ran');
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('remoteCommand: the argv as one string joined like ssh joins its arguments', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-quote-'));
  try {
    // ssh sends "a b c" for `ssh host a b c`: our single string must survive being the only one
    assert.deepEqual(roundTrip('sh', ['a b', 'c'], dir), ['a b', 'c']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('quoteArg: safe words stay readable, everything else single-quoted', () => {
  assert.equal(quoteArg('virsh'), 'virsh');
  assert.equal(quoteArg('/run/libvirt/libvirt-sock'), '/run/libvirt/libvirt-sock');
  assert.equal(quoteArg('qemu:///system'), 'qemu:///system');
  assert.equal(quoteArg(''), "''");
  assert.equal(quoteArg('a b'), "'a b'");
  assert.equal(quoteArg("it's"), "'it'\\''s'");
  assert.equal(quoteArg('~'), "'~'");
  assert.equal(quoteArg('a=b*'), "'a=b*'");
});

test('quoteArg: a NUL byte cannot be passed to a program and is refused, not cut', () => {
  assert.throws(() => quoteArg('a\0b'), /NUL/);
  assert.throws(() => remoteCommand([]), /empty/);
});
