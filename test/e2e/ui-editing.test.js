// UI end-to-end test of editing a definition in the INSTALLED VSIX (code-server in headless
// Chromium, playwright-core; test/e2e/run.sh runs every test/e2e/ui*.test.js). On the test-driver
// domain "test": Edit Definition from the tree's context menu, the completion list after typing
// "<" in <devices>, a schema diagnostic (squiggle, hover, Problems), a rejected save that keeps the
// document dirty — then the document is reverted; the host's definition is checked unchanged.
// Env: CS_URL (workbench URL), RUN_DIR (scratch). Screenshots: test/e2e/screenshots/editing/.
// Every step counts as one test; the last line is `N passed, N failed`.
'use strict';
const { uiRun } = require('./ui-kit');
const { execFileSync } = require('child_process');

const GUEST = 'test';
const hostXml = () =>
  execFileSync('virsh', ['-c', 'test+unix:///default', 'dumpxml', '--inactive', '--security-info', GUEST], { encoding: 'utf8', timeout: 10_000 });

// pictures in screenshots/editing/ (cleared first), taken where the pointer is (the hover is part of 03)
const opts = { shots: 'editing', clearShots: true, mouse: null, failureShot: '99-failure.png' };
uiRun('ui-editing', opts, async ({ page, log, goto, step, fail, shot, openGuests, contextMenu, command }) => {
  const tab = () => page.locator('.tabs-container .tab', { hasText: `${GUEST}.xml` }).first();
  const editorLines = () => page.locator('.editor-group-container .monaco-editor .view-lines').first();

  let before;
  let dirtied = false;
  try {
    await step('Edit Definition from the context menu opens the host’s XML as a document', async () => {
      await goto();
      await openGuests(GUEST, { settle: false });
      before = hostXml();
      await contextMenu(GUEST, 'Edit Definition');
      await tab().waitFor({ timeout: 15_000 });
      await editorLines().filter({ hasText: '<domain' }).waitFor({ timeout: 15_000 });
      const lang = await page
        .locator('.statusbar-item[id="status.editor.mode"]')
        .innerText()
        .catch(() => '?');
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
      await suggest
        .locator('.monaco-list-row', { hasText: /^\s*graphics/ })
        .first()
        .waitFor({ timeout: 10_000 })
        .catch(async () => {
          await suggest.locator('.monaco-list-row').first().waitFor();
        });
      const labels = await suggest.locator('.monaco-list-row').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || e.textContent));
      log('completion rows:', JSON.stringify(labels.slice(0, 12)));
      if (!labels.some((l) => /\bdisk\b/.test(l)) && !labels.some((l) => /\bemulator\b|\bgraphics\b|\bcontroller\b/.test(l)))
        throw new Error(`no device elements in the list: ${labels.join(' | ')}`);
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
      await page
        .locator('.editor-group-container .view-line span', { hasText: /^bogus/ })
        .first()
        .hover();
      await page.locator('.monaco-hover', { hasText: /bogus/ }).first().waitFor({ timeout: 10_000 });
      await shot('03-diagnostic.png');
    });

    await step('saving it: libvirt’s message, the document stays dirty, the host is unchanged', async () => {
      await page.locator('.editor-group-container .view-line', { hasText: '<domain' }).first().click();
      await page.keyboard.press('Control+S');
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /rejected|validate/i }).first();
      await toast.waitFor({ timeout: 20_000 });
      log('notification:', (await toast.innerText()).replace(/\s+/g, ' ').slice(0, 300));
      if (!(await page.locator('.tabs-container .tab.dirty', { hasText: `${GUEST}.xml` }).count()))
        throw new Error('the tab is not dirty after a rejected save');
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
        fail('the host definition of "test" is unchanged at the end', 'the host definition of "test" changed');
      }
    } catch (e) {
      log(`virsh: ${e.message}`);
    }
  }
});
