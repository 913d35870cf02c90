// Show Guest Log's followers on this machine: a file followed with tail -F (the last lines, then new
// ones, a recreated file picked up again), a missing log said plainly, and an lxc-tools container
// that keeps no log told how to get one. Temporary files are removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localHost } from '../../src/core/host/local';
import { followHostFile, libvirtLog, lxcLog } from '../../src/core/console/logs';
import { BackendError } from '../../src/core/model';

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a log file: the last lines, then each new line; a recreated file is followed again; stop ends it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-log-'));
  const file = path.join(dir, 'guest.log');
  try {
    fs.writeFileSync(file, 'one\ntwo\nthree\n');
    const f = await followHostFile(localHost, file, 2);
    let text = '';
    f.output.on('data', (d: Buffer) => (text += d.toString()));
    await waitFor(() => text.includes('two\nthree\n'), 'the last two lines');
    assert.ok(!text.includes('one'));
    fs.appendFileSync(file, 'four\n');
    await waitFor(() => text.includes('four\n'), 'a new line');
    fs.rmSync(file);
    fs.writeFileSync(file, 'after restart\n');
    await waitFor(() => text.includes('after restart'), 'the recreated file');
    assert.match(f.source, /guest\.log on this machine$/);
    await f.stop();
    await f.ended;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('no log there: a clear error; a name that is no file name is refused', async () => {
  await assert.rejects(followHostFile(localHost, '/nonexistent/virtscope.log', 10), /there is no log at \/nonexistent\/virtscope\.log on this machine/);
  await assert.rejects(libvirtLog(localHost, 'qemu', '../etc/passwd').follow({ lines: 1 }), /cannot be a log file name/);
});

test('lxc-tools: the console log when configured, else a hint how to get one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-lxclog-'));
  const config = path.join(dir, 'config');
  const log = path.join(dir, 'console.log');
  try {
    fs.writeFileSync(config, 'lxc.uts.name = ct\n');
    await assert.rejects(lxcLog(localHost, async () => config, 'ct').follow({ lines: 5 }), (e: unknown) => {
      assert.ok(e instanceof BackendError);
      assert.match(e.message, /"ct" keeps no log/);
      assert.match(e.hint ?? '', /lxc\.console\.logfile = \/var\/log\/lxc\/ct\.console\.log/);
      return true;
    });
    fs.writeFileSync(config, `lxc.uts.name = ct\nlxc.console.logfile = ${log}\n`);
    fs.writeFileSync(log, 'login: \n');
    const f = await lxcLog(localHost, async () => config, 'ct').follow({ lines: 5 });
    let text = '';
    f.output.on('data', (d: Buffer) => (text += d.toString()));
    await waitFor(() => text.includes('login:'), 'the console log');
    await f.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
