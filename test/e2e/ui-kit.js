// Shared by the UI tests (ui*.test.js, run by run.sh with NODE_PATH at playwright-core): settings for
// the run, the browser, steps that count as tests (a failed step skips the rest, or only the steps
// that name it in `needs`, and leaves a screenshot), screenshots, the Guests view, context menus, the
// command palette, the closing `N passed, N failed` line and exit status.
// Env: CS_URL, RUN_DIR, SETTINGS_FILE (see run.sh).
'use strict';
const { launchBrowser } = require('./browser');
const fs = require('fs');
const path = require('path');

const SHOTS = path.join(__dirname, 'screenshots');
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Runs `body(kit)` in a browser on the workbench at CS_URL (the page is loaded by `kit.goto()`).
 * opts:
 *   settings     merged into the user settings file before the page loads (none: the file is left alone)
 *   machineSettings  the same for the Machine settings file (settings of scope "machine")
 *   shots        sub-folder of test/e2e/screenshots for this test's pictures ('' = the folder itself)
 *   clearShots   remove the *.png/*.log files in that folder first
 *   mouse        [x, y] the pointer is moved to before a picture (no hover tooltips); null: left where it is
 *   failureShot  file name of the picture taken at the first failed step (default 99-<name>-failure.png)
 *   consoleLog   keep the browser console in <shots>/console.log
 *   before       results of steps already run outside the browser: [{ title, ok, line? }]
 *   after        async (kit) => …, run once the browser is closed; its kit.step()s count too
 * kit: { page, log, goto(), step(title, fn, needs?), fail(title, line?), shot(file), sidebar(), row(name),
 *        expand(label, last?), activityItem(), openGuests(guest, opts?), contextMenu(guest, item), command(text, opts?) }.
 */
function uiRun(name, opts, body) {
  const { settings, machineSettings, shots = '', clearShots = false, mouse = [1390, 840], failureShot = `99-${name}-failure.png`, consoleLog = false } = opts;
  const { before = [], after } = opts;
  const url = process.env.CS_URL;
  const runDir = process.env.RUN_DIR || require('os').tmpdir();
  const settingsFile = process.env.SETTINGS_FILE || path.join(runDir, '..', 'ud', 'User', 'settings.json');
  const shotsDir = path.join(SHOTS, shots);
  const shotName = (file) => path.posix.join('test/e2e/screenshots', shots, file);
  const t0 = Date.now();
  const log = (...a) => console.log(`  [${name} ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
  const results = before.map(({ title, ok }) => ({ title, ok }));
  let failureShotTaken = false;
  const kit = { log, page: undefined };

  kit.goto = () => kit.page.goto(url, { timeout: 30_000 });
  kit.shot = async (file) => {
    if (mouse) await kit.page.mouse.move(mouse[0], mouse[1]); // no hover tooltips in the picture
    await kit.page.waitForTimeout(300);
    await kit.page.screenshot({ path: path.join(shotsDir, file) });
    log(`screenshot ${shotName(file)}`);
  };
  /** A failed result that is not a step (e.g. a check at the end); prints `  FAIL <line>`. */
  kit.fail = (title, line = title) => {
    results.push({ title, ok: false });
    console.log(`  FAIL ${line}`);
  };
  /** Runs one step. Without `needs` any earlier failure skips it; with `needs`, only a failure of those steps. */
  kit.step = async (title, fn, needs) => {
    const missing = needs ? needs.filter((n) => !results.some((r) => r.title === n && r.ok)) : [];
    if (needs ? missing.length : results.some((r) => !r.ok)) {
      kit.fail(title, needs ? `${title}: not run, it needs: ${missing.join('; ')}` : `${title}: not run, an earlier step failed`);
      return;
    }
    const s = Date.now();
    try {
      await fn();
      results.push({ title, ok: true });
      console.log(`  ok   ${title} (${Date.now() - s} ms)`);
    } catch (e) {
      kit.fail(title, `${title} (${Date.now() - s} ms)\n         ${String(e.message).split('\n').slice(0, 6).join('\n         ')}`);
      if (!failureShotTaken && kit.page) {
        failureShotTaken = true;
        await kit.page.screenshot({ path: path.join(shotsDir, failureShot) }).catch(() => {});
        log(`screenshot ${shotName(failureShot)}`);
      }
    }
  };

  kit.sidebar = () => kit.page.locator('.part.sidebar');
  /** The Guests tree row of a guest: its aria label is "<name>, <description>". */
  kit.row = (guest) => kit.sidebar().locator(`.monaco-list-row[role="treeitem"][aria-label^="${guest}, "]`).first();
  kit.activityItem = () =>
    kit.page.locator('.activitybar .action-item [aria-label^="Virtualization"], .activitybar .action-item[aria-label^="Virtualization"]').first();
  /** The aria labels of all rows of the Guests tree. */
  kit.treeLabels = () =>
    kit
      .sidebar()
      .locator('.monaco-list-row[role="treeitem"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || ''));
  /** Expands the first (or with `last`, the last) tree row whose label starts with `label`, unless it is open. */
  kit.expand = async (label, last = false) => {
    const all = kit.sidebar().locator(`.monaco-list-row[role="treeitem"][aria-label^="${label}, "]`);
    const r = last ? all.last() : all.first();
    await r.waitFor({ timeout: 20_000 });
    if ((await r.getAttribute('aria-expanded')) !== 'true') await r.locator('.monaco-tl-twistie').click();
  };
  /**
   * Opens the Virtualization view once the workbench is up and waits for `guest` in the Guests tree.
   * opts.settle: ms to wait after the connection rows settled ("connecting" → "N guests": a redrawn row
   * loses its node); false: return as soon as the row is there.
   */
  kit.openGuests = async (guest, { settle = 1500 } = {}) => {
    await kit.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const item = kit.activityItem();
    await item.waitFor({ timeout: 30_000 });
    await item.click();
    await kit.row(guest).waitFor({ timeout: 30_000 });
    if (settle === false) return;
    for (let i = 0; i < 40 && (await kit.treeLabels()).some((l) => /\bconnecting\b/.test(l)); i++) await kit.page.waitForTimeout(250);
    await kit.page.waitForTimeout(settle);
  };
  /** Right-click the guest's row and click the menu item titled `item` (tried again if the click was lost). */
  kit.contextMenu = async (guest, item) => {
    const { page } = kit;
    const menu = page.locator('.context-view .monaco-menu');
    for (let attempt = 1; ; attempt++) {
      const r = kit.row(guest);
      await r.scrollIntoViewIfNeeded();
      await r.click({ button: 'right' });
      const entry = menu.locator('.action-item .action-label', { hasText: new RegExp(`^${escapeRe(item)}$`) }).first();
      await entry.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(200); // a click right after the menu opened can go nowhere
      await entry.click();
      // running an item closes the menu; a menu still open means the click was lost
      if (
        await menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(
          () => true,
          () => false,
        )
      )
        return;
      if (attempt === 3) throw new Error(`the context menu stayed open after clicking "${item}" 3 times`);
      log(`"${item}" click did not close the menu: trying again`);
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden', timeout: 3_000 }).catch(() => {});
    }
  };
  /**
   * Opens the command palette and types `text` into it; returns its input. While a webview has the
   * focus, the palette can close as soon as it opens (the webview takes the focus back): then the
   * focus is moved to the workbench (the side bar's title) and it is tried again.
   */
  kit.openPalette = async (text) => {
    const { page } = kit;
    const input = page.locator('.quick-input-widget input.input');
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const ok = await input
        .waitFor({ state: 'visible', timeout: 3_000 })
        .then(() => input.fill(text, { timeout: 3_000 }))
        .then(
          () => true,
          () => false,
        );
      if (ok) return input;
      log('the palette did not stay open (focus in a webview?): focusing the workbench and trying again');
      await page
        .locator('.part.sidebar .composite.title')
        .first()
        .click({ timeout: 3_000 })
        .catch(() => {});
    }
    throw new Error(`the command palette does not open to take "${text}"`);
  };
  /**
   * Runs a command from the palette: types `>text`, waits for the row containing opts.match (default
   * `text`), presses Enter; opts.pick: then clicks the quick-pick row containing it.
   */
  kit.command = async (text, { match = text, pick } = {}) => {
    const { page } = kit;
    const qi = page.locator('.quick-input-widget');
    const run = async () => {
      const input = await kit.openPalette(`>${text}`);
      await qi.locator('.quick-input-list .monaco-list-row', { hasText: match }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(150);
      await input.press('Enter');
    };
    await run();
    if (!pick) return;
    // A webview that takes the focus back (a panel still loading) closes the command's quick pick; the
    // row then stays in the page, hidden, and never takes the click: the command is run again.
    for (let attempt = 1; ; attempt++) {
      const row = qi.locator('.quick-input-list .monaco-list-row', { hasText: pick }).first();
      const clicked = await row.click({ timeout: 10_000 }).then(
        () => true,
        () => false,
      );
      if (clicked) return;
      if (attempt === 3) throw new Error(`the quick pick of "${text}" closed before "${pick}" could be picked, 3 times`);
      log(`the quick pick of "${text}" closed before "${pick}" was picked (focus taken by a webview?): running the command again`);
      await run();
    }
  };

  (async () => {
    if (!url) throw new Error('CS_URL is not set');
    fs.mkdirSync(shotsDir, { recursive: true });
    if (clearShots) for (const f of fs.readdirSync(shotsDir)) if (/\.(png|log)$/.test(f)) fs.rmSync(path.join(shotsDir, f));
    const merge = (file, values) => {
      const current = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ ...current, ...values }, null, 2));
    };
    if (settings) merge(settingsFile, settings);
    // settings of scope "machine" are read from the server's Machine settings in a remote window (code-server)
    if (machineSettings) merge(path.join(path.dirname(path.dirname(settingsFile)), 'Machine', 'settings.json'), machineSettings);
    const browser = await launchBrowser(runDir, name, { viewport: { width: 1400, height: 850 } });
    kit.page = browser.page;
    kit.page.setDefaultTimeout(20_000);
    const consoleLines = [];
    if (consoleLog) {
      kit.page.on('console', (m) => consoleLines.push(`${new Date().toISOString()} ${m.type()}: ${m.text()}`));
      kit.page.on('pageerror', (e) => consoleLines.push(`${new Date().toISOString()} pageerror: ${e.message}`));
    }
    try {
      await body(kit);
    } finally {
      if (consoleLog) fs.writeFileSync(path.join(shotsDir, 'console.log'), consoleLines.join('\n') + '\n');
      await browser.close();
    }
    if (after) {
      kit.page = undefined;
      await after(kit);
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
