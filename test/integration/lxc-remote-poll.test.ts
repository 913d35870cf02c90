// lxc-tools on the lab's second host over SSH: each poll of the tree is ONE SSH channel for all the
// containers (the host's operations are counted), hostile names reach lxc-info intact and never run.
// Runs only while the second host is up (never brought up or down here); what it makes there it removes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LxcBackend } from '../../src/core/backends/lxc';
import { Connection } from '../../src/core/connection';
import { SshHost } from '../../src/core/host/ssh';
import { countingHost } from '../fixtures/remote/countingHost';
import { waitFor } from './util';
import { secondHost, secondHostSkip } from '../fixtures/remote/secondHost';

const skip = secondHostSkip;
const up = !skip;

const MARK = 'virtscope-pwned-lxcpoll';
const NAMES = ['plain', 'with space', `q'; touch ${MARK} #`, `$(touch ${MARK})`, `\`touch ${MARK}\``, 'ünï\ncode'];
let scratch: string;
let host: SshHost;
let lxcPath: string;

before(async () => {
  if (!up) return;
  ({ host, scratch } = secondHost('vs-lxcpoll-'));
  lxcPath = await host.mkdtemp('vs-lxcpoll-');
  for (const n of NAMES) {
    await host.mkdir(`${lxcPath}/${n}`);
    await host.writeFile(`${lxcPath}/${n}/config`, 'lxc.uts.name = x\n');
  }
});

after(async () => {
  if (!up) return;
  await host.rm(lxcPath, { recursive: true, force: true });
  await host.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('a poll of the tree is one SSH channel for every container; hostile names intact', { skip, timeout: 60_000 }, async () => {
  const { host: counted, ops } = countingHost(host);
  const conn = new Connection({ id: 'lxcpoll', type: 'lxc', lxcPath }, (c) => new LxcBackend(c, counted), { pollMs: 200 });
  try {
    await conn.start();
    assert.deepEqual([...conn.guests.keys()].sort(), [...NAMES].sort());
    const before = ops.length;
    conn.setVisible(true);
    await waitFor(() => ops.length >= before + 5, 20_000, 'five polls');
    conn.setVisible(false);
    // each poll is one list(): exactly one run on the host, whatever the number of containers
    assert.deepEqual(ops.slice(before), Array(ops.length - before).fill('run'));
    assert.equal(conn.guests.size, NAMES.length);
    assert.ok([...conn.guests.values()].every((g) => g.state === 'stopped'));
  } finally {
    await conn.dispose();
  }
  // a name that ran would have made the marker in the remote program's working directory (the login's)
  const r = await host.run(['sh', '-c', 'ls -d ~/"$1" "$PWD/$1" /tmp/"$1" 2>/dev/null', 'sh', MARK]);
  assert.equal(r.stdout, '', 'no name ran on the second host');
  assert.equal(fs.existsSync(path.join(process.cwd(), MARK)), false, 'no name ran here');
});

test("the lab's remotect is listed in one run from lxc's own lxcpath", { skip }, async () => {
  const { host: counted, ops } = countingHost(host);
  const b = new LxcBackend({ id: 'lxc', type: 'lxc' }, counted);
  await b.connect();
  const n = ops.length;
  const guests = await b.list();
  assert.deepEqual(ops.slice(n), ['run']);
  assert.ok(
    guests.some((g) => g.name === 'remotect'),
    guests.map((g) => g.name).join(', '),
  );
});
