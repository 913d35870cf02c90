// UI end-to-end test of "Run Benchmark…" in the INSTALLED VSIX (code-server + headless Chromium, like
// ui.test.js): right-click labct → Run Benchmark… → suites (all) → cancellable progress → the Markdown
// report opens as an editor. Screenshots: test/e2e/screenshots/08-bench-*.png.
// Env: CS_URL, RUN_DIR (as ui.test.js); SETTINGS_FILE: virtscope.hostNetworkNamespace is set to the
// lab's netns (host iperf3/sockperf servers for guests run inside it) and virtscope.benchmark.seconds to 1.
'use strict';
const { launchBrowser } = require('./browser');
const fs = require('fs');
const path = require('path');

const URL = process.env.CS_URL;
const RUN_DIR = process.env.RUN_DIR || require('os').tmpdir();
const SETTINGS = process.env.SETTINGS_FILE || path.join(RUN_DIR, '..', 'ud', 'User', 'settings.json');
const SHOTS = path.join(__dirname, 'screenshots');
const t0 = Date.now();
const log = (...a) => console.log(`  [ui-bench ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const results = [];
let page;

async function shot(name) {
  await page.mouse.move(1390, 840);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, name) });
  log(`screenshot test/e2e/screenshots/${name}`);
}

async function step(title, fn) {
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
    if (page) await page.screenshot({ path: path.join(SHOTS, '99-bench-failure.png') }).catch(() => {});
  }
}

const sidebar = () => page.locator('.part.sidebar');
const row = (name) => sidebar().locator(`.monaco-list-row[role="treeitem"][aria-label^="${name}, "]`).first();

async function main() {
  if (!URL) throw new Error('CS_URL is not set');
  fs.mkdirSync(SHOTS, { recursive: true });
  const settings = fs.existsSync(SETTINGS) ? JSON.parse(fs.readFileSync(SETTINGS, 'utf8')) : {};
  settings['virtscope.hostNetworkNamespace'] = 'virtscope-lab';
  settings['virtscope.benchmark.seconds'] = 1;
  settings['virtscope.benchmark.diskSizeMiB'] = 16;
  fs.mkdirSync(path.dirname(SETTINGS), { recursive: true });
  fs.writeFileSync(SETTINGS, JSON.stringify(settings, null, 2));
  const browser = await launchBrowser(RUN_DIR, 'ui-bench', { viewport: { width: 1400, height: 850 } });
  page = browser.page;
  page.setDefaultTimeout(20_000);
  try {
    await step('labct is listed in the Guests tree', async () => {
      await page.goto(URL, { timeout: 30_000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      const item = page.locator('.activitybar .action-item [aria-label^="Virtualization"], .activitybar .action-item[aria-label^="Virtualization"]').first();
      await item.waitFor({ timeout: 30_000 });
      await item.click();
      await row('labct').waitFor({ timeout: 30_000 });
      const labels = () => sidebar().locator('.monaco-list-row[role="treeitem"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || ''));
      for (let i = 0; i < 40 && (await labels()).some((l) => /\bconnecting\b/.test(l)); i++) await page.waitForTimeout(250);
      await page.waitForTimeout(1500);
    });

    await step('context menu "Run Benchmark…" on labct asks for the suites', async () => {
      const menu = page.locator('.context-view .monaco-menu');
      await row('labct').click({ button: 'right' });
      const entry = menu.locator('.action-item .action-label', { hasText: /^Run Benchmark…$/ }).first();
      await entry.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(200);
      await entry.click();
      const qi = page.locator('.quick-input-widget');
      await qi.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
      // a redrawn tree (lxc poll) can drop the node: the command then asks for guests first
      if (await qi.locator('.quick-input-title', { hasText: /^Run Benchmark: guests$/ }).isVisible().catch(() => false)) {
        log('the command asked for the guests (tree node was redrawn): picking labct');
        await qi.locator('.quick-input-list .monaco-list-row', { hasText: /^labct/ }).first().click();
        await qi.locator('.quick-input-action, .monaco-button', { hasText: /^OK$/ }).first().click();
      }
      await qi.locator('.quick-input-list .monaco-list-row', { hasText: 'fio 4k random read/write' }).first().waitFor({ timeout: 10_000 });
      await shot('08-bench-suites.png');
      await page.keyboard.press('Enter');
    });

    await step('progress shows the current step, then the Markdown report opens', async () => {
      const toast = page.locator('.notification-toast', { hasText: /Benchmark host, labct/ }).first();
      await toast.waitFor({ timeout: 20_000 });
      await shot('08-bench-progress.png');
      const tab = page.locator('.tabs-container .tab', { hasText: /network-disk-cpu-memory-on-host-labct/ }).first();
      await tab.waitFor({ timeout: 150_000 });
      log(`report tab: ${(await tab.innerText()).replace(/\s+/g, ' ')}`);
      // Monaco renders spaces as U+00A0: match with \s
      await page.locator('.editor-instance .view-lines', { hasText: /virtscope\sbenchmark:\snetwork,\sdisk,\scpu,\smemory\son\shost,\slabct/ }).first().waitFor({ timeout: 10_000 });
      await shot('08-bench-report.png');
    });

    await step('the report renders as a Markdown preview with the claims table', async () => {
      await page.locator('.editor-instance .view-lines').first().click();
      await page.keyboard.press('Control+Shift+V');
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      await frame.locator('h1', { hasText: 'virtscope benchmark: network, disk, cpu, memory on host, labct' }).waitFor({ timeout: 30_000 });
      await frame.locator('h2', { hasText: 'Results' }).evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot('08-bench-results.png');
      await frame.locator('h2', { hasText: "The seed's claims" }).evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot('08-bench-claims.png');
    });
  } finally {
    await browser.close();
  }
}

main()
  .catch((e) => {
    console.log(`  FAIL ui-bench run: ${e.message}`);
    results.push({ title: 'ui-bench run', ok: false });
  })
  .finally(() => {
    const passed = results.filter((r) => r.ok).length;
    console.log(`${passed} passed, ${results.length - passed} failed`);
    process.exit(passed === results.length && results.length > 0 ? 0 : 1);
  });
