// UI end-to-end test of snapshots, storage and networks in the INSTALLED VSIX (code-server in
// headless Chromium; test/e2e/run.sh runs every test/e2e/ui*.test.js). On the test driver
// (test+unix:///default): a domain of this test's own with two snapshots made by virsh; the guest
// expands to Snapshots → the snapshot tree (current marked); Revert from the snapshot's context
// menu asks first (modal, says what is lost) and makes it current; the Storage and Networks groups
// under the connection show the test driver's pool and network. Everything made here is removed.
// Env: CS_URL (workbench URL), RUN_DIR (scratch). Screenshots: test/e2e/screenshots/snapshots/.
'use strict';
const { uiRun } = require('./ui-kit');
const { execFileSync } = require('child_process');

const URI = 'test+unix:///default';
const GUEST = `vs-e2e-snap-${process.pid}`;
const virsh = (...args) => execFileSync('virsh', ['-c', URI, ...args], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
const DOMAIN = `<domain type='test'><name>${GUEST}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/guest/${GUEST}.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>`;

const opts = { shots: 'snapshots', clearShots: true, failureShot: '99-failure.png', after: cleanup };
uiRun('ui-snapshots', opts, async ({ page, log, goto, step, shot, openGuests, sidebar, expand }) => {
  const rowStarting = (label) => sidebar().locator(`.monaco-list-row[role="treeitem"][aria-label^="${label}, "]`).first();

  await step('a guest with snapshots expands to Snapshots → the snapshot tree, current marked', async () => {
    await goto();
    await openGuests('test');
    // the test driver keeps its state while a connection is open: virtscope's is, now
    const f = `${process.env.RUN_DIR || '/tmp'}/${GUEST}.xml`;
    require('fs').writeFileSync(f, DOMAIN);
    virsh('define', f);
    virsh('snapshot-create-as', GUEST, 'base snapshot', 'the first "one"');
    virsh('snapshot-create-as', GUEST, 'after change');
    await rowStarting(GUEST).waitFor({ timeout: 20_000 });
    await expand(GUEST);
    await expand('Snapshots');
    await expand('base snapshot');
    await rowStarting('after change').waitFor({ timeout: 20_000 });
    const label = await rowStarting('after change').getAttribute('aria-label');
    if (!/^after change, current · /.test(label)) throw new Error(`the current snapshot is not marked: "${label}"`);
    await shot('01-snapshot-tree.png');
  });

  await step('Revert from the context menu asks first, saying what is lost, then makes it current', async () => {
    const r = rowStarting('base snapshot');
    await r.click({ button: 'right' });
    const entry = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: /^Revert to Snapshot…$/ }).first();
    await entry.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(200);
    await entry.click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    const text = await dialog.innerText();
    if (!/Revert "vs-e2e-snap-\d+" to snapshot "base snapshot"\?/.test(text) || !/will be lost/.test(text)) throw new Error(`dialog says: ${text}`);
    await shot('02-revert-asks.png');
    await dialog.locator('.monaco-button', { hasText: /^Revert$/ }).click();
    for (let i = 0; i < 60 && virsh('snapshot-current', '--name', GUEST).trim() !== 'base snapshot'; i++) await page.waitForTimeout(250);
    const cur = virsh('snapshot-current', '--name', GUEST).trim();
    if (cur !== 'base snapshot') throw new Error(`current snapshot is "${cur}" after the revert`);
    await rowStarting('base snapshot').and(sidebar().locator('[aria-label*="current"]')).waitFor({ timeout: 15_000 });
    await shot('03-reverted.png');
  });

  await step('Storage (pools → volumes) and Networks under the connection', async () => {
    // the test driver is the last connection: its Storage and Networks are the last such rows
    await expand('Storage', true);
    await expand('default-pool');
    await expand('Networks', true);
    await rowStarting('default').waitFor({ timeout: 20_000 });
    const labels = await sidebar()
      .locator('.monaco-list-row[role="treeitem"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || ''));
    log('rows:', JSON.stringify(labels));
    if (!labels.some((l) => /^default-pool, running/.test(l))) throw new Error('no running default-pool row');
    await shot('04-storage-networks.png');
  });
});

async function cleanup({ step }) {
  // needs nothing: runs even when a step above failed
  await step(
    'cleanup: the test domain and its snapshots are removed',
    async () => {
      try {
        virsh('destroy', GUEST);
      } catch {
        // not running
      }
      virsh('undefine', '--snapshots-metadata', GUEST);
    },
    [],
  );
}
