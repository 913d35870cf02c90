// UI end-to-end test of the INSTALLED VSIX in a real VS Code (code-server, no smoke-test driver),
// driven with playwright-core in headless Chromium. test/e2e/run.sh starts the server and runs this
// with NODE_PATH pointing at the installed playwright-core. Env:
//   CS_URL     workbench URL (http://127.0.0.1:<port>/?folder=…)
//   RUN_DIR    scratch dir (browser profile)
//   UI_GUEST   guest to force off / start (default: the first running of labct, labvlxc, test)
// Every step counts as one test; the last line is `N passed, N failed`. Screenshots and the browser
// console go to test/e2e/screenshots/.
'use strict';
const { uiRun } = require('./ui-kit');
const { execFileSync } = require('child_process');

const LAB_GUESTS = ['labvm', 'labvlxc', 'labct', 'labpod'];
const LAB_HINT = "the lab's guests are not up: run `bash scripts/lab.sh up` first";
// Where each candidate for the stop/start steps lives, to put it back if the UI could not.
const RESTORE = {
  labct: ['lxc-start', ['-n', 'labct']],
  labvlxc: ['virsh', ['-c', 'lxc:///system', 'start', 'labvlxc']],
  test: ['virsh', ['-c', 'test+unix:///default', 'start', 'test']],
};

// clears screenshots/ (run.sh runs this test first); the browser console goes to screenshots/console.log
const opts = { clearShots: true, mouse: [900, 600], failureShot: '99-failure.png', consoleLog: true };
uiRun('ui', opts, async ({ page, log, goto, step, shot, sidebar, row, activityItem, treeLabels, contextMenu }) => {
  async function iconOf(name) {
    const cls =
      (await row(name)
        .locator('.custom-view-tree-node-item-icon')
        .getAttribute('class')
        .catch(() => '')) || '';
    return (cls.match(/codicon-(vm-running|vm-outline|debug-pause|loading|error|question)\b/) || [undefined, cls])[1];
  }

  let guest; // the guest the stop/start steps use
  let stopped = false;
  try {
    await step('opens the workbench', async () => {
      await goto();
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.activitybar .action-item').first().waitFor({ timeout: 60_000 });
      // the extension's activity-bar item appears once the installed VSIX is scanned
      await activityItem().waitFor({ timeout: 30_000 });
      await shot('01-workbench.png');
    });

    await step(
      'the "Virtualization" activity-bar item shows the Guests tree',
      async () => {
        await activityItem().click();
        // one view in the container: its header is folded into the title "Virtualization: Guests"
        await sidebar()
          .locator('.composite.title', { hasText: /Virtualization/i })
          .first()
          .waitFor();
        const title = (await sidebar().locator('.composite.title').first().innerText()).trim();
        if (!/Guests/i.test(title)) throw new Error(`side bar title is "${title}"`);
        await sidebar().locator('.monaco-list-row[role="treeitem"]').first().waitFor({ timeout: 30_000 });
      },
      ['opens the workbench'],
    );

    await step(
      'the tree lists labvm, labvlxc, labct, labpod and test',
      async () => {
        const want = [...LAB_GUESTS, 'test'];
        const end = Date.now() + 30_000;
        let missing = want;
        while (Date.now() < end) {
          missing = [];
          for (const n of want)
            if (
              !(await row(n)
                .isVisible()
                .catch(() => false))
            )
              missing.push(n);
          if (!missing.length) break;
          await page.waitForTimeout(250);
        }
        // let the connection rows settle ("connecting" → "N guests") before the picture
        for (let i = 0; i < 20 && (await treeLabels()).some((l) => /\bconnecting\b/.test(l)); i++) await page.waitForTimeout(250);
        const rows = await treeLabels();
        log('tree rows:', JSON.stringify(rows));
        await shot('02-tree.png');
        if (missing.length) {
          const lab = missing.filter((n) => LAB_GUESTS.includes(n));
          throw new Error(`not in the tree: ${missing.join(', ')}${lab.length ? ` — ${LAB_HINT}` : ''}`);
        }
      },
      ['the "Virtualization" activity-bar item shows the Guests tree'],
    );

    const offTitle = 'context menu "Force Off" + modal confirmation stops the guest (icon vm-outline)';
    await step(offTitle, async () => {
      const candidates = process.env.UI_GUEST ? [process.env.UI_GUEST] : ['labct', 'labvlxc', 'test'];
      for (const n of candidates) {
        if (
          (await row(n)
            .isVisible()
            .catch(() => false)) &&
          (await iconOf(n)) === 'vm-running'
        ) {
          guest = n;
          break;
        }
      }
      if (!guest) throw new Error(`none of ${candidates.join(', ')} is listed as running — ${LAB_HINT}`);
      log(`stop/start guest: ${guest}${guest === 'test' ? ' (no lab guest running: using the test driver domain)' : ''}`);
      await contextMenu(guest, 'Force Off');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 10_000 });
      const text = await dialog.innerText();
      if (!text.includes(`Force off "${guest}"?`)) throw new Error(`unexpected dialog text: ${text}`);
      await dialog.locator('.monaco-button', { hasText: /^Force Off$/ }).click();
      stopped = true;
      await row(guest).locator('.codicon-vm-outline').waitFor({ timeout: 30_000 });
      log(`${guest} row: ${await row(guest).getAttribute('aria-label')}`);
      await shot('03-stopped.png');
    }, ['the "Virtualization" activity-bar item shows the Guests tree']);

    await step(
      'context menu "Start" starts it again (icon vm-running)',
      async () => {
        await contextMenu(guest, 'Start');
        await row(guest).locator('.codicon-vm-running').waitFor({ timeout: 60_000 });
        stopped = false;
        log(`${guest} row: ${await row(guest).getAttribute('aria-label')}`);
        await shot('04-started.png');
      },
      [offTitle],
    );

    await step(
      'context menu "Inspect Definition" on labvm opens its domain XML',
      async () => {
        if (
          !(await row('labvm')
            .isVisible()
            .catch(() => false))
        )
          throw new Error(`labvm is not in the tree — ${LAB_HINT}`);
        await contextMenu('labvm', 'Inspect Definition');
        const tab = page.locator('.tabs-container .tab', { hasText: 'labvm.xml' }).first();
        await tab.waitFor({ timeout: 15_000 });
        const editor = page.locator('.editor-group-container .monaco-editor .view-lines').first();
        await editor.filter({ hasText: '<domain' }).waitFor({ timeout: 15_000 });
        const first = (await editor.innerText()).split('\n')[0].replace(/\u00a0/g, ' ');
        log(`editor tab "${(await tab.innerText()).replace(/\s+/g, '')}", first line: ${first}`);
        const lang = await page
          .locator('.statusbar-item[id="status.editor.mode"]')
          .innerText()
          .catch(() => '?');
        if (!/XML/i.test(lang)) throw new Error(`language mode is "${lang}", expected XML`);
        await shot('05-inspect.png');
      },
      ['the "Virtualization" activity-bar item shows the Guests tree'],
    );
  } finally {
    if (stopped && guest && RESTORE[guest]) {
      const [cmd, args] = RESTORE[guest];
      log(`putting ${guest} back: ${cmd} ${args.join(' ')}`);
      try {
        execFileSync(cmd, args, { timeout: 30_000, stdio: 'inherit' });
      } catch (e) {
        log(`could not restart ${guest} (${e.message}); run \`bash scripts/lab.sh up\``);
      }
    }
  }
});
