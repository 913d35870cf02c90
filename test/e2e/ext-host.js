// Runs the mocha suite (out/e2e/index.js) inside the real extension host of a running code-server
// that was started with `--vscode-option enable-smoke-test-driver` (test/e2e/run.sh does that).
// Headless Chromium opens the workbench with a `payload` that makes it an Extension Development
// Host; the workbench calls window.codeAutomationExit(code) when the tests are done.
// Plain Node; needs playwright-core on NODE_PATH. Env:
//   CS_BASE        http://127.0.0.1:<port> of the code-server
//   DEV_PATH       extensionDevelopmentPath (the repo)
//   TESTS_PATH     extensionTestsPath (out/e2e/index.js)
//   RESULT_FILE    where index.js writes {passed, failed, tests}
//   WORKSPACE      folder to open
//   RUN_DIR        scratch dir (browser profile)
//   EXT_TIMEOUT_MS overall bound (default 180000)
// Prints one line per test and a closing `N passed, N failed`; exit code 0 only if all passed.
'use strict';
const { launchBrowser } = require('./browser');
const fs = require('fs');
const path = require('path');

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const base = env('CS_BASE');
const devPath = path.resolve(env('DEV_PATH'));
const testsPath = path.resolve(env('TESTS_PATH'));
const resultFile = env('RESULT_FILE');
const workspace = env('WORKSPACE');
const runDir = env('RUN_DIR');
const timeoutMs = Number(env('EXT_TIMEOUT_MS', '180000'));
const t0 = Date.now();
const log = (...a) => console.log(`  [ext ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
// workbench chatter that says nothing about the extension under test
const NOISE =
  /AgentHost|ChatModelSelection|AccountPolicyGate|builtin extensions from gallery|connection token|grace time|Service Worker|\[Extension Host\] (Extension host|Started local)/;

async function main() {
  fs.rmSync(resultFile, { force: true });
  const authority = new URL(base).host;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${devPath}`],
    ['extensionTestsPath', `vscode-remote://${authority}${testsPath}`],
    ['extensionEnvironment', JSON.stringify({ VIRTSCOPE_E2E_RESULT: resultFile, VIRTSCOPE_E2E_GREP: process.env.VIRTSCOPE_E2E_GREP || '' })],
  ];
  const url = `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const browser = await launchBrowser(runDir, 'ext');
  let code = 1;
  let timer;
  try {
    const page = browser.page;
    const exited = new Promise((resolve) => page.exposeFunction('codeAutomationExit', (c) => resolve(c)));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const t = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      if (!NOISE.test(t) && process.env.E2E_VERBOSE) console.log('    LOG>', type, t.slice(0, 400));
    });
    page.on('pageerror', (e) => log('pageerror:', e.message));
    await page.goto(url, { timeout: 30_000 });
    log('workbench loading; tests run in the extension host…');
    const timeout = new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`extension-host tests did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    code = await Promise.race([exited, timeout]);
    log(`codeAutomationExit(${code})`);
  } catch (e) {
    log('ERROR:', e.message);
    code = 1;
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
  return code;
}

function report(code) {
  let passed = 0;
  let failed = 0;
  if (fs.existsSync(resultFile)) {
    const r = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
    for (const t of r.tests) {
      const ms = t.ms !== undefined ? ` (${t.ms} ms)` : '';
      console.log(`  ${t.state === 'passed' ? 'ok  ' : t.state === 'failed' ? 'FAIL' : 'skip'} ${t.title}${ms}`);
      if (t.error)
        console.log(
          t.error
            .split('\n')
            .slice(0, 8)
            .map((l) => `         ${l}`)
            .join('\n'),
        );
    }
    passed = r.passed;
    failed = r.failed;
    log(`extension host: Node ${r.node}`);
  } else {
    console.log('  no result file: the suite did not run to the end (see the lines above)');
  }
  // A run that did not finish cleanly counts as a failure even if no single test failed.
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && code === 0 ? 0 : 1;
}

main()
  .then((code) => process.exit(report(code)))
  .catch((e) => {
    console.error(e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  });
