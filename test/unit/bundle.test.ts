// The packaged extension is one bundle that loads no native addon (VS Code's extension host is
// another Node ABI), and src/core stays free of `vscode`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

test('production bundle: small, vscode external, no .node addon, no ssh2/gRPC', () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--production'], { stdio: 'pipe' });
  const js = readFileSync('dist/extension.js', 'utf8');
  const kib = statSync('dist/extension.js').size / 1024;
  assert.ok(kib < 1024, `bundle is ${kib.toFixed(0)} KiB`);
  assert.match(js, /require\("vscode"\)/);
  assert.doesNotMatch(js, /require\("[^"]+\.node"\)/);
  assert.doesNotMatch(js, /cpu-features|sshcrypto|@grpc\/grpc-js/);
});

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

test('src/core has no vscode import', () => {
  for (const f of files('src/core')) {
    assert.doesNotMatch(readFileSync(f, 'utf8'), /from ['"]vscode['"]|require\(['"]vscode['"]\)/, f);
  }
});
