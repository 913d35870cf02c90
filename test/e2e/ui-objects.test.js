// UI end-to-end test of storage-pool and network definitions in the INSTALLED VSIX (code-server in
// headless Chromium; test/e2e/run.sh runs every test/e2e/ui*.test.js). On the lab's qemu:///system
// (a real driver: its own validation and lifecycle events), with a scratch pool and a scratch
// network this test defines, never starts, and removes: "Edit Pool
// Definition" / "Edit Network Definition" from the tree's context menu open the host's XML; a value
// the schema refuses gets a diagnostic on that value saying what is accepted (Problems, squiggle);
// the fix is saved, libvirt has it, and the tree follows (the network's addresses in its row, the
// pool's path in its tooltip). The lab's own network (vslab) is never touched.
// Env: CS_URL (workbench URL), RUN_DIR (scratch). Screenshots: test/e2e/screenshots/objects/.
'use strict';
const { uiRun } = require('./ui-kit');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const URI = 'qemu:///system';
const POOL = `vs-e2e-pool-${process.pid}`;
const NET = `vs-e2e-net-${process.pid}`;
const POOL_PATH = `/var/tmp/${POOL}`;
const virsh = (...args) => execFileSync('virsh', ['-c', URI, ...args], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
const POOL_XML = `<pool type='dir'><name>${POOL}</name><target><path>${POOL_PATH}</path><permissions><mode>0755</mode></permissions></target></pool>`;
const NET_XML = `<network><name>${NET}</name><forward mode='nat'/><bridge name='vse2e${process.pid % 10000}'/>
<ip address='192.168.231.1' prefix='24'><dhcp><range start='192.168.231.2' end='192.168.231.9'/></dhcp></ip></network>`;

function define(kind, xml) {
  const f = path.join(process.env.RUN_DIR || require('os').tmpdir(), `${kind}-${process.pid}.xml`);
  fs.writeFileSync(f, xml);
  virsh(`${kind}-define`, f);
  fs.rmSync(f);
}

// the pointer stays where the test puts it (the pool's tooltip is part of a picture)
const opts = { shots: 'objects', clearShots: true, mouse: null, failureShot: '99-failure.png', after: cleanup };
uiRun('ui-objects', opts, async ({ page, log, goto, step, shot, openGuests, contextMenu, expand, row }) => {
  const tab = (name) => page.locator('.tabs-container .tab', { hasText: `${name}.xml` }).first();
  const editor = () => page.locator('.editor-group-container .monaco-editor').first();
  const away = () => page.mouse.move(1390, 840);
  /** Focuses the open document by a click in the middle of its editor. Not on "the first line": Monaco keeps lines
   * scrolled under the sticky-scroll header in the page, so the first one in the page may be hidden. */
  const focusEditor = () => editor().click();

  /** Replaces every `from` with `to` in the open document through the editor's Find/Replace widget. */
  const replaceAll = async (from, to) => {
    await focusEditor();
    await page.keyboard.press('Control+H');
    const w = editor().locator('.find-widget.visible');
    await w.waitFor({ timeout: 10_000 });
    await w.locator('.find-part .input').first().fill(from);
    await w.locator('.replace-part .input').first().fill(to);
    await w.locator('[aria-label^="Replace All"]').first().click();
    await page.keyboard.press('Escape');
  };

  /** The model's Problems row with `message` (not xmllint's): it must stand at `at` (1-based line and column). */
  const problemAt = async (message, at) => {
    await page.keyboard.press('Control+Shift+M');
    const problem = page
      .locator('.markers-panel .monaco-list-row', { hasText: message })
      .filter({ hasNotText: /xmllint/ })
      .first();
    await problem.waitFor({ timeout: 20_000 });
    const text = (await problem.innerText()).replace(/\s+/g, ' ');
    log('problem:', text);
    if (!text.includes(`[Ln ${at.line}, Col ${at.col}]`)) throw new Error(`the diagnostic is not at line ${at.line}, column ${at.col}: ${text}`);
    await editor().locator('.squiggly-error').first().waitFor({ timeout: 10_000 });
  };

  /** Where the value after `before` stands in the host's persistent XML of the object (1-based). */
  const valueAt = (kind, name, before) => {
    const lines = virsh(`${kind}-dumpxml`, '--inactive', name).split('\n');
    const i = lines.findIndex((l) => l.includes(before));
    if (i < 0) throw new Error(`${before} is not in the ${kind} XML`);
    return { line: i + 1, col: lines[i].indexOf(before) + before.length + 1 };
  };

  /** Saves the document and waits until the tab is clean and `check()` holds on the host. */
  const saveUntil = async (name, check) => {
    await focusEditor();
    await page.keyboard.press('Control+S');
    for (let i = 0; i < 80 && !check(); i++) await page.waitForTimeout(250);
    if (!check()) throw new Error(`the host does not have the saved ${name}`);
    await page.locator('.tabs-container .tab.dirty', { hasText: `${name}.xml` }).waitFor({ state: 'detached', timeout: 10_000 });
  };

  await step('a scratch pool and network appear under the connection’s Storage and Networks', async () => {
    await goto();
    await openGuests('labvm');
    define('pool', POOL_XML);
    define('net', NET_XML);
    await expand('Storage');
    await expand('Networks');
    await row(POOL).waitFor({ timeout: 20_000 });
    await row(NET).waitFor({ timeout: 20_000 });
    await away();
    await shot('01-scratch-objects.png');
  });

  await step('Edit Pool Definition: a mode out of its pattern gets a diagnostic on the value, saying what is accepted', async () => {
    await contextMenu(POOL, 'Edit Pool Definition');
    await tab(POOL).waitFor({ timeout: 15_000 });
    await editor().locator('.view-lines', { hasText: '<pool' }).waitFor({ timeout: 15_000 });
    await replaceAll('<mode>0755</mode>', '<mode>0999</mode>');
    await problemAt('"0999" is not allowed in <mode>: unsignedInt matching `[0-7]+`', valueAt('pool', POOL, '<mode>'));
    await away();
    await shot('02-pool-diagnostic.png');
  });

  await step('the fixed pool definition is saved; the tree follows (its tooltip shows the new path)', async () => {
    await replaceAll('<mode>0999</mode>', '<mode>0750</mode>');
    await replaceAll(`${POOL_PATH}<`, `${POOL_PATH}-moved<`);
    await saveUntil(POOL, () => /<mode>0750<\/mode>/.test(virsh('pool-dumpxml', '--inactive', POOL)));
    if (!virsh('pool-dumpxml', '--inactive', POOL).includes(`${POOL_PATH}-moved`)) throw new Error('the host does not have the new path');
    const hover = page.locator('.workbench-hover, .monaco-hover', { hasText: `${POOL_PATH}-moved` }).first();
    for (let i = 0; i < 5 && !(await hover.isVisible()); i++) {
      await away();
      await row(POOL).hover();
      await hover.waitFor({ timeout: 4_000 }).catch(() => {});
    }
    await hover.waitFor({ timeout: 2_000 });
    await shot('03-pool-saved-tree.png');
  });

  await step('Edit Network Definition: a prefix out of range gets a diagnostic on the value, saying what is accepted', async () => {
    await away();
    await contextMenu(NET, 'Edit Network Definition');
    await tab(NET).waitFor({ timeout: 15_000 });
    await editor().locator('.view-lines', { hasText: '<network' }).waitFor({ timeout: 15_000 });
    await replaceAll(`prefix='24'`, `prefix='200'`);
    await problemAt('"200" is not allowed for ip/@prefix: unsignedInt ≤ 32', valueAt('net', NET, "prefix='"));
    await away();
    await shot('04-network-diagnostic.png');
  });

  await step('the fixed network definition is saved; its row shows the new address at once', async () => {
    await replaceAll(`prefix='200'`, `prefix='16'`);
    await saveUntil(NET, () => virsh('net-dumpxml', '--inactive', NET).includes(`prefix='16'`));
    await page.locator(`.part.sidebar .monaco-list-row[role="treeitem"][aria-label^="${NET}, "][aria-label*="192.168.231.1/16"]`).waitFor({ timeout: 20_000 });
    await away();
    await shot('05-network-saved-tree.png');
  });
});

async function cleanup({ step }) {
  // needs nothing: runs even when a step above failed; the objects were never started
  await step(
    'cleanup: the scratch pool and network are removed',
    async () => {
      const gone = [];
      for (const [kind, name] of [
        ['pool', POOL],
        ['net', NET],
      ]) {
        try {
          virsh(`${kind}-undefine`, name);
        } catch (e) {
          if (!/not found|no (storage pool|network) with matching name/i.test(String(e.stderr || e.message))) gone.push(`${name}: ${e.message}`);
        }
      }
      if (gone.length) throw new Error(gone.join('; '));
    },
    [],
  );
}
