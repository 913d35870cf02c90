import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  descendants,
  exitCodeOf,
  guestExecCommand,
  lxcAttachArgs,
  parseGuestExecStatus,
  parseStatPpid,
  agentMissingHint,
} from '../../src/core/guest/exec';

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

test('process tree helpers', () => {
  assert.equal(parseStatPpid('123 (a) b) c) S 77 123 123 0'), 77);
  const m = new Map([
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 1],
    [6, 99],
  ]);
  assert.deepEqual(descendants(2, m).sort(), [3, 4]);
  assert.deepEqual(descendants(1, m).sort(), [2, 3, 4, 5]);
});

test('lxc-attach args: clear env, PATH, argv after --', () => {
  assert.deepEqual(lxcAttachArgs('ct', undefined, ['a', 'b c']).slice(-3), ['--', 'a', 'b c']);
  assert.deepEqual(lxcAttachArgs('ct', '/srv/lxc', ['x']).slice(0, 4), ['-n', 'ct', '-P', '/srv/lxc']);
  assert.ok(lxcAttachArgs('ct', undefined, ['x']).includes('--clear-env'));
  assert.match(agentMissingHint('vm1'), /qemu-guest-agent.*org\.qemu\.guest_agent\.0/s);
});
