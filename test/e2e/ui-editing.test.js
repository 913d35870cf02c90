// UI end-to-end test of editing a definition in the INSTALLED VSIX (code-server in headless
// Chromium, playwright-core; test/e2e/run.sh runs every test/e2e/ui*.test.js). On the test-driver
// domain "test": Edit Definition from the tree's context menu, the completion list after typing
// "<" in <devices>, a schema diagnostic (squiggle, hover, Problems), a rejected save that keeps the
// document dirty — then the document is reverted; the host's definition is checked unchanged.
// Env: CS_URL (workbench URL), RUN_DIR (scratch). Screenshots: test/e2e/screenshots/editing/.
// Every step counts as one test; the last line is `N passed, N failed`.
'use strict';
const { launchBrowser } = require('./browser');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const URL = process.env.CS_URL;
const RUN_DIR = process.env.RUN_DIR || require('os').tmpdir();
const SHOTS = path.join(__dirname, 'screenshots', 'editing');
const GUEST = 'test';
const t0 = Date.now();
const log = (...a) => console.log(`  [ui-editing ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const results = [];
let page;

const hostXml = () => execFileSync('virsh', ['-c', 'test+unix:///default', 'dumpxml', '--inactive', '--security-info', GUEST], { encoding: 'utf8', timeout: 10_000 });

async function shot(name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SHOTS, name) });
  log(`screenshot test/e2e/screenshots/editing/${name}`);
}

async function step(title, fn) {
  const s = Date.now();
  if (results.some((r) => !r.ok)) {
    results.push({ title, ok: false });
    console.log(`  FAIL ${title}: not run after an earlier failure`);
    return;
  }
  try {
    await fn();
    results.push({ title, ok: true });
    console.log(`  ok   ${title} (${Date.now() - s} ms)`);
  } catch (e) {
    results.push({ title, ok: false });
    console.log(`  FAIL ${title} (${Date.now() - s} ms)\n         ${String(e.message).split('\n').slice(0, 6).join('\n         ')}`);
    await page?.screenshot({ path: path.join(SHOTS, '99-failure.png') }).catch(() => {});
  }
}

const sidebar = () => page.locator('.part.sidebar');
const row = (name) => sidebar().locator(`.monaco-list-row[role="treeitem"][aria-label^="${name}, "]`).first();
const tab = () => page.locator('.tabs-container .tab', { hasText: `${GUEST}.xml` }).first();
const editorLines = () => page.locator('.editor-group-container .monaco-editor .view-lines').first();

async function command(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function main() {
  if (!URL) throw new Error('CS_URL is not set');
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.endsWith('.png')) fs.rmSync(path.join(SHOTS, f));
  const browser = await launchBrowser(RUN_DIR, 'ui-editing', { viewport: { width: 1400, height: 850 } });
  page = browser.page;
  page.setDefaultTimeout(20_000);
  let before;
  let dirtied = false;
  try {
    await step('Edit Definition from the context menu opens the host’s XML as a document', async () => {
      await page.goto(URL, { timeout: 30_000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.activitybar .action-item [aria-label^="Virtualization"], .activitybar .action-item[aria-label^="Virtualization"]').first().click({ timeout: 60_000 });
      await row(GUEST).waitFor({ timeout: 30_000 });
      before = hostXml();
      const menu = page.locator('.context-view .monaco-menu');
      await row(GUEST).click({ button: 'right' });
      const entry = menu.locator('.action-item .action-label', { hasText: /^Edit Definition$/ }).first();
      await entry.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(200);
      await entry.click();
      await tab().waitFor({ timeout: 15_000 });
      await editorLines().filter({ hasText: '<domain' }).waitFor({ timeout: 15_000 });
      const lang = await page.locator('.statusbar-item[id="status.editor.mode"]').innerText().catch(() => '?');
      if (!/XML/i.test(lang)) throw new Error(`language mode is "${lang}", expected XML`);
      await shot('01-edit-definition.png');
    });

    await step('typing "<" in <devices> shows the schema’s elements in the completion list', async () => {
      await page.locator('.editor-group-container .view-line', { hasText: '<devices>' }).first().click();
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      dirtied = true;
      await page.keyboard.type('<');
      const suggest = page.locator('.editor-widget.suggest-widget.visible');
      await suggest.waitFor({ timeout: 20_000 });
      await suggest.locator('.monaco-list-row', { hasText: /^\s*graphics/ }).first().waitFor({ timeout: 10_000 }).catch(async () => {
        await suggest.locator('.monaco-list-row').first().waitFor();
      });
      const labels = await suggest.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || e.textContent));
      log('completion rows:', JSON.stringify(labels.slice(0, 12)));
      if (!labels.some((l) => /\bdisk\b/.test(l)) && !labels.some((l) => /\bemulator\b|\bgraphics\b|\bcontroller\b/.test(l))) throw new Error(`no device elements in the list: ${labels.join(' | ')}`);
      await shot('02-completion.png');
    });

    await step('an element the schema does not allow gets a diagnostic (squiggle, hover, Problems)', async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.type('bogus/>');
      const squiggle = page.locator('.editor-group-container .squiggly-error').first();
      await squiggle.waitFor({ timeout: 20_000 });
      await page.keyboard.press('Control+Shift+M');
      const problem = page.locator('.markers-panel .monaco-list-row', { hasText: /bogus/ }).first();
      await problem.waitFor({ timeout: 15_000 });
      log('problem:', (await problem.innerText()).replace(/\s+/g, ' '));
      await page.locator('.editor-group-container .view-line span', { hasText: /^bogus/ }).first().hover();
      await page.locator('.monaco-hover', { hasText: /bogus/ }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(SHOTS, '03-diagnostic.png') });
      log('screenshot test/e2e/screenshots/editing/03-diagnostic.png');
    });

    await step('saving it: libvirt’s message, the document stays dirty, the host is unchanged', async () => {
      await page.locator('.editor-group-container .view-line', { hasText: '<domain' }).first().click();
      await page.keyboard.press('Control+S');
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /rejected|validate/i }).first();
      await toast.waitFor({ timeout: 20_000 });
      log('notification:', (await toast.innerText()).replace(/\s+/g, ' ').slice(0, 300));
      if (!(await page.locator('.tabs-container .tab.dirty', { hasText: `${GUEST}.xml` }).count())) throw new Error('the tab is not dirty after a rejected save');
      if (hostXml() !== before) throw new Error('the host definition changed');
      await shot('04-save-rejected.png');
    });
  } finally {
    if (dirtied) {
      await command('File: Revert File').catch((e) => log(`revert: ${e.message}`));
      await page.waitForTimeout(500);
    }
    try {
      if (before !== undefined && hostXml() !== before) {
        results.push({ title: 'the host definition of "test" is unchanged at the end', ok: false });
        console.log('  FAIL the host definition of "test" changed');
      }
    } catch (e) {
      log(`virsh: ${e.message}`);
    }
    await browser.close();
  }
}

main()
  .catch((e) => {
    results.push({ title: 'ui-editing run', ok: false });
    console.log(`  FAIL ${e.stack || e}`);
  })
  .finally(() => {
    const passed = results.filter((r) => r.ok).length;
    console.log(`${passed} passed, ${results.length - passed} failed`);
    process.exit(results.length && passed === results.length ? 0 : 1);
  });
