// The packaged extension loads no native addon (VS Code's extension host is another Node ABI); its
// activation bundle leaves out what the first view does not need (those load on first use from their
// own files in dist/); src/core stays free of `vscode`.
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

/** What dist/extension.js requires from its own file on first use (scripts/build.mjs LAZY and FEATURES). */
const LAZY_FILES = ['dockerode.js', 'languageclient.js', 'trace.js', 'bench.js', 'metrics.js'];
const LAZY_MODULES =
  /node_modules\/(dockerode|docker-modem|vscode-languageclient|vscode-jsonrpc|vscode-languageserver-protocol)\/|^src\/(core\/(trace\/(engine|report)|bench\/(engine|suites|run)|metrics\/compare)|views\/metricsPanels)\.ts$/;
const inputs = (name: string) => Object.keys((JSON.parse(readFileSync(`dist/${name}.meta.json`, 'utf8')) as { inputs: object }).inputs);

test('activation bundle: no dockerode, language client, trace or bench engine, metrics panels inside; each is its own file, shipped in the VSIX', () => {
  // dist/ as the production build above left it
  const inside = inputs('extension').filter((f) => LAZY_MODULES.test(f));
  assert.deepEqual(inside, [], 'modules that should load on first use, in dist/extension.js');
  const js = readFileSync('dist/extension.js', 'utf8');
  const shipped = readFileSync('.vscodeignore', 'utf8').split('\n');
  for (const f of LAZY_FILES) {
    assert.match(js, new RegExp(`require\\("\\./${f.replace('.', '\\.')}"\\)`), `dist/extension.js requires ./${f}`);
    assert.ok(statSync(join('dist', f)).size > 10_000, `dist/${f} is built`);
    assert.ok(shipped.includes(`!dist/${f}`), `.vscodeignore ships dist/${f}`);
  }
});

test('no module is in two files: the trace, bench and metrics files take what dist/extension.js has from it', () => {
  const main = new Set(inputs('extension'));
  for (const feature of ['trace', 'bench', 'metrics']) {
    const own = inputs(feature).filter((f) => !f.startsWith('virtscope-shared:'));
    assert.deepEqual(
      own.filter((f) => main.has(f)),
      [],
      `dist/${feature}.js has its own copy of modules of dist/extension.js`,
    );
    assert.ok(
      own.some((f) => f.startsWith(`src/core/${feature}/`)),
      `dist/${feature}.js holds the ${feature} engine`,
    );
  }
});

test('loading dist/extension.js loads none of the lazy files; dist/dockerode.js is the Docker client', () => {
  // a plain Node with a stand-in `vscode` module: what require() of the bundle pulls in
  const script = `
    const Module = require('module');
    const load = Module._load;
    const stub = new Proxy(function () {}, { get: (t, k) => (k === 'then' ? undefined : stub), apply: () => stub, construct: () => stub });
    Module._load = function (r, ...a) { return r === 'vscode' ? stub : load.call(this, r, ...a); };
    const ext = require('./dist/extension.js');
    const loaded = Object.keys(require.cache).filter((f) => f.includes('/dist/')).map((f) => f.slice(f.lastIndexOf('/') + 1));
    const Docker = require('./dist/dockerode.js');
    const trace = require('./dist/trace.js');
    const bench = require('./dist/bench.js');
    const metrics = require('./dist/metrics.js');
    const copies = Object.keys(require.cache).filter((f) => f.endsWith('/dist/extension.js')).length;
    console.log(JSON.stringify({ loaded, activate: typeof ext.activate, docker: typeof Docker.prototype.listContainers,
      features: [typeof trace.runTrace, typeof bench.runBenchmark, typeof metrics.MetricsPanels], copies }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
  assert.deepEqual(out.loaded, ['extension.js']);
  assert.equal(out.activate, 'function');
  assert.equal(out.docker, 'function');
  assert.deepEqual(out.features, ['function', 'function', 'function']);
  assert.equal(out.copies, 1);
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
