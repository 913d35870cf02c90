// The settings virtscope reads: declared in package.json, defaults from one source, clamps in one place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONNECTIONS } from '../../src/core/config';
import * as s from '../../src/core/settings';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
const declared: Record<string, { default?: unknown }> = pkg.contributes.configuration.properties;

/** A getter over a plain object that records every key asked for. */
function getter(values: Record<string, unknown> = {}) {
  const asked = new Set<string>();
  const get: s.SettingGetter = (k) => (asked.add(k), values[k]);
  return { get, asked };
}

function readAll(get: s.SettingGetter): void {
  s.connectionsSetting(get);
  s.hostsSetting(get);
  s.sshConfigFile(get, '/root');
  s.hostNetworkNamespace(get);
  s.benchmarkSettings(get);
  s.traceDetail(get);
  s.metricsIntervalMs(get);
  s.lxcPollMs(get);
}

test('package.json: the default connections are core/config.ts DEFAULT_CONNECTIONS', () => {
  assert.deepEqual(declared['virtscope.connections'].default, DEFAULT_CONNECTIONS);
});

test('every setting read is declared in package.json (no hidden settings)', () => {
  const { get, asked } = getter();
  readAll(get);
  for (const k of asked) assert.ok(declared[`virtscope.${k}`], `virtscope.${k} is read but not declared in package.json`);
});

test('every change section names declared settings', () => {
  for (const sec of s.SETTING_SECTIONS)
    assert.ok(
      Object.keys(declared).some((k) => k === `virtscope.${sec}` || k.startsWith(`virtscope.${sec}.`)),
      sec,
    );
});

test('defaults equal package.json defaults when nothing is set', () => {
  const { get } = getter();
  const b = s.benchmarkSettings(get);
  assert.equal(b.seconds, declared['virtscope.benchmark.seconds'].default);
  assert.equal(b.diskSizeMiB, declared['virtscope.benchmark.diskSizeMiB'].default);
  assert.equal(b.allowRawDeviceWrites, declared['virtscope.benchmark.allowRawDeviceWrites'].default);
  assert.deepEqual(b.diskPaths, declared['virtscope.benchmark.diskPaths'].default);
  assert.equal(s.traceDetail(get), declared['virtscope.trace.detail'].default);
  assert.equal(s.metricsIntervalMs(get), (declared['virtscope.metrics.intervalSeconds'].default as number) * 1000);
  assert.equal(s.lxcPollMs(get), (declared['virtscope.lxc.pollIntervalSeconds'].default as number) * 1000);
  assert.equal(s.hostNetworkNamespace(get), undefined);
  assert.equal(s.connectionsSetting(get).connections.length, DEFAULT_CONNECTIONS.length);
});

test('clamps: the package.json minimums; wrong types fall back to the default', () => {
  const { get } = getter({
    'benchmark.seconds': 0,
    'benchmark.diskSizeMiB': 1,
    'benchmark.diskPaths': { labvm: ' /dev/vda ', bad: 7 },
    'benchmark.allowRawDeviceWrites': 'yes',
    'trace.detail': 'everything',
    'metrics.intervalSeconds': 0.01,
    'lxc.pollIntervalSeconds': 'often',
    hostNetworkNamespace: '  virtscope-lab ',
  });
  const b = s.benchmarkSettings(get);
  assert.equal(b.seconds, 1);
  assert.equal(b.diskSizeMiB, 4);
  assert.deepEqual(b.diskPaths, { labvm: '/dev/vda' });
  assert.equal(b.allowRawDeviceWrites, false);
  assert.equal(s.traceDetail(get), 'kick-path');
  assert.equal(s.metricsIntervalMs(get), 250);
  assert.equal(s.lxcPollMs(get), 1000);
  assert.equal(s.hostNetworkNamespace(get), 'virtscope-lab');
  for (const [k, min] of [
    ['benchmark.seconds', 1],
    ['benchmark.diskSizeMiB', 4],
    ['metrics.intervalSeconds', 0.25],
    ['lxc.pollIntervalSeconds', 0.25],
  ] as const) {
    assert.equal((declared[`virtscope.${k}`] as { minimum?: number }).minimum, min, `${k}: the clamp is package.json's minimum`);
  }
});

test("virtscope.ssh.configFile: empty is ssh's own; ~/ is the home; other paths as given", () => {
  assert.equal(s.sshConfigFile(getter().get, '/home/u'), undefined);
  assert.equal(s.sshConfigFile(getter({ 'ssh.configFile': '  ' }).get, '/home/u'), undefined);
  assert.equal(s.sshConfigFile(getter({ 'ssh.configFile': '~/.ssh/lab' }).get, '/home/u'), '/home/u/.ssh/lab');
  assert.equal(s.sshConfigFile(getter({ 'ssh.configFile': '/etc/ssh/lab_config' }).get, '/home/u'), '/etc/ssh/lab_config');
});
