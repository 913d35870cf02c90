// Shared by the per-feature UI tests (ui-*.test.js): settings for the run, the browser, steps that
// count as tests (a failed step skips the rest and leaves a screenshot), screenshots, the closing
// `N passed, N failed` line and exit status. Env: CS_URL, RUN_DIR, SETTINGS_FILE (see run.sh).
'use strict';
const { launchBrowser } = require('./browser');
const fs = require('fs');
const path = require('path');

const SHOTS = path.join(__dirname, 'screenshots');

/**
 * Runs `body(kit)` against the workbench at CS_URL. `settings` are merged into the user settings file
 * before the page loads. kit: { page, log, step(title, fn), shot(file), sidebar(), row(name) }.
 */
function uiRun(name, settings, body) {
  const url = process.env.CS_URL;
  const runDir = process.env.RUN_DIR || require('os').tmpdir();
  const settingsFile = process.env.SETTINGS_FILE || path.join(runDir, '..', 'ud', 'User', 'settings.json');
  const t0 = Date.now();
  const log = (...a) => console.log(`  [${name} ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
  const results = [];
  const kit = { log, page: undefined };
  kit.shot = async (file) => {
    await kit.page.mouse.move(1390, 840); // no hover tooltips in the picture
    await kit.page.waitForTimeout(300);
    await kit.page.screenshot({ path: path.join(SHOTS, file) });
    log(`screenshot test/e2e/screenshots/${file}`);
  };
  kit.step = async (title, fn) => {
    if (results.some((r) => !r.ok)) {
      results.push({ title, ok: false });
      console.log(`  FAIL ${title}: not run, an earlier step failed`);
      return;
    }
    const s = Date.now();
    try {
      await fn();
      results.push({ title, ok: true });
      console.log(`  ok   ${title} (${Date.now() - s} ms)`);
    } catch (e) {
      results.push({ title, ok: false });
      console.log(`  FAIL ${title} (${Date.now() - s} ms)\n         ${String(e.message).split('\n').slice(0, 6).join('\n         ')}`);
      if (kit.page) await kit.page.screenshot({ path: path.join(SHOTS, `99-${name}-failure.png`) }).catch(() => {});
    }
  };
  kit.sidebar = () => kit.page.locator('.part.sidebar');
  /** The Guests tree row of a guest: its aria label is "<name>, <description>". */
  kit.row = (guest) => kit.sidebar().locator(`.monaco-list-row[role="treeitem"][aria-label^="${guest}, "]`).first();

  (async () => {
    if (!url) throw new Error('CS_URL is not set');
    fs.mkdirSync(SHOTS, { recursive: true });
    const current = fs.existsSync(settingsFile) ? JSON.parse(fs.readFileSync(settingsFile, 'utf8')) : {};
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ ...current, ...settings }, null, 2));
    const browser = await launchBrowser(runDir, name, { viewport: { width: 1400, height: 850 } });
    kit.page = browser.page;
    kit.page.setDefaultTimeout(20_000);
    try {
      await kit.page.goto(url, { timeout: 30_000 });
      await body(kit);
    } finally {
      await browser.close();
    }
  })()
    .catch((e) => {
      console.log(`  FAIL ${name} run: ${e.message}`);
      results.push({ title: `${name} run`, ok: false });
    })
    .finally(() => {
      const passed = results.filter((r) => r.ok).length;
      console.log(`${passed} passed, ${results.length - passed} failed`);
      process.exit(passed === results.length && results.length > 0 ? 0 : 1);
    });
}

module.exports = { uiRun };
