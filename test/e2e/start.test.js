// `npm start`, the README's first command, run as a user runs it: on a free port, with the tool folder
// START_E2E_DIR (scripts/test.sh gives it a new empty one under CI=true, so the whole install path is
// walked). Each step is a test:
//   1. it installs what it needs and serves VS Code (code-server answers /healthz);
//   2. the page opens in Chromium and the Guests tree shows the lab's guests;
//   3. Ctrl-C (SIGINT to its process group, as a terminal sends it) stops it, and no process it started
//      is left behind (code-server runs in a session of its own, so it is looked for by its tool folder).
// Screenshot: test/e2e/screenshots/start/start-tree.png. Needs the lab up (scripts/lab.sh up).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const TOOLS = path.resolve(process.env.START_E2E_DIR || process.env.VIRTSCOPE_E2E_DIR || path.join(os.homedir(), '.cache/virtscope-e2e'));
const LAB_GUESTS = ['labvm', 'labvlxc', 'labct', 'labpod'];
const SERVE_TIMEOUT_MS = 15 * 60_000;

// playwright-core comes with the tools npm start installs: make it resolvable before ui-kit loads it.
process.env.NODE_PATH = [path.join(TOOLS, 'pw/node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
require('module')._initPaths();

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined. */
function startTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** Processes started since `since` whose command line or executable lies in the tool folder. */
function leftovers(since) {
  const found = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const exe = fs.readlinkSync(`/proc/${d}/exe`);
      if ((cmd.includes(TOOLS) || exe.startsWith(TOOLS)) && (startTicks(d) ?? 0) >= since) found.push(`${d} ${cmd.slice(0, 120)}`);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

const groupAlive = (pgid) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

async function main() {
  const since = startTicks(process.pid);
  const port = await freePort();
  const t0 = Date.now();
  console.log(`  npm start on 127.0.0.1:${port}, tools in ${TOOLS} (${fs.existsSync(TOOLS) && fs.readdirSync(TOOLS).length ? 'not empty' : 'empty'})`);
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true, // its own process group, like a job in a terminal
    env: { ...process.env, PORT: String(port), VIRTSCOPE_E2E_DIR: TOOLS },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = [];
  let exited = false;
  const ready = new Promise((resolve) => {
    const onLine = (line) => {
      console.log(`  [npm start] ${line}`);
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (line.includes('virtscope is running in VS Code')) resolve(true);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.on('data', (d) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop();
        lines.forEach(onLine);
      });
    }
    child.on('exit', (code, sig) => {
      exited = true;
      resolve(false);
      console.log(`  [npm start] exited (${sig || code})`);
    });
    setTimeout(() => resolve(false), SERVE_TIMEOUT_MS);
  });
  const served =
    (await ready) &&
    (await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    ));
  const serveTitle = 'npm start installs what it needs and serves VS Code on a free port';
  const before = [{ title: serveTitle, ok: served }];
  if (served) console.log(`  ok   ${serveTitle} (${Math.round((Date.now() - t0) / 1000)} s)`);
  else console.log(`  FAIL ${serveTitle}: ${exited ? 'it exited' : 'no answer'} after ${Math.round((Date.now() - t0) / 1000)} s; its last lines are above`);

  const stop = async (kit) => {
    await kit.step('Ctrl-C stops it and leaves no process behind', async () => {
      if (process.env.RUN_DIR) fs.rmSync(process.env.RUN_DIR, { recursive: true, force: true });
      if (!exited) process.kill(-child.pid, 'SIGINT');
      const end = Date.now() + 30_000;
      let left = [];
      while (Date.now() < end) {
        left = leftovers(since);
        if (exited && !groupAlive(child.pid) && !left.length) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!exited || groupAlive(child.pid)) throw new Error('npm start is still running 30 s after SIGINT');
      if (left.length) throw new Error(`left behind:\n${left.join('\n')}`);
      const answers = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => true,
        () => false,
      );
      if (answers) throw new Error(`127.0.0.1:${port} still answers`);
    });
  };

  if (!served) {
    // No browser to open: still stop it and count the steps that could not run.
    const results = [...before];
    const kit = {
      step: async (title, fn) => {
        try {
          await fn();
          results.push({ ok: true });
          console.log(`  ok   ${title}`);
        } catch (e) {
          results.push({ ok: false });
          console.log(`  FAIL ${title}: ${e.message}`);
        }
      },
    };
    console.log("  FAIL the page shows the Guests tree with the lab's guests: not run, VS Code was not served");
    results.push({ ok: false });
    await stop(kit);
    const passed = results.filter((r) => r.ok).length;
    console.log(`${passed} passed, ${results.length - passed} failed`);
    process.exit(1);
  }

  process.env.CS_URL = `http://127.0.0.1:${port}/`;
  process.env.RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-start-'));
  const { uiRun } = require('./ui-kit');
  const opts = { shots: 'start', clearShots: true, failureShot: '99-start-failure.png', before, after: stop };
  uiRun('start', opts, async ({ page, goto, step, shot, sidebar, row, activityItem, treeLabels }) => {
    await step("the page opens in Chromium and the Guests tree shows the lab's guests", async () => {
      await goto();
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await activityItem().waitFor({ timeout: 60_000 });
      await activityItem().click();
      await sidebar().locator('.monaco-list-row[role="treeitem"]').first().waitFor({ timeout: 30_000 });
      const end = Date.now() + 45_000;
      let missing = LAB_GUESTS;
      while (missing.length && Date.now() < end) {
        missing = [];
        for (const n of LAB_GUESTS)
          if (
            !(await row(n)
              .isVisible()
              .catch(() => false))
          )
            missing.push(n);
        if (missing.length) await page.waitForTimeout(250);
      }
      if (missing.length) {
        await shot('start-tree.png');
        throw new Error(`not in the tree: ${missing.join(', ')}`);
      }
      // every connection settles from "connecting" to its guest count
      let busy = [];
      while (Date.now() < end + 30_000) {
        busy = (await treeLabels()).filter((l) => /connecting/i.test(l));
        if (!busy.length) break;
        await page.waitForTimeout(250);
      }
      await shot('start-tree.png');
      if (busy.length) throw new Error(`still connecting: ${busy.join('; ')}`);
    });
  });
}

main().catch((e) => {
  console.log(`  FAIL npm start test: ${e.stack || e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
