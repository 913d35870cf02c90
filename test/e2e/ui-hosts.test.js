// UI end-to-end test of remote hosts in the INSTALLED VSIX (code-server + headless Chromium, like
// ui.test.js): "Add Host…" from the palette takes user@host[:port]; the host becomes a top-level node
// beside "This machine"; one that cannot be reached (a closed port on loopback) shows SSH's own reason,
// while this machine's guests stay as they were; "Remove Host…" asks first and removes only the entry;
// a benchmark of a guest of the lab's second host runs there, and its report names that host.
// Screenshots: test/e2e/screenshots/hosts/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { uiRun } = require('./ui-kit');

const HOST = 'root@127.0.0.1:1';
// the lab's second host (scripts/lab/ssh-host.sh): its own ssh config, as a user's ~/.ssh/config would be
const LAB_SSH_CONFIG = `${process.env.VIRTSCOPE_SSHHOST_STATE || '/var/lib/virtscope-sshhost'}/client/ssh_config`;

/** Whatever a step left, the next UI test starts without remote hosts. */
async function forgetHosts() {
  if (!process.env.SETTINGS_FILE) return;
  const file = path.join(path.dirname(path.dirname(process.env.SETTINGS_FILE)), 'Machine', 'settings.json');
  const current = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  fs.writeFileSync(file, JSON.stringify({ ...current, 'virtscope.hosts': [] }, null, 2));
}

const opts = {
  settings: { 'virtscope.hosts': [], 'virtscope.benchmark.seconds': 1 },
  machineSettings: { 'virtscope.hosts': [], 'virtscope.ssh.configFile': LAB_SSH_CONFIG },
  shots: 'hosts',
  clearShots: true,
  after: forgetHosts,
};
uiRun('ui-hosts', opts, async ({ page, log, goto, step, shot, row, openGuests, command, contextMenu, treeLabels }) => {
  await goto();
  await step('labvm is listed under This machine', async () => {
    await openGuests('labvm');
    const rows = await treeLabels();
    if (!rows.some((l) => /^This machine, \d+ connections?$/.test(l))) throw new Error(`no "This machine" row: ${JSON.stringify(rows)}`);
  });

  await step(`"Add Host…" from the palette takes ${HOST}`, async () => {
    await command('virtscope: Add Host…', { match: 'Add Host' });
    const qi = page.locator('.quick-input-widget');
    const enter = qi.locator('.quick-input-list .monaco-list-row', { hasText: 'Enter user@host[:port]' }).first();
    await enter.waitFor({ timeout: 10_000 });
    await shot('01-add-host-pick.png');
    await enter.click();
    await qi.locator('.quick-input-title', { hasText: /user@host\[:port\]/ }).waitFor({ timeout: 10_000 });
    const input = qi.locator('input.input');
    await input.fill(HOST);
    await input.press('Enter');
  });

  await step("the host is a top-level node, unreachable with SSH's own reason; this machine is unaffected", async () => {
    await row(HOST).waitFor({ timeout: 20_000 });
    const reason = page.locator('.part.sidebar .monaco-list-row[role="treeitem"]', { hasText: /Connection refused/ }).first();
    await reason.waitFor({ timeout: 30_000 });
    const rows = await treeLabels();
    log('tree rows:', JSON.stringify(rows));
    if (!rows.some((l) => l.startsWith(HOST) && /unreachable/.test(l))) throw new Error(`the host row is not "unreachable": ${JSON.stringify(rows)}`);
    if (
      !(await row('labvm')
        .isVisible()
        .catch(() => false))
    )
      throw new Error('labvm is no longer listed');
    await shot('02-host-unreachable.png');
  });

  await step('"Remove Host…" asks first, then the host is gone', async () => {
    await contextMenu(HOST, 'Remove Host…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    const text = await dialog.innerText();
    if (!text.includes(`Remove the host "${HOST}"`)) throw new Error(`unexpected dialog text: ${text}`);
    await dialog.locator('.monaco-button', { hasText: /^Remove$/ }).click();
    await row(HOST).waitFor({ state: 'detached', timeout: 10_000 });
    await shot('03-host-removed.png');
  });

  await step('"Add Host…" offers the ssh config\'s hosts; the lab\'s second host shows its QEMU, libvirt-LXC and lxc-tools guests', async () => {
    await command('virtscope: Add Host…', { match: 'Add Host' });
    const qi = page.locator('.quick-input-widget');
    const lab = qi.locator('.quick-input-list .monaco-list-row', { hasText: 'sshhost-lab' }).first();
    await lab.waitFor({ timeout: 10_000 });
    await lab.click();
    await row('sshhost-lab').waitFor({ timeout: 30_000 });
    // this machine's rows fill the view (the tree draws only what is in view): fold them away
    await row('This machine').click();
    for (const g of ['remotevm', 'remotevlxc', 'remotect']) await row(g).waitFor({ timeout: 60_000 });
    const rows = await treeLabels();
    log('tree rows:', JSON.stringify(rows));
    if (!rows.some((l) => /^sshhost-lab, \d+ connections?$/.test(l))) throw new Error(`no "sshhost-lab, N connections" row: ${JSON.stringify(rows)}`);
    await shot('04-remote-host-guests.png');
  });

  await step('verbs act on the remote host: Start, then Force Off (asks first) on remotect', async () => {
    await contextMenu('remotect', 'Start');
    await row('remotect').locator('.codicon-vm-running').waitFor({ timeout: 60_000 });
    log(`remotect row: ${await row('remotect').getAttribute('aria-label')}`);
    await shot('05-remote-guest-started.png');
    // its metrics: the host side from the remote host's /proc and cgroups
    await contextMenu('remotect', 'Show Metrics');
    const frame = () => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame().locator('h1', { hasText: 'remotect — metrics' }).waitFor({ timeout: 20_000 });
    const points = () =>
      frame()
        .locator('#host-side .uplot')
        .evaluateAll((els) => els.map((e) => Number(e.dataset.points || 0)));
    let h = [];
    for (let i = 0; i < 40 && !(h.length && Math.min(...h) >= 3); i++) {
      await page.waitForTimeout(500);
      h = await points();
    }
    log(`remotect host-side points: ${h.join(',')}`);
    if (!h.length || Math.min(...h) < 3) throw new Error(`the remote guest's host-side charts did not fill: ${h}`);
    await shot('05b-remote-guest-metrics.png');
    await command('View: Close All Editors', { match: 'Close All Editors' }).catch(() => undefined);
    await contextMenu('remotect', 'Force Off');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.locator('.monaco-button', { hasText: /^Force Off$/ }).click();
    await row('remotect').locator('.codicon-vm-outline').waitFor({ timeout: 30_000 });
  });

  await step('"Inspect Definition" on remotevm opens the remote host\'s domain XML', async () => {
    await contextMenu('remotevm', 'Inspect Definition');
    await page.locator('.tabs-container .tab', { hasText: 'remotevm.xml' }).first().waitFor({ timeout: 15_000 });
    const editor = page.locator('.editor-group-container .monaco-editor .view-lines').first();
    await editor.filter({ hasText: '<name>remotevm</name>' }).waitFor({ timeout: 15_000 });
    await shot('06-remote-inspect.png');
  });

  await step('"Run Benchmark…" on remotevlxc (cpu, memory): the report names the host it was measured on', async () => {
    await command('View: Close All Editors', { match: 'Close All Editors' }).catch(() => undefined);
    await contextMenu('remotevlxc', 'Start');
    await row('remotevlxc').locator('.codicon-vm-running').waitFor({ timeout: 60_000 });
    await contextMenu('remotevlxc', 'Run Benchmark…');
    const qi = page.locator('.quick-input-widget');
    await qi.locator('.quick-input-title', { hasText: /^Run Benchmark on host, remotevlxc/ }).waitFor({ timeout: 15_000 });
    const item = (label) =>
      qi
        .locator('.quick-input-list .monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) })
        .first();
    for (const x of ['network', 'disk']) await item(x).click(); // all suites start picked
    await page.keyboard.press('Enter');
    const tab = page.locator('.tabs-container .tab', { hasText: /cpu-memory-on-host-remotevlxc-sshhost-lab/ }).first();
    await tab.waitFor({ timeout: 120_000 });
    log(`report tab: ${(await tab.innerText()).replace(/\s+/g, ' ')}`);
    // Monaco renders spaces as U+00A0: match with \s
    await page
      .locator('.editor-instance .view-lines', { hasText: /Measured\son\s\*\*sshhost-lab\*\*/ })
      .first()
      .waitFor({ timeout: 10_000 });
    await shot('07-remote-bench-report.png');
    await command('View: Close All Editors', { match: 'Close All Editors' }).catch(() => undefined);
    await contextMenu('remotevlxc', 'Force Off');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.locator('.monaco-button', { hasText: /^Force Off$/ }).click();
    await row('remotevlxc').locator('.codicon-vm-outline').waitFor({ timeout: 30_000 });
  });

  await step("removing the second host leaves this machine's guests", async () => {
    await contextMenu('sshhost-lab', 'Remove Host…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.locator('.monaco-button', { hasText: /^Remove$/ }).click();
    await row('remotevm').waitFor({ state: 'detached', timeout: 10_000 });
    await row('This machine').click(); // unfold it again
    await row('labvm').waitFor({ timeout: 5_000 });
  });
});
