// UI end-to-end test of the metrics panels in the INSTALLED VSIX (code-server + headless Chromium):
// "Show Metrics" on labvm (host view and guest view side by side, live), Host Overview of
// qemu:///system (click a guest opens its panel), Observability and Compare Container vs VM from the
// palette; then "Run Benchmark…" (cpu, memory) on labvm and labct from the palette while the comparison
// stays open beside the report, whose benchmark rows fill in from the new report by themselves.
// Screenshots: test/e2e/screenshots/metrics-*.png.
// SETTINGS_FILE: virtscope.benchmark.seconds = 1 (a short sysbench run per suite and target).
'use strict';
const fs = require('fs');
const path = require('path');
const { uiRun } = require('./ui-kit');

const settings = { 'virtscope.benchmark.seconds': 1 };
uiRun('ui-metrics', { settings }, async ({ page, log, goto, step, shot, openGuests, contextMenu, command, openPalette }) => {
  const frame = () => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  /** A virtscope command (or a Developer:/View:/File: one) from the palette; `pick`: then the quick-pick row. */
  const palette = (title, pick) => command(/^(Developer|View|File):/.test(title) ? title : `virtscope: ${title}`, { match: title, pick });
  /** Points in the charts of one side, read from the chart roots' data-points. */
  const points = (side) =>
    frame()
      .locator(`#${side} .uplot`)
      .evaluateAll((els) => els.map((e) => Number(e.dataset.points || 0)));

  await goto();
  await step('labvm is listed in the Guests tree', () => openGuests('labvm', { settle: 1000 }));

  await step('"Show Metrics" on labvm: host and guest charts fill with live data', async () => {
    await contextMenu('labvm', 'Show Metrics');
    const qi = page.locator('.quick-input-widget');
    if (await qi.isVisible().catch(() => false)) {
      log('the command asked for the guest (tree node was redrawn): picking labvm');
      await qi
        .locator('.quick-input-list .monaco-list-row', { hasText: /^labvm/ })
        .first()
        .click();
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

  await step("Compare Container vs VM: the table's rows with values, sources and verdicts", async () => {
    await palette('Compare Container vs VM');
    await frame().locator('h1', { hasText: 'Container vs KVM on this host' }).waitFor({ timeout: 20_000 });
    await frame().locator('#compare tr[data-row="cpu-alloc"]').waitFor({ timeout: 30_000 });
    // the guest-side rows fill in once both guest-side readings arrived
    for (let i = 0; i < 30 && /not measurable/.test(await frame().locator('#compare tr[data-row="os"]').innerText()); i++) await page.waitForTimeout(1000);
    const n = await frame().locator('#compare tr[data-row]').count();
    if (n !== 14) throw new Error(`expected 14 rows (12 table rows + 2 claims), got ${n}`);
    await shot('metrics-compare.png');
  });

  // ---- the comparison filled from a benchmark report written while it is open ------------------
  const table = () => frame().locator('#compare');
  /** The container (3rd) or VM (5th) cell of a row: its value line and its source line. */
  const cell = async (row, side) => {
    const td = frame().locator(`#compare tr[data-row="${row}"] td:nth-child(${side === 'container' ? 3 : 5})`);
    return {
      value: await td.locator('div').first().innerText(),
      src: await td.locator('div.src').getAttribute('class'),
      source: await td.locator('div.src').innerText(),
    };
  };
  const BENCH_ROWS = { 'cpu-perf': ['cpu.eventsPerSec', 'sysbench cpu'], 'mem-access': ['memory.bandwidth', 'sysbench memory'] };
  const qi = page.locator('.quick-input-widget');
  /** The quick-pick row whose label is exactly `label` (its description and detail aside). */
  const qiItem = (label) =>
    qi
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
      .first();
  /** A command whose palette label is exactly `title` (typed, a similar one could rank first). */
  const paletteExact = async (title) => {
    await openPalette(`>${title}`);
    await qiItem(title).click();
  };
  /** What the panel must show for a figure of the report: its factor against the report's host figure. */
  const reportDir = path.join(new URL(process.env.CS_URL).searchParams.get('folder'), '.virtscope', 'reports');
  const expectedVsHost = (report, target, metric) => {
    const of = (t) => report.measurements.find((m) => m.target === t && m.metric === metric)?.value;
    const v = of(target);
    const h = of('host');
    if (!(v > 0) || !(h > 0)) throw new Error(`the report has no ${metric} for ${target} and the host`);
    const s = h / v; // events/s and MiB/s: higher is better
    return s >= 1 ? `${s.toFixed(2)}× slower than the host` : `${(1 / s).toFixed(2)}× faster than the host`;
  };
  let reportName;

  await step('Compare Container vs VM: labct and labvm picked; labvm has no benchmark figures yet', async () => {
    await page.locator('.tabs-container .tab', { hasText: 'Compare Container vs VM' }).first().click();
    for (const [side, guest] of [
      ['container', 'labct'],
      ['vm', 'labvm'],
    ]) {
      const sel = frame().locator(`#pick-${side}`);
      const key = await sel.evaluate((s, g) => [...s.options].find((o) => o.text.startsWith(`${g} (`))?.value, guest);
      if (!key) throw new Error(`${guest} is not offered in the ${side} picker: ${await sel.innerText()}`);
      await sel.selectOption(key);
      // the rows are rebuilt for the picked guest at once (not after the 3 s throttle)
      await frame().locator(`#compare[data-${side}="${key}"] tr[data-row="cpu-perf"]`).waitFor({ timeout: 5_000 });
    }
    for (const row of Object.keys(BENCH_ROWS)) {
      const c = await cell(row, 'vm');
      if (/src-benchmark/.test(c.src)) throw new Error(`labvm's ${row} is already from a benchmark report before the run: ${c.value}`);
    }
    log(`before: report ${(await table().getAttribute('data-report')) || 'none'}; labvm mem-access: ${(await cell('mem-access', 'vm')).source}`);
  });

  await step('the comparison moves to its own editor group, beside where the report will open', async () => {
    // only one webview visible at a time (frame() is the visible one): a text editor stays on the left
    await palette('View: Close Other Editors in Group');
    await paletteExact('File: New Untitled Text File');
    await page.locator('.tabs-container .tab', { hasText: 'Compare Container vs VM' }).first().click();
    await frame().locator('#compare tr[data-row="cpu-perf"]').waitFor({ timeout: 20_000 });
    await palette('View: Move Editor into Right Group');
    await frame().locator('#compare tr[data-row="cpu-perf"]').waitFor({ timeout: 20_000 }); // the moved webview reloads
    await palette('View: Focus First Editor Group');
    await page.waitForTimeout(300);
  });

  await step('"Run Benchmark…" from the palette: labvm and labct picked, suites cpu and memory; the report opens', async () => {
    await paletteExact('virtscope: Run Benchmark…'); // typed, "Re-run Benchmark…" can rank first
    await qi.locator('.quick-input-title', { hasText: /^Run Benchmark: guests$/ }).waitFor({ timeout: 10_000 });
    for (const g of ['labvm', 'labct']) await qiItem(g).click();
    const checked = await qi
      .locator('.quick-input-list .monaco-list-row[aria-checked="true"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    log(`guests picked: ${checked.join(' | ')}`);
    await page.keyboard.press('Enter');
    await qi.locator('.quick-input-title', { hasText: /^Run Benchmark on host, / }).waitFor({ timeout: 10_000 });
    const title = await qi.locator('.quick-input-title').innerText();
    if (!/labvm/.test(title) || !/labct/.test(title)) throw new Error(`suites asked for: ${title}`);
    for (const x of ['network', 'disk']) await qiItem(x).click(); // all suites start picked
    const suites = await qi
      .locator('.quick-input-list .monaco-list-row[aria-checked="true"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    log(`suites picked: ${suites.join(' | ')}`);
    await page.keyboard.press('Enter');
    const tab = page.locator('.tabs-container .tab', { hasText: /-cpu-memory-on-host-/ }).first();
    await tab.waitFor({ timeout: 120_000 });
    reportName = (await tab.innerText()).replace(/\s+/g, '').replace(/\.md$/, '.json');
    log(`report tab: ${reportName}`);
    if (!/labvm/.test(reportName) || !/labct/.test(reportName)) throw new Error(`the report is not of labvm and labct: ${reportName}`);
  });

  await step('the open comparison picks up the new report: CPU performance and memory access from the benchmark', async () => {
    // no click on the panel: it stayed visible beside the report and refreshes itself
    await frame().locator(`#compare[data-report="${reportName}"] tr[data-row="mem-access"]`).waitFor({ timeout: 15_000 });
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, reportName), 'utf8'));
    for (const [row, [metric, tool]] of Object.entries(BENCH_ROWS)) {
      for (const [side, guest] of [
        ['container', 'labct'],
        ['vm', 'labvm'],
      ]) {
        const c = await cell(row, side);
        log(`${row} ${side}: ${c.value} — ${c.source}`);
        if (!/src-benchmark/.test(c.src) || !c.source.includes(reportName))
          throw new Error(`${row} ${side} is not from ${reportName}: ${c.value} — ${c.source}`);
        const want = `${expectedVsHost(report, guest, metric)} (${tool})`;
        if (c.value !== want) throw new Error(`${row} ${side}: "${c.value}", the report says "${want}"`);
      }
      const holds = frame().locator(`#compare tr[data-row="${row}"] td.holds`);
      const why = await holds.locator('.why').innerText();
      if (/holds-unknown/.test(await holds.getAttribute('class')) || !/VM .*\d\.\d\d×/.test(why)) throw new Error(`${row}: no verdict from the report: ${why}`);
      if (await holds.locator('a', { hasText: 'Run Benchmark…' }).count()) throw new Error(`${row} still offers to run a benchmark`);
    }
    const sub = await frame().locator('#cmp-sub').innerText();
    if (!sub.includes(reportName)) throw new Error(`subtitle: ${sub}`);
  });

  await step('the comparison full width again shows the benchmark-backed rows', async () => {
    await palette('View: Join All Editor Groups');
    await page.locator('.tabs-container .tab', { hasText: 'Compare Container vs VM' }).first().click();
    await frame().locator(`#compare[data-report="${reportName}"] tr[data-row="mem-access"] td .src-benchmark`).first().waitFor({ timeout: 15_000 });
    await shot('metrics-compare-bench.png');
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
