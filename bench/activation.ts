// Activation benchmark: virtscope's activation time in a real extension host, and the time to the
// Guests tree's first rows.
//   node --import tsx bench/activation.ts [--rounds N] [--vsix PATH]     (VIRTSCOPE_BENCH_KEEP=1 keeps the logs)
// Packages the extension as a user gets it (`npm run package` → dist/virtscope.vsix; --vsix: use that
// file) and installs it into code-server (a real VS Code, the e2e tests' tools; scripts/install-e2e.sh)
// beside a BASELINE extension: the smallest one that shows one tree row (one view container, one
// view, a provider returning one item). Each round starts code-server cold (its own process, free
// port, fresh user-data dir) once per extension, opens the workbench in headless Chromium, clicks the
// extension's activity-bar item (which activates it: onView) and waits for its tree's first row, then
// reads the activation time VS Code recorded for it from "Developer: Show Running Extensions"
// ("Activation: N ms" = code loading + the activate() call). Prints the medians and the goal.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, median } from './util';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the e2e kit is CommonJS
const { launchBrowser } = require('../test/e2e/browser.js') as {
  launchBrowser: (runDir: string, name: string, extra: object, chromium: unknown) => Promise<{ ctx: any; page: any; close: () => Promise<void> }>;
};

const ROUNDS = Number(arg('rounds', '5'));
const GOAL_MS = 50;
const ROOT = path.resolve(__dirname, '..');
const E2E = process.env.VIRTSCOPE_E2E_DIR || path.join(os.homedir(), '.cache', 'virtscope-e2e');
const NODE24 = path.join(E2E, 'node24/node_modules/node/bin/node');
const CODE_SERVER = path.join(E2E, 'cs/node_modules/code-server/out/node/entry.js');
/** VIRTSCOPE_BENCH_KEEP=1: keep the run directory (server logs, the extension host's logs) for a look. */
const KEEP = process.env.VIRTSCOPE_BENCH_KEEP === '1';
const BASELINE = 'an empty extension showing one tree row (same host, same click, same reading)';

/** One extension under measurement: how to find its activity-bar item and its Running Extensions row. */
interface Subject {
  label: string;
  displayName: string;
  activityLabel: string;
  viewId: string;
}
const VIRTSCOPE: Subject = { label: 'virtscope', displayName: 'virtscope', activityLabel: 'Virtualization', viewId: 'virtscope.guests' };
const EMPTY: Subject = { label: 'baseline', displayName: 'virtscope-bench-empty', activityLabel: 'Bench Empty', viewId: 'vsbenchEmpty.rows' };

interface Sample {
  activationMs: number;
  /** The click on the activity-bar item (which activates it) → its tree's first row in the DOM (next frame). */
  paintMs: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The baseline extension's files: one view container, one view, one row. */
function writeEmptyExtension(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const pkg = {
    name: 'virtscope-bench-empty',
    displayName: EMPTY.displayName,
    description: 'Baseline of bench/activation.ts: the smallest extension that shows one tree row.',
    version: '0.0.1',
    publisher: 'virtscope',
    license: 'MIT',
    engines: { vscode: '^1.90.0' },
    main: './extension.js',
    contributes: {
      viewsContainers: { activitybar: [{ id: 'vsbenchEmpty', title: EMPTY.activityLabel, icon: 'icon.svg' }] },
      views: { vsbenchEmpty: [{ id: EMPTY.viewId, name: 'Rows' }] },
    },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  fs.writeFileSync(path.join(dir, 'README.md'), '# virtscope-bench-empty\n\nThe baseline of bench/activation.ts.\n');
  fs.writeFileSync(path.join(dir, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16"/></svg>');
  fs.writeFileSync(
    path.join(dir, 'extension.js'),
    `const vscode = require('vscode');
exports.activate = (context) => {
  const provider = { getChildren: (e) => (e ? [] : ['one row']), getTreeItem: (e) => new vscode.TreeItem(e) };
  context.subscriptions.push(vscode.window.createTreeView('${EMPTY.viewId}', { treeDataProvider: provider }));
};
`,
  );
}

const vsce = (cwd: string, out: string) =>
  execFileSync(path.join(ROOT, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', out], {
    cwd,
    stdio: 'pipe',
  });

/** Env of a fresh profile under `dir`: its own HOME/XDG/TMPDIR, no extension gallery. */
function profileEnv(dir: string): NodeJS.ProcessEnv {
  for (const d of ['home', 'tmp', 'ud/User']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const home = path.join(dir, 'home');
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    TMPDIR: path.join(dir, 'tmp'),
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
  };
}

interface Server {
  url: string;
  stop(): Promise<void>;
}

/** code-server in its own process group on a free port, with a fresh user-data dir; resolves once healthy. */
async function startServer(dir: string, extDir: string): Promise<Server> {
  const env = profileEnv(dir);
  fs.copyFileSync(path.join(ROOT, 'scripts/vscode-settings.json'), path.join(dir, 'ud/User/settings.json'));
  const port = await freePort();
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const args = [
    CODE_SERVER,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--reconnection-grace-time',
    '5',
    '--user-data-dir',
    path.join(dir, 'ud'),
    '--extensions-dir',
    extDir,
  ];
  const child: ChildProcess = spawn(NODE24, args, { env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const stop = async () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited during start-up: ${fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-800)}`);
    if (
      await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > end) {
      await stop();
      throw new Error('code-server was not healthy within 60 s');
    }
    await sleep(150);
  }
  const ws = path.join(dir, 'ws');
  fs.mkdirSync(ws, { recursive: true });
  return { url: `${base}/?folder=${encodeURIComponent(ws)}`, stop };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const playwright = () => createRequire(path.join(E2E, 'pw/node_modules/'))('playwright-core');

/** One cold measurement of `s` in a fresh code-server and browser. */
async function measure(s: Subject, extDir: string, runDir: string): Promise<Sample> {
  const dir = fs.mkdtempSync(path.join(runDir, `${s.label}-`));
  const server = await startServer(dir, extDir);
  // the profile directly under /tmp: Chromium's singleton socket path must stay short
  const { page, close } = await launchBrowser(os.tmpdir(), 'act', { viewport: { width: 1400, height: 850 } }, playwright().chromium);
  try {
    page.setDefaultTimeout(30_000);
    await page.goto(server.url, { timeout: 30_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const item = page
      .locator(`.activitybar .action-item [aria-label^="${s.activityLabel}"], .activitybar .action-item[aria-label^="${s.activityLabel}"]`)
      .first();
    await item.waitFor({ timeout: 60_000 });
    await openRunningExtensions(page); // the click must not queue behind the extension host's start-up
    await closeModal(page);
    const rowSel = `.part.sidebar .monaco-list-row[role="treeitem"]`;
    // a string, not a function: tsx would wrap a function's inner names in a helper the page lacks
    await page.evaluate(`(() => {
      const sel = ${JSON.stringify(rowSel)}, title = ${JSON.stringify(s.activityLabel.toLowerCase())};
      window.__firstRow = undefined;
      const seen = () =>
        (document.querySelector('.part.sidebar .composite.title')?.textContent ?? '').toLowerCase().includes(title) && document.querySelector(sel);
      const obs = new MutationObserver(() => {
        if (window.__firstRow === undefined && seen()) {
          obs.disconnect();
          requestAnimationFrame(() => (window.__firstRow = performance.now()));
        }
      });
      obs.observe(document.body, { childList: true, subtree: true });
    })()`);
    const clickAt: number = await page.evaluate('performance.now()');
    await item.click();
    await page.waitForFunction('window.__firstRow !== undefined', null, { timeout: 60_000 });
    const firstRow: number = await page.evaluate('window.__firstRow');
    const activationMs = await readActivation(page, s);
    return { activationMs, paintMs: firstRow - clickAt };
  } finally {
    await close();
    await server.stop();
    if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Opens Developer: Show Running Extensions and waits until the extension host is idle: rows listed,
 * none "Activating..." for a second. (This VS Code opens it as a modal editor.)
 */
async function openRunningExtensions(page: any): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  await page.keyboard.press('F1');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill('>Developer: Show Running Extensions');
  const entry = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Show Running Extensions' }).first();
  await entry.waitFor({ timeout: 10_000 });
  await input.press('Enter');
  const times = page.locator('.monaco-list-row .activation-time');
  const end = Date.now() + 60_000;
  let quietSince = 0;
  while (Date.now() < end) {
    const texts: string[] = await times.allInnerTexts().catch(() => []);
    const busy = !texts.length || texts.some((t) => /Activating/i.test(t));
    if (busy) quietSince = 0;
    else if (!quietSince) quietSince = Date.now();
    else if (Date.now() - quietSince >= 1000) return;
    await sleep(100);
  }
  throw new Error('the extension host did not settle within 60 s (Running Extensions still shows "Activating...")');
}

async function closeModal(page: any): Promise<void> {
  const block = page.locator('.monaco-modal-editor-block');
  for (let i = 0; i < 5 && (await block.count()) > 0; i++) {
    await page.keyboard.press('Escape');
    await block
      .first()
      .waitFor({ state: 'detached', timeout: 2_000 })
      .catch(() => {});
  }
  if ((await block.count()) > 0) throw new Error('the Running Extensions editor does not close');
}

/** "Activation: N ms" of the extension's row in Running Extensions. */
async function readActivation(page: any, s: Subject): Promise<number> {
  await openRunningExtensions(page);
  const row = page.locator('.monaco-list-row', { has: page.locator('.name', { hasText: new RegExp(`^${s.displayName}$`) }) }).first();
  const list = page.locator('.monaco-list', { has: page.locator('.activation-time') }).first();
  const box = await list.boundingBox();
  if (!box) throw new Error('the Running Extensions list is not visible');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -100_000);
  // the list renders only the rows in view, sorted by activation time: scroll until the row is there
  for (let i = 0; i < 60 && (await row.count()) === 0; i++) {
    await page.mouse.wheel(0, box.height / 2);
    await sleep(100);
  }
  const text: string = await row
    .locator('.activation-time')
    .innerText({ timeout: 5_000 })
    .catch(() => '');
  const m = /Activation:\s*(\d+)\s*ms/.exec(text);
  if (!m) throw new Error(`no activation time for ${s.displayName} in Running Extensions (saw "${text}")`);
  return Number(m[1]);
}

function install(vsix: string, extDir: string, runDir: string): void {
  const dir = path.join(runDir, 'install');
  const env = profileEnv(dir);
  execFileSync(NODE24, [CODE_SERVER, '--user-data-dir', path.join(dir, 'ud'), '--extensions-dir', extDir, '--install-extension', vsix], {
    env,
    stdio: 'pipe',
    timeout: 120_000,
  });
}

/**
 * For reference: require() of the installed dist/extension.js alone, in a fresh code-server Node with
 * `vscode` stubbed: the code-loading part of activation without the extension host around it.
 */
function requireMs(file: string, rounds: number): number[] {
  const script = `const M = require('module'); const load = M._load;
    const stub = new Proxy(function () {}, { get: (t, k) => (k === 'then' ? undefined : stub), apply: () => stub, construct: () => stub });
    M._load = function (r, ...a) { return r === 'vscode' ? stub : load.call(this, r, ...a); };
    const t0 = performance.now(); require(${JSON.stringify(file)}); console.log(performance.now() - t0);`;
  return Array.from({ length: rounds }, () => Number(execFileSync(NODE24, ['-e', script], { encoding: 'utf8' })));
}

const fmt = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(0));

async function main(): Promise<void> {
  const started = performance.now();
  execFileSync('bash', [path.join(ROOT, 'scripts/install-e2e.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  let vsix = arg('vsix', '');
  if (!vsix) {
    console.log('packaging: npm run package (the production build, as installed by a user)');
    execFileSync('npm', ['run', 'package', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    vsix = path.join(ROOT, 'dist/virtscope.vsix');
  }
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-activation-'));
  try {
    const emptyDir = path.join(runDir, 'empty');
    writeEmptyExtension(emptyDir);
    vsce(emptyDir, path.join(runDir, 'empty.vsix'));
    const extDir = path.join(runDir, 'ext');
    install(vsix, extDir, runDir);
    install(path.join(runDir, 'empty.vsix'), extDir, runDir);
    const installed = fs.readdirSync(extDir).find((d) => d.startsWith('virtscope.virtscope-'));
    if (!installed) throw new Error(`the VSIX did not install into ${extDir}`);
    const mainFile = path.join(extDir, installed, 'dist/extension.js');
    const bundle = fs.statSync(mainFile).size;
    const load0 = os.loadavg()[0];

    const results: Record<string, Sample[]> = { virtscope: [], baseline: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // alternate the order, so neither always runs on a machine warmed by the other
      for (const s of i % 2 ? [EMPTY, VIRTSCOPE] : [VIRTSCOPE, EMPTY]) {
        const r = await measure(s, extDir, runDir);
        results[s.label].push(r);
        console.log(
          `  round ${i + 1} ${s.label.padEnd(9)} activation ${fmt(r.activationMs).padStart(4)} ms   first tree row ${fmt(r.paintMs).padStart(5)} ms after the click`,
        );
      }
    }
    const med = (l: string, k: keyof Sample) => median(results[l].map((r) => r[k]));
    const act = med('virtscope', 'activationMs');
    console.log('');
    console.log(
      `virtscope activation benchmark: code-server ${codeServerVersion()}, dist/extension.js ${(bundle / 1024).toFixed(0)} KiB, median of ${ROUNDS} cold starts each`,
    );
    console.log('');
    console.log(`${'measure'.padEnd(44)}  ${'virtscope'.padStart(9)}  ${'baseline'.padStart(8)}  difference`);
    const line = (m: string, k: keyof Sample) =>
      console.log(
        `${m.padEnd(44)}  ${fmt(med('virtscope', k)).padStart(6)} ms  ${fmt(med('baseline', k)).padStart(5)} ms  ${fmt(med('virtscope', k) - med('baseline', k)).padStart(6)} ms`,
      );
    line('activation (code loading + activate())', 'activationMs');
    line('first tree row after the activating click', 'paintMs');
    console.log('');
    const req = median(requireMs(mainFile, 3 * ROUNDS));
    console.log(`for reference: require() of dist/extension.js alone in a fresh Node (vscode stubbed), median of ${3 * ROUNDS}: ${fmt(req)} ms`);
    const cores = os.cpus().length;
    const load1 = os.loadavg()[0];
    const busy = Math.max(load0, load1) > cores ? ' — busier than its cores: the times are inflated; compare with the baseline of the same run' : '';
    console.log(`machine: ${cores} cores, 1-minute load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end${busy}`);
    console.log(`baseline: ${BASELINE}`);
    console.log(`goal: activation under ${GOAL_MS} ms — ${act < GOAL_MS ? 'met' : 'NOT met'} (${fmt(act)} ms)`);
    console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    if (KEEP) console.log(`run directory kept (VIRTSCOPE_BENCH_KEEP=1): ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  }
}

function codeServerVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(E2E, 'cs/node_modules/code-server/package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

main().catch((e) => {
  console.error(`activation benchmark failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
