// The extension's esbuild bundles (vscode external). --production minifies; --watch rebuilds.
// dist/extension.js holds what activation and the first view need. The libraries in LAZY and the
// features in FEATURES get their own files in dist/, required on first use (lazyPlugin, featurePlugin);
// a feature file takes every module dist/extension.js already has from it (sharedPlugin), so no
// module ever runs twice (one class for `instanceof`, one state).
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
      a.importer.includes(`${path.sep}dockerode${path.sep}`) ? { path: path.join(stubs, 'dockerode-session.js') } : undefined,
    );
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

/** Our own features the first view does not need: an entry module that gathers one feature → dist/<name>.js. */
const FEATURES = { 'src/extension/lazy/trace.ts': 'trace', 'src/extension/lazy/bench.ts': 'bench', 'src/extension/lazy/metrics.ts': 'metrics' };

const repoPath = (abs) => path.relative(process.cwd(), abs).split(path.sep).join('/');

/** A relative import as esbuild resolves it, as a repo path (undefined: not a file of ours). */
async function resolveOwn(build, a) {
  if (a.pluginData?.own) return undefined;
  const r = await build.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, pluginData: { own: true } });
  return r.errors.length || r.external || !r.path ? undefined : repoPath(r.path);
}

/** In dist/extension.js, a require() of a FEATURES entry stays a require() of its file (the source requires it on first use). */
const featurePlugin = {
  name: 'virtscope-features',
  setup(build) {
    build.onResolve({ filter: /^\./ }, async (a) => {
      const own = a.kind === 'require-call' ? await resolveOwn(build, a) : undefined;
      return own && FEATURES[own] ? { path: `./${FEATURES[own]}.js`, external: true } : undefined;
    });
  },
};

/**
 * In a feature's file, a module that dist/extension.js has is taken from it (its `__shared`), recorded
 * in `used`; with `exported` (the real build), one that dist/extension.js does not export is an error.
 */
const sharedPlugin = (inMain, used, exported) => ({
  name: 'virtscope-shared',
  setup(build) {
    build.onResolve({ filter: /^\./ }, async (a) => {
      if (a.namespace === 'virtscope-shared') return { path: a.path, external: true };
      const own = await resolveOwn(build, a);
      if (!own || !inMain.has(own)) return undefined;
      used.add(own);
      if (exported && !exported.has(own)) return { errors: [{ text: `${own} is newly shared with dist/extension.js: run the build again` }] };
      return { path: own, namespace: 'virtscope-shared' };
    });
    build.onLoad({ filter: /.*/, namespace: 'virtscope-shared' }, (a) => ({
      // the namespace object of dist/extension.js's own instance; __esModule: imported as ES module
      contents: `module.exports = Object.create(require('./extension.js').__shared[${JSON.stringify(a.path)}], { __esModule: { value: true } });`,
      loader: 'js',
    }));
  },
});

/** The entry of dist/extension.js: src/extension/main.ts, plus `__shared`, the modules the feature files take from it. */
const mainEntry = (shared) => ({
  contents: [
    "export * from './src/extension/main';",
    ...shared.map((f, i) => `import * as s${i} from './${f}';`),
    `export const __shared = { ${shared.map((f, i) => `${JSON.stringify(f)}: s${i}`).join(', ')} };`,
  ].join('\n'),
  resolveDir: process.cwd(),
  sourcefile: 'src/extension/main.ts (entry)',
  loader: 'ts',
});

/** @type {esbuild.BuildOptions} */
const extension = {
  stdin: mainEntry([]),
  outfile: 'dist/extension.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // `vscode` is provided by the extension host. No native addon is ever bundled or loaded: the
  // extension host is another Node ABI (see stubPlugin for ssh2, whose addons are optional).
  external: ['vscode', 'cpu-features', '*.node'],
  plugins: [stubPlugin, lazyPlugin, featurePlugin],
  sourcemap: production ? false : 'linked',
  minify: production,
  metafile: true,
  logLevel: 'info',
  legalComments: 'none',
};

/** One bundle per LAZY library, beside dist/extension.js. */
const lazy = Object.entries(LAZY).map(([lib, name]) => ({
  ...extension,
  stdin: undefined,
  entryPoints: [lib],
  outfile: `dist/${name}.js`,
  plugins: [stubPlugin],
}));

/**
 * The feature files and the final dist/extension.js options: dist/extension.js is built once to
 * learn its modules, each feature then takes those from it, and dist/extension.js exports them.
 */
async function featureBuilds() {
  const probe = await esbuild.build({ ...extension, write: false, logLevel: 'silent' });
  const inMain = new Set(Object.keys(probe.metafile.inputs));
  const used = new Set();
  const feature = ([entry, name], exported) => ({
    ...extension,
    stdin: undefined,
    entryPoints: [entry],
    outfile: `dist/${name}.js`,
    plugins: [stubPlugin, lazyPlugin, sharedPlugin(inMain, used, exported)],
  });
  for (const f of Object.entries(FEATURES)) await esbuild.build({ ...feature(f), write: false, logLevel: 'silent' });
  const exported = new Set(used);
  return { features: Object.entries(FEATURES).map((f) => feature(f, exported)), main: { ...extension, stdin: mainEntry([...exported].sort()) } };
}

/** The language server (src/language): its own Node process, started by vscode-languageclient; pure JS too. */
const server = { ...extension, stdin: undefined, entryPoints: ['src/language/server.ts'], outfile: 'dist/server.js', external: ['*.node'], plugins: [] };

/** The metrics webviews (media/metrics) → dist/webview.{js,css}, the graphical console (media/vnc, noVNC) → dist/vnc.{js,css}: browser code, never loaded from the network. */
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

/** The graphical console's webview: an ES module (noVNC awaits at its top level), loaded with type="module". */
const vncWebview = { ...webview, entryPoints: { vnc: 'media/vnc/main.ts' }, format: 'esm' };

const { features, main } = await featureBuilds();
if (watch) {
  // a feature that starts to use another module of dist/extension.js fails to build: restart --watch
  for (const opts of [main, ...features, ...lazy, server, webview, vncWebview]) await (await esbuild.context(opts)).watch();
} else {
  for (const opts of [main, ...features, ...lazy, server, webview, vncWebview]) {
    const r = await esbuild.build(opts);
    const name = opts.outfile ? path.basename(opts.outfile) : `${Object.keys(opts.entryPoints)[0]}.js`;
    if (opts === main || features.includes(opts)) fs.writeFileSync(`dist/${name.replace(/\.js$/, '.meta.json')}`, JSON.stringify(r.metafile));
    const out = Object.entries(r.metafile.outputs).find(([f]) => f.endsWith(name));
    if (out) console.log(`dist/${name}: ${(out[1].bytes / 1024).toFixed(0)} KiB`);
  }
}
