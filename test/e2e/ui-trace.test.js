// UI end-to-end test of "Trace virtio-net TX Path…" in the INSTALLED VSIX (code-server + headless
// Chromium, like ui.test.js): right-click labvm → the command → built-in iperf3 workload → 3 s →
// the report opens as a Markdown preview. Screenshots: test/e2e/screenshots/06/07-trace-*.png.
// virtscope.hostNetworkNamespace is set to the lab's netns so the host iperf3 server runs inside it.
'use strict';
const { uiRun } = require('./ui-kit');

uiRun('ui-trace', { settings: { 'virtscope.hostNetworkNamespace': 'virtscope-lab' } }, async ({ page, log, goto, step, shot, openGuests, contextMenu }) => {
  await goto();
  await step('labvm is listed in the Guests tree', () => openGuests('labvm'));

  await step('context menu "Trace virtio-net TX Path…" on labvm asks workload and duration', async () => {
    await contextMenu('labvm', 'Trace virtio-net TX Path…');
    const qi = page.locator('.quick-input-widget');
    const rows = qi.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 10_000 });
    // the tree may have been redrawn between the right-click and the menu click (the lxc poll):
    // VS Code then runs the command without the node and the command asks for the guest
    if (
      await qi
        .locator('.quick-input-title', { hasText: /^Trace virtio-net TX Path$/ })
        .isVisible()
        .catch(() => false)
    ) {
      log('the command asked for the guest (tree node was redrawn): picking labvm');
      await rows
        .filter({ hasText: /^labvm/ })
        .first()
        .click();
    }
    const iperf = qi.locator('.quick-input-list .monaco-list-row', { hasText: 'iperf3 from the guest to the host' }).first();
    await iperf.waitFor({ timeout: 10_000 });
    await shot('06-trace-workload.png');
    await iperf.click();
    const input = qi.locator('input.input');
    await qi.locator('.quick-input-title', { hasText: /duration/ }).waitFor({ timeout: 10_000 });
    await input.fill('3');
    await input.press('Enter');
  });

  await step('the trace runs with progress and the report opens as a Markdown preview', async () => {
    await page
      .locator('.notifications-toasts, .notification-toast', { hasText: /Tracing virtio-net TX of labvm/ })
      .first()
      .waitFor({ timeout: 20_000 })
      .catch(() => log('no progress toast seen'));
    const tab = page.locator('.tabs-container .tab', { hasText: /trace-labvm-/ }).first();
    await tab.waitFor({ timeout: 120_000 });
    log(`report tab: ${(await tab.innerText()).replace(/\s+/g, ' ')}`);
    // the preview renders inside a webview iframe
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('h1', { hasText: 'virtio-net TX trace: labvm' }).waitFor({ timeout: 30_000 });
    await frame.locator('table').first().waitFor();
    await shot('06-trace-report.png');
    await frame.locator('h2', { hasText: 'with the measured counts' }).evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await shot('07-trace-diagram.png');
  });
});
