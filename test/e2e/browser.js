// Headless Debian Chromium for the e2e runners (ext-host.js, ui.test.js) and bench/activation.ts, in
// a fresh profile under `runDir`. Needs playwright-core on NODE_PATH, or its `chromium` passed in.
'use strict';
const fs = require('fs');
const path = require('path');

async function launchBrowser(runDir, name, extra = {}, chromium = require('playwright-core').chromium) {
  const udd = fs.mkdtempSync(path.join(runDir, `chrome-${name}-`));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, HOME: udd, TMPDIR: udd },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
    ...extra,
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const close = async () => {
    await Promise.race([ctx.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
    fs.rmSync(udd, { recursive: true, force: true });
  };
  return { ctx, page, close };
}

module.exports = { launchBrowser };
