// Bundles the extension-host test suite (test/e2e/suite/*.ts) into out/e2e/: index.js (the
// extensionTestsPath VS Code loads) and one *.test.js per test file. `vscode` comes from the
// extension host; mocha is resolved at run time from the repo's node_modules (a devDependency).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const suite = path.join(root, 'test/e2e/suite');
const outdir = path.join(root, 'out/e2e');
const entryPoints = fs
  .readdirSync(suite)
  .filter((f) => f === 'index.ts' || f.endsWith('.test.ts'))
  .map((f) => path.join(suite, f));
fs.rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'mocha', '*.node'],
  sourcemap: 'inline',
  logLevel: 'warning',
});
console.log(`e2e suite: ${entryPoints.length} bundles in ${path.relative(root, outdir)}/`);
