// UI end-to-end test of the metrics panels in the INSTALLED VSIX (code-server + headless Chromium):
// "Show Metrics" on labvm (host view and guest view side by side, live), Host Overview of
// qemu:///system (click a guest opens its panel), Observability and Compare Container vs VM from the
// palette. Screenshots: test/e2e/screenshots/metrics-*.png.
'use strict';
const { uiRun } = require('./ui-kit');

uiRun('ui-metrics', { settings: {} }, async ({ page, log, goto, step, shot, openGuests, contextMenu, command }) => {
  const frame = () => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  /** A virtscope command (or a Developer:/View: one) from the palette; `pick`: then the quick-pick row. */
  const palette = (title, pick) => command(/^(Developer|View):/.test(title) ? title : `virtscope: ${title}`, { match: title, pick });
  /** Points in the charts of one side, read from the chart roots' data-points. */
  const points = (side) => frame().locator(`#${side} .uplot`).evaluateAll((els) => els.map((e) => Number(e.dataset.points || 0)));

  await goto();
  await step('labvm is listed in the Guests tree', () => openGuests('labvm', { settle: 1000 }));

  await step('"Show Metrics" on labvm: host and guest charts fill with live data', async () => {
    await contextMenu('labvm', 'Show Metrics');
    const qi = page.locator('.quick-input-widget');
    if (await qi.isVisible().catch(() => false)) {
      log('the command asked for the guest (tree node was redrawn): picking labvm');
      await qi.locator('.quick-input-list .monaco-list-row', { hasText: /^labvm/ }).first().click();
    }
    await frame().locator('h1', { hasText: 'labvm — metrics' }).waitFor({ timeout: 20_000 });
    await frame().locator('#host-side .uplot').first().waitFor();
    for (let i = 0; i < 60; i++) {
      const h = await points('host-side');
      const g = await points('guest-side');
      if (Math.min(...h) >= 4 && Math.max(...g) >= 2) break;
      await page.waitForTimeout(500);
    }
    const h = await points('host-side');
    const g = await points('guest-side');
    log(`points: host ${h.join(',')} guest ${g.join(',')}`);
    if (Math.min(...h) < 3) throw new Error(`host-side charts did not fill: ${h}`);
    if (Math.max(...g) < 2) throw new Error(`guest-side charts did not fill (agent?): ${g}; note: ${await frame().locator('#guest-note').innerText()}`);
    const note = await frame().locator('#guest-note').innerText();
    if (!/qemu-guest-agent/.test(note)) throw new Error(`guest-side note: ${note}`);
    await shot('metrics-guest.png');
  });

  await step('time range selector: 1 min keeps the charts', async () => {
    await frame().locator('button[data-range="60"]').click();
    await page.waitForTimeout(1200);
    const h = await points('host-side');
    if (Math.min(...h) < 1 || Math.max(...h) > 62) throw new Error(`1 min range: ${h}`);
  });

  await step('Host Overview of qemu:///system: labvm row with live CPU; clicking it opens its panel', async () => {
    await palette('Host Overview', 'qemu:///system');
    await frame().locator('h1', { hasText: 'host overview' }).waitFor({ timeout: 20_000 });
    const cpu = frame().locator('#overview tr[data-guest] td.cpu').first();
    await cpu.waitFor({ timeout: 20_000 });
    for (let i = 0; i < 30 && /—/.test(await cpu.innerText()); i++) await page.waitForTimeout(500);
    if (/—/.test(await cpu.innerText())) throw new Error('no CPU value in the overview');
    await page.waitForTimeout(2500); // a few sparkline points
    await frame().locator('th[data-sort="name"]').click(); // sortable
    await shot('metrics-host.png');
    await frame().locator('#overview a.open', { hasText: 'labvm' }).click();
    await frame().locator('h1', { hasText: 'labvm — metrics' }).waitFor({ timeout: 15_000 });
  });

  await step('Observability: container processes vs QEMU process and vCPU threads', async () => {
    await palette('Observability: Container vs VM');
    await frame().locator('h1', { hasText: 'Observability from the host' }).waitFor({ timeout: 20_000 });
    await frame().locator('#obs-vm table.procs tr.vcpu').first().waitFor({ timeout: 20_000 });
    await frame().locator('#obs-container table.procs tr.process').first().waitFor({ timeout: 20_000 });
    await page.waitForTimeout(2500); // CPU % needs two reads
    await shot('metrics-observe.png');
  });

  await step('Compare Container vs VM: the seed rows with values, sources and verdicts', async () => {
    await palette('Compare Container vs VM');
    await frame().locator('h1', { hasText: 'Container vs KVM on this host' }).waitFor({ timeout: 20_000 });
    await frame().locator('#compare tr[data-row="cpu-alloc"]').waitFor({ timeout: 30_000 });
    // the guest-side rows fill in once both guest-side readings arrived
    for (let i = 0; i < 30 && /not measurable/.test(await frame().locator('#compare tr[data-row="os"]').innerText()); i++) await page.waitForTimeout(1000);
    const n = await frame().locator('#compare tr[data-row]').count();
    if (n !== 14) throw new Error(`expected 14 rows (12 table rows + 2 claims), got ${n}`);
    await shot('metrics-compare.png');
  });

  await step('after "Developer: Reload Window" the comparison panel is restored (serializer + setState) and fills again', async () => {
    await palette('Developer: Reload Window');
    await page.waitForTimeout(3000);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.tabs-container .tab', { hasText: 'Compare Container vs VM' }).first().waitFor({ timeout: 60_000 });
    await frame().locator('h1', { hasText: 'Container vs KVM on this host' }).waitFor({ timeout: 60_000 });
    await frame().locator('#compare tr[data-row="cpu-alloc"]').waitFor({ timeout: 30_000 });
    await shot('metrics-restored.png');
  });

  await step('closing the panels (the next UI test starts without restored metrics panels)', async () => {
    await palette('View: Close All Editors');
    await page.locator('.tabs-container .tab', { hasText: 'Compare Container vs VM' }).first().waitFor({ state: 'detached', timeout: 10_000 });
  });
});
