// The install path of both README commands: nested npm runs see none of the npm_config_* variables
// that `npm test` / `npm start` export to their script (a user agent naming Node 20 made code-server's
// postinstall refuse; loglevel=silent under `npm --silent` hid its error), but keep where packages
// come from; and no script in the install path silences a step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function cleanEnv(env: Record<string, string>): Map<string, string> {
  const out = execFileSync('bash', ['-c', 'source scripts/lib/npm-env.sh && npm_clean env'], {
    env: { PATH: `/work/x/node_modules/.bin:/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin:${process.env.PATH}`, ...env },
    encoding: 'utf8',
  });
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

test("npm_clean drops npm's own variables and our node_modules/.bin, keeps the registry and cache", () => {
  const env = cleanEnv({
    npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64',
    npm_config_loglevel: 'silent',
    npm_lifecycle_event: 'test',
    npm_package_name: 'virtscope',
    INIT_CWD: '/work/main',
    NODE: '/usr/bin/node',
    npm_config_registry: 'http://127.0.0.1:4873/',
    npm_config_cache: '/tmp/cache',
    HOME: '/root',
  });
  for (const k of ['npm_config_user_agent', 'npm_config_loglevel', 'npm_lifecycle_event', 'npm_package_name', 'INIT_CWD', 'NODE']) {
    assert.equal(env.get(k), undefined, `${k} is passed on`);
  }
  assert.equal(env.get('npm_config_registry'), 'http://127.0.0.1:4873/');
  assert.equal(env.get('npm_config_cache'), '/tmp/cache');
  assert.equal(env.get('HOME'), '/root');
  assert.doesNotMatch(env.get('PATH') ?? '', /node_modules\/\.bin|node-gyp-bin/);
  assert.match(env.get('PATH') ?? '', /\/usr\/bin/);
});

test('no install step is silenced: no --silent, -qq or output thrown away in the install path', () => {
  for (const f of ['.ci/run', 'scripts/test.sh', 'scripts/start.sh', 'scripts/install-e2e.sh', 'scripts/bench.sh']) {
    const text = readFileSync(f, 'utf8');
    for (const line of text.split('\n')) {
      if (/^\s*#/.test(line) || !/\b(npm (ci|install)|apt-get install|install-e2e\.sh|lab\.sh deps)\b/.test(line)) continue;
      assert.doesNotMatch(line, /--silent|\s-qq\b|>\s*\/dev\/null|&>\s*\/dev\/null/, `${f}: ${line.trim()}`);
    }
  }
  assert.doesNotMatch(readFileSync('.ci/run', 'utf8'), /--silent/);
});
