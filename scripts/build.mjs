// One esbuild bundle for the extension (vscode external). --production minifies; --watch rebuilds.
import * as esbuild from 'esbuild';
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {esbuild.BuildOptions} */
const extension = {
  entryPoints: ['src/extension/main.ts'],
  outfile: 'dist/extension.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // `vscode` is provided by the extension host. cpu-features and ssh2's sshcrypto are optional
  // native addons (SSH to a remote Docker): never bundled, never loaded — ssh2 falls back to JS.
  external: ['vscode', 'cpu-features', '*.node'],
  sourcemap: production ? false : 'linked',
  minify: production,
  metafile: true,
  logLevel: 'info',
  legalComments: 'none',
};

if (watch) {
  const ctx = await esbuild.context(extension);
  await ctx.watch();
} else {
  const r = await esbuild.build(extension);
  const out = Object.entries(r.metafile.outputs).find(([f]) => f.endsWith('extension.js'));
  if (out) console.log(`dist/extension.js: ${(out[1].bytes / 1024).toFixed(0)} KiB`);
}
