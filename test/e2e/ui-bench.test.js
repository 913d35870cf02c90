// UI end-to-end test of "Run Benchmark…" in the INSTALLED VSIX (code-server + headless Chromium, like
// ui.test.js): right-click labct → Run Benchmark… → suites (all) → cancellable progress → the Markdown
// report opens as an editor. Screenshots: test/e2e/screenshots/08-bench-*.png.
// Env: CS_URL, RUN_DIR (as ui.test.js); SETTINGS_FILE: virtscope.hostNetworkNamespace is set to the
// lab's netns (host iperf3/sockperf servers for guests run inside it) and virtscope.benchmark.seconds to 1.
'use strict';
const { uiRun } = require('./ui-kit');

const settings = { 'virtscope.hostNetworkNamespace': 'virtscope-lab', 'virtscope.benchmark.seconds': 1, 'virtscope.benchmark.diskSizeMiB': 16 };
uiRun('ui-bench', { settings, failureShot: '99-bench-failure.png' }, async ({ page, log, goto, step, shot, openGuests, contextMenu }) => {
  await step('labct is listed in the Guests tree', async () => {
    await goto();
    await openGuests('labct');
  });

  await step('context menu "Run Benchmark…" on labct asks for the suites', async () => {
    await contextMenu('labct', 'Run Benchmark…');
    const qi = page.locator('.quick-input-widget');
    await qi.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
    // a redrawn tree (lxc poll) can drop the node: the command then asks for guests first
    if (
      await qi
        .locator('.quick-input-title', { hasText: /^Run Benchmark: guests$/ })
        .isVisible()
        .catch(() => false)
    ) {
      log('the command asked for the guests (tree node was redrawn): picking labct');
      await qi
        .locator('.quick-input-list .monaco-list-row', { hasText: /^labct/ })
        .first()
        .click();
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
    await page
      .locator('.editor-instance .view-lines', { hasText: /virtscope\sbenchmark:\snetwork,\sdisk,\scpu,\smemory\son\shost,\slabct/ })
      .first()
      .waitFor({ timeout: 10_000 });
    await shot('08-bench-report.png');
  });

  await step('the report renders as a Markdown preview with the claims table', async () => {
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+Shift+V');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('h1', { hasText: 'virtscope benchmark: network, disk, cpu, memory on host, labct' }).waitFor({ timeout: 30_000 });
    await frame.locator('h2', { hasText: 'Results' }).evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await shot('08-bench-results.png');
    await frame.locator('h2', { hasText: "The container-vs-KVM table's claims" }).evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await shot('08-bench-claims.png');
  });
});
