// UI end-to-end test of the ways into a guest in the INSTALLED VSIX (code-server in headless Chromium,
// playwright-core; test/e2e/run.sh runs every test/e2e/ui*.test.js): Open Console on labvm from the
// tree's context menu — a typed command reaches the guest's serial console (checked in the serial log
// libvirt keeps, /run/virtscope-lab/labvm-serial.log, since the terminal draws on a canvas) — and
// Open Shell in labpod, whose typed command leaves a file the test reads with podman and removes;
// Show Guest Log on labvm opens libvirt's log of it.
// Env: CS_URL, RUN_DIR. Screenshots: test/e2e/screenshots/console/. Last line: `N passed, N failed`.
'use strict';
const { uiRun } = require('./ui-kit');
const { execFileSync } = require('child_process');
const fs = require('fs');

const SERIAL_LOG = '/run/virtscope-lab/labvm-serial.log';
const MARK = `vs-e2e-${process.pid}`;
const serialLog = () => (fs.existsSync(SERIAL_LOG) ? fs.readFileSync(SERIAL_LOG, 'utf8') : '');
const podman = (...args) => execFileSync('podman', ['--url', 'unix:///run/podman/podman.sock', ...args], { encoding: 'utf8', timeout: 20_000, stdio: 'pipe' });

async function until(page, cond, what, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await page.waitForTimeout(250);
  }
}

const opts = { shots: 'console', clearShots: true, failureShot: '99-failure.png' };
uiRun('ui-console', opts, async ({ page, log, goto, step, shot, openGuests, contextMenu }) => {
  const terminalTab = (name) => page.locator('.terminal-tabs-entry, .single-terminal-tab, .tabs-list .monaco-list-row', { hasText: name }).first();
  const terminal = () => page.locator('.terminal-wrapper.active .xterm, .integrated-terminal .xterm').first();

  await step('Open Console on labvm from the context menu: a terminal named after the guest', async () => {
    await goto();
    await openGuests('labvm');
    await contextMenu('labvm', 'Open Console');
    await terminal().waitFor({ timeout: 20_000 });
    await terminalTab('Console: labvm')
      .waitFor({ timeout: 10_000 })
      .catch(() => log('terminal tab label not found (single terminal view)'));
  });

  await step("a command typed into it runs on the guest's serial console", async () => {
    await terminal().click();
    await page.waitForTimeout(1500); // the console stream opens after the terminal
    await page.keyboard.press('Enter');
    await page.keyboard.type(`echo ${MARK}-$((6*7))`);
    await page.keyboard.press('Enter');
    await until(page, async () => serialLog().includes(`${MARK}-42`), `"${MARK}-42" in ${SERIAL_LOG}`);
    await page.waitForTimeout(1000);
    await shot('01-console.png');
  });

  await step('closing the console terminal gives the console back (virsh console can take it)', async () => {
    await page.keyboard.press('F1');
    await page.keyboard.type('>Terminal: Kill the Active Terminal Instance');
    await page.waitForTimeout(400);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(2000);
    // the stream was finished: a safe open by another client now succeeds
    // (virsh console wants a terminal: script gives it one; stdin at EOF ends it at once)
    const out = execFileSync('sh', ['-c', 'timeout 6 script -qec "virsh -c qemu:///system console --safe labvm" /dev/null < /dev/null 2>&1 || true'], {
      encoding: 'utf8',
    });
    if (!/Connected to domain/.test(out)) throw new Error(`virsh console could not take the console: ${out.trim()}`);
  });

  await step('Open Shell in labpod: a typed command runs inside the container', async () => {
    await contextMenu('labpod', 'Open Shell');
    await terminal().waitFor({ timeout: 20_000 });
    await terminal().click();
    await page.waitForTimeout(2000);
    await page.keyboard.type(`echo ${MARK} > /tmp/${MARK}; stty size`);
    await page.keyboard.press('Enter');
    await until(
      page,
      async () => {
        try {
          return podman('exec', 'labpod', 'cat', `/tmp/${MARK}`).includes(MARK);
        } catch {
          return false;
        }
      },
      'the file the shell wrote',
    );
    await page.waitForTimeout(1000);
    await shot('02-shell.png');
  });
  await step("Show Guest Log on labvm: libvirt's log of the domain as a read-only document", async () => {
    await contextMenu('labvm', 'Show Guest Log');
    await page.locator('.tabs-container .tab', { hasText: 'labvm.log' }).first().waitFor({ timeout: 15_000 });
    await page
      .locator('.editor-group-container .view-lines', { hasText: /qemu|QEMU|starting up/ })
      .first()
      .waitFor({ timeout: 15_000 });
    await shot('03-log.png');
  });

  try {
    podman('exec', 'labpod', 'rm', '-f', `/tmp/${MARK}`);
  } catch {
    /* the container is gone */
  }
});
