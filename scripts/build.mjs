// The extension's esbuild bundles (vscode external). --production minifies; --watch rebuilds.
// dist/extension.js holds what activation and the first view need; the libraries in LAZY get their
// own files in dist/, required on first use (see lazyPlugin).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
const production = process.argv.includes('--production');
const stubs = path.resolve('scripts/stubs');

/** Replaces dependencies virtscope never uses (gRPC for image builds, SSH) with small stubs. */
const stubPlugin = {
  name: 'virtscope-stubs',
  setup(build) {
    build.onResolve({ filter: /^\.\/session$/ }, (a) =>
      a.importer.includes(`${path.sep}dockerode${path.sep}`) ? { path: path.join(stubs, 'dockerode-session.js') } : undefined);
    build.onResolve({ filter: /^ssh2$/ }, () => ({ path: path.join(stubs, 'ssh2.js') }));
  },
};
const watch = process.argv.includes('--watch');

/** Libraries the first view does not need → their own bundle in dist/ (about half the extension's bytes). */
const LAZY = { dockerode: 'dockerode', 'vscode-languageclient/node': 'languageclient' };

/** In dist/extension.js, a LAZY library stays a require() of its own file (the source requires it where first used). */
const lazyPlugin = {
  name: 'virtscope-lazy',
  setup(build) {
    build.onResolve({ filter: /^(dockerode|vscode-languageclient\/node)$/ }, (a) => ({ path: `./${LAZY[a.path]}.js`, external: true }));
  },
};

/** @type {esbuild.BuildOptions} */
const extension = {
  entryPoints: ['src/extension/main.ts'],
  outfile: 'dist/extension.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // `vscode` is provided by the extension host. No native addon is ever bundled or loaded: the
  // extension host is another Node ABI (see stubPlugin for ssh2, whose addons are optional).
  external: ['vscode', 'cpu-features', '*.node'],
  plugins: [stubPlugin, lazyPlugin],
  sourcemap: production ? false : 'linked',
  minify: production,
  metafile: true,
  logLevel: 'info',
  legalComments: 'none',
};

/** One bundle per LAZY library, beside dist/extension.js. */
const lazy = Object.entries(LAZY).map(([lib, name]) => ({ ...extension, entryPoints: [lib], outfile: `dist/${name}.js`, plugins: [stubPlugin] }));

/** The language server (src/language): its own Node process, started by vscode-languageclient; pure JS too. */
const server = { ...extension, entryPoints: ['src/language/server.ts'], outfile: 'dist/server.js', external: ['*.node'], plugins: [] };

/** The metrics webviews (media/metrics): browser code + uPlot + CSS → dist/webview.{js,css}; never loaded from the network. */
const webview = {
  entryPoints: { webview: 'media/metrics/main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  sourcemap: false,
  minify: production,
  metafile: true,
  logLevel: 'info',
  legalComments: 'none',
};

if (watch) {
  for (const opts of [extension, ...lazy, server, webview]) await (await esbuild.context(opts)).watch();
} else {
  for (const opts of [extension, ...lazy, server, webview]) {
    const r = await esbuild.build(opts);
    if (opts === extension) fs.writeFileSync('dist/extension.meta.json', JSON.stringify(r.metafile));
    const name = opts.outfile ? path.basename(opts.outfile) : 'webview.js';
    const out = Object.entries(r.metafile.outputs).find(([f]) => f.endsWith(name));
    if (out) console.log(`dist/${name}: ${(out[1].bytes / 1024).toFixed(0)} KiB`);
  }
}
