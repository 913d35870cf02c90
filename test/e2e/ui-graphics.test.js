// UI end-to-end test of Open Graphical Console in the INSTALLED VSIX (code-server in headless
// Chromium): a small TCG domain of this test's own with a VNC unix socket (no disk: SeaBIOS draws its
// screen) is defined and started with virsh; Open Graphical Console from the tree's context menu
// shows its screen in the webview's canvas (noVNC, bytes through the extension), the guest's
// pixels are drawn (not all one colour), a screenshot is kept; destroying the guest ends the screen
// with a message. The domain is destroyed and undefined at the end.
// Env: CS_URL, RUN_DIR. Screenshots: test/e2e/screenshots/graphics/. Last line: `N passed, N failed`.
'use strict';
const { uiRun } = require('./ui-kit');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const NAME = `vs-e2e-vnc-${process.pid}`;
const virsh = (...args) => execFileSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 30_000, stdio: 'pipe' });
const XML = `<domain type='qemu'><name>${NAME}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices><graphics type='vnc'><listen type='socket'/></graphics><video><model type='vga'/></video><memballoon model='none'/></devices></domain>`;

function defineAndStart() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-e2e-vnc-'));
  try {
    fs.writeFileSync(path.join(dir, 'dom.xml'), XML);
    virsh('define', path.join(dir, 'dom.xml'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  virsh('start', NAME);
}

function remove() {
  for (const verb of ['destroy', 'undefine'])
    try {
      virsh(verb, NAME);
    } catch {
      /* not there */
    }
}

const opts = { shots: 'graphics', clearShots: true, failureShot: '99-failure.png', after: async () => remove() };
uiRun('ui-graphics', opts, async ({ page, log, goto, step, shot, openGuests, contextMenu }) => {
  const frame = () => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  /** How many distinct colours a sample of the canvas has (1: nothing drawn yet). */
  const colours = () =>
    frame()
      .locator('#screen canvas')
      .first()
      .evaluate((c) => {
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        const seen = new Set();
        for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        return { n: seen.size, w: c.width, h: c.height };
      });

  await step('a QEMU guest with a VNC socket is defined, started and listed', async () => {
    defineAndStart();
    await goto();
    await openGuests(NAME);
  });

  await step("Open Graphical Console from the context menu: the guest's screen is drawn in the panel", async () => {
    await contextMenu(NAME, 'Open Graphical Console');
    await frame().locator('#screen canvas').first().waitFor({ timeout: 30_000 });
    let c = { n: 0, w: 0, h: 0 };
    for (let i = 0; i < 60 && c.n < 2; i++) {
      await page.waitForTimeout(500);
      c = await colours();
    }
    log(`canvas ${c.w}x${c.h}, ${c.n} colours in a sample`);
    if (c.n < 2) throw new Error(`the canvas stayed one colour (${c.w}x${c.h})`);
    const status = await frame().locator('#status').textContent();
    log(`status: ${status}`);
    await shot('01-screen.png');
  });

  await step('destroying the guest ends the screen with a message', async () => {
    virsh('destroy', NAME);
    await frame().locator('#status.ended').waitFor({ timeout: 20_000 });
    const status = await frame().locator('#status').textContent();
    log(`status: ${status}`);
    if (!/the guest is (destroyed|stopped)/.test(status)) throw new Error(`the message does not say the guest stopped: ${status}`);
    await shot('02-ended.png');
  });
});
