// libvirtd killed and restarted: the connection reports unreachable (with the socket it tried and
// how to start the daemon), then reconnects by itself and follows events again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createBackend } from '../../src/core/backends';
import { Connection } from '../../src/core/connection';
import { waitFor } from './util';

const virsh = (...a: string[]) => execFileSync('virsh', ['-c', 'test+unix:///default', ...a], { encoding: 'utf8' });

test('libvirtd killed → unreachable → back by itself', { timeout: 120_000 }, async () => {
  const c = new Connection({ id: 'test', type: 'libvirt', uri: 'test+unix:///default' }, createBackend, { reconnectMinMs: 200, reconnectMaxMs: 1000 });
  await c.start();
  try {
    assert.equal(c.status.state, 'connected');
    assert.ok([...c.guests.values()].some((g) => g.name === 'test'));
    // this machine's libvirtd (its pidfile): the lab's second host runs a libvirtd of its own
    const pid = Number(readFileSync('/run/libvirtd.pid', 'utf8').trim());
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'libvirtd');
    process.kill(pid, 'SIGTERM');
    await waitFor(() => c.status.state === 'unreachable', 10_000, 'connection reports unreachable');
    const s = c.status as unknown as { message: string; hint?: string };
    console.log(`unreachable: ${s.message} | hint: ${s.hint}`);
    assert.equal(c.guests.size, 0);
    // wait for the old daemon to be gone, then start it again the way the lab does (in its netns)
    await waitFor(() => !existsSync(`/proc/${pid}`), 20_000, 'old libvirtd exited');
    assert.match(s.hint ?? '', /libvirtd/);
    execFileSync('bash', ['scripts/lab.sh', 'daemons'], { stdio: 'inherit' });
    const ms = await waitFor(() => c.status.state === 'connected', 20_000, 'reconnected by itself');
    console.log(`reconnected ${ms} ms after the daemon was started again`);
    assert.ok([...c.guests.values()].some((g) => g.name === 'test'));
    // events work on the new connection
    virsh('suspend', 'test');
    try {
      await waitFor(() => [...c.guests.values()].find((g) => g.name === 'test')?.state === 'paused', 2000, 'event after reconnect');
    } finally {
      virsh('resume', 'test');
    }
  } finally {
    await c.dispose();
  }
});
