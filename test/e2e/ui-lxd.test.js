// UI end-to-end test of an LXD cluster in the INSTALLED VSIX (code-server + headless Chromium, like
// ui-hosts.test.js): `virtscope.lxd` names the lab cluster's unix socket (scripts/lab/lxd-cluster.sh,
// from /tmp/virtscope-lxd-ready); the cluster is one root beside "This machine" with its three members;
// "Launch Instance…" from the palette places a busybox container on a chosen member; the member's load
// line and its Member Overview (a Markdown preview of its instances' CPU and memory); Shut Down and
// Delete (asks first) from the context menu. The instance made here is named ui-lxd-<pid> and removed
// at the end whatever happened. Screenshots: test/e2e/screenshots/lxd/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { uiRun } = require('./ui-kit');

const READY = '/tmp/virtscope-lxd-ready';
const LAB = process.env.VIRTSCOPE_LXD_LAB || path.join(__dirname, '../../scripts/lab/lxd-cluster.sh');
const env = fs.existsSync(READY)
  ? Object.fromEntries(
      fs
        .readFileSync(READY, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
  : {};
const NAME = `ui-lxd-${process.pid}`;
const CLUSTER = 'lab';
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whatever happened, the instance is gone and the next UI test starts without the cluster. */
async function cleanUp() {
  for (const lab of [LAB, '/work/wt/lxdlab/scripts/lab/lxd-cluster.sh']) {
    if (!fs.existsSync(lab)) continue;
    try {
      execFileSync('bash', [lab, 'lxc', '1', 'delete', '--force', NAME], { stdio: 'ignore', timeout: 120_000 });
    } catch {
      // not there (deleted by the test)
    }
    break;
  }
  if (!process.env.SETTINGS_FILE) return;
  const file = path.join(path.dirname(path.dirname(process.env.SETTINGS_FILE)), 'Machine', 'settings.json');
  const current = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  fs.writeFileSync(file, JSON.stringify({ ...current, 'virtscope.lxd': [] }, null, 2));
}

const opts = {
  machineSettings: { 'virtscope.lxd': env.LXD_SOCKET_1 ? [{ name: CLUSTER, socket: env.LXD_SOCKET_1 }] : [] },
  shots: 'lxd',
  clearShots: true,
  after: cleanUp,
};

uiRun('ui-lxd', opts, async ({ page, log, goto, step, shot, row, openGuests, command, contextMenu, treeLabels, sidebar }) => {
  /** Folds or unfolds a row (a click toggles it). */
  const setExpanded = async (name, expanded) => {
    const r = row(name);
    await r.waitFor({ timeout: 30_000 });
    if ((await r.getAttribute('aria-expanded')) !== String(expanded)) await r.click();
  };
  /** The tree draws only the rows in view: scrolls down until `name`'s row is drawn (instances sort by name). */
  const scrollTo = async (name) => {
    const box = await sidebar().boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 60 && !(await row(name).isVisible()); i++) {
      await page.mouse.wheel(0, 600);
      await page.waitForTimeout(150);
    }
    await row(name).waitFor({ timeout: 5_000 });
  };
  await goto();
  await step('the LXD lab is up', async () => {
    if (!env.LXD_SOCKET_1) throw new Error(`${READY} is missing: bring the LXD lab up (scripts/lab/lxd-cluster.sh up)`);
  });

  await step('the cluster is one root beside This machine, with its three members and their instances', async () => {
    await openGuests(CLUSTER);
    await sidebar().locator(`.monaco-list-row[aria-label^="${CLUSTER}, 3 members"]`).waitFor({ timeout: 30_000 });
    // this machine's rows fill the view: fold them away
    await setExpanded('This machine', false);
    await row('member1').waitFor({ timeout: 30_000 });
    await shot('01-cluster-member1-instances.png');
    // the members folded: all three in view with their counts
    await setExpanded('member1', false);
    await setExpanded('member2', false);
    const rows = await treeLabels();
    log('tree rows:', JSON.stringify(rows.slice(0, 12)));
    if (!rows.some((l) => new RegExp(`^${CLUSTER}, 3 members · \\d+ instances?`).test(l))) throw new Error(`no "${CLUSTER}, 3 members · N instances" row`);
    for (const m of ['member1', 'member2', 'member3'])
      if (!rows.some((l) => new RegExp(`^${m}, online · \\d+ instances?`).test(l))) throw new Error(`no "${m}, online · N instances" row`);
    await shot('02-cluster-three-members.png');
  });

  await step('"Launch Instance…" from the palette: busybox on member2', async () => {
    await command('virtscope: Launch Instance…', { match: 'Launch Instance' });
    const qi = page.locator('.quick-input-widget');
    const image = qi.locator('.quick-input-list .monaco-list-row', { hasText: env.LXD_IMAGE || 'busybox' }).first();
    await image.waitFor({ timeout: 15_000 });
    await shot('03-launch-image.png');
    await image.click();
    await qi.locator('.quick-input-title', { hasText: /: name$/ }).waitFor({ timeout: 10_000 });
    const input = qi.locator('input.input');
    await input.fill(NAME);
    await input.press('Enter');
    const member = qi.locator('.quick-input-list .monaco-list-row', { hasText: /^member2/ }).first();
    await member.waitFor({ timeout: 10_000 });
    await shot('04-launch-where.png');
    await member.click();
    // only member2 unfolded, scrolled to the new row (the tree draws only what is in view)
    await setExpanded('member3', false);
    await setExpanded('member1', false);
    await setExpanded('member2', true);
    const t0 = Date.now();
    while (!(await sidebar().locator(`.monaco-list-row[aria-label^="${NAME}, running"]`).count())) {
      if (Date.now() - t0 > 120_000) throw new Error(`${NAME} did not appear running`);
      await scrollTo(NAME).catch(() => undefined);
      await page.waitForTimeout(500);
    }
    log(`row: ${await row(NAME).getAttribute('aria-label')}`);
    await shot('05-launched-on-member2.png');
  });

  await step("member2's row shows its load; Member Overview from its context menu lists its instances with CPU and memory", async () => {
    const label = await row('member2').getAttribute('aria-label');
    log(`member2 row: ${label}`);
    await sidebar()
      .locator('.monaco-list-row[aria-label^="member2, online · "][aria-label*="RAM used"]')
      .waitFor({ timeout: 30_000 })
      .catch(() => {
        throw new Error(`member2's row has no load line: ${label}`);
      });
    await contextMenu('member2', 'Member Overview');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('h1', { hasText: 'member2 — member of lab' }).waitFor({ timeout: 30_000 });
    const cells = frame.locator('table tr', { hasText: NAME });
    await cells.waitFor({ timeout: 10_000 });
    const text = (await cells.innerText()).replace(/\s+/g, ' ');
    log(`overview row: ${text}`);
    if (!/Running \d+\.\d % [\d.]+ (KiB|MiB|GiB)/.test(text)) throw new Error(`the overview row has no CPU and memory: ${text}`);
    await shot('05b-member-overview.png');
  });

  await step('"Shut Down" from the context menu stops it; "Delete" asks first, then it is gone', async () => {
    await contextMenu(NAME, 'Shut Down');
    await row(NAME).locator('.codicon-vm-outline').waitFor({ timeout: 60_000 });
    await shot('06-stopped.png');
    await contextMenu(NAME, 'Delete…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    const text = await dialog.innerText();
    if (!new RegExp(`Delete "${escapeRe(NAME)}"`).test(text) || !/on member2 is deleted with its root disk and its snapshots/.test(text))
      throw new Error(`unexpected dialog text: ${text}`);
    await shot('07-delete-asks.png');
    await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
    await row(NAME).waitFor({ state: 'detached', timeout: 60_000 });
    await shot('08-deleted.png');
  });
});
