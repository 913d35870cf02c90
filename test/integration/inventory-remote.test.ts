// The model with the lab's second host (scripts/lab/ssh-host.sh), reached only over SSH: the host is a
// top-level entry whose connections are discovered on it and whose guests (remotect) are listed beside
// this machine's; a host that refuses shows SSH's own reason. Needs the second host up (it is not
// brought up or down here: the lab is shared). The discovery is injected (lxc-tools only) so this runs
// before the real one (backends/discover.ts) exists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AskpassRequest } from '../../src/core/host/askpass';
import { SshHost } from '../../src/core/host/ssh';
import { Inventory } from '../../src/core/inventory';
import { LOCAL_HOST_ID } from '../../src/core/hosts';
import { waitFor } from './util';

const LAB = path.join(__dirname, '../../scripts/lab/ssh-host.sh');
const lab = (...args: string[]) => execFileSync('bash', [LAB, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const env: Record<string, string> = {};
let up = false;
let model: Inventory;

before(() => {
  up = lab('status').trim().split('\n').pop() === 'sshhost: up';
  if (!up) return;
  for (const l of lab('env').split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
  }
  model = new Inventory({
    discover: async (_host, prefix) => [{ id: `${prefix}lxc-tools`, label: 'LXC (lxc-tools)', type: 'lxc' }],
    remoteHost: (e) =>
      new SshHost({ destination: e.destination, port: e.port, label: e.label ?? e.destination, configFile: env.SSHHOST_SSH_CONFIG, connectTimeoutS: 5 }),
    connection: { reconnectMinMs: 200, reconnectMaxMs: 1000 },
    hostRetryMinMs: 500,
  });
  model.setLocalConnections([]);
});

after(async () => {
  await model?.dispose();
});

test('a remote host lists its guests under its own connections, beside this machine', async (t) => {
  if (!up) return t.skip('the second host is down (bash scripts/lab/ssh-host.sh status)');
  model.setHosts([{ id: 'lab2', label: 'sshhost-lab', destination: env.SSHHOST_ALIAS }]);
  const t0 = performance.now();
  await model.open();
  const h = model.host('lab2')!;
  assert.equal(h.status.state, 'ready', JSON.stringify(h.status));
  assert.deepEqual(
    model.hosts.map((x) => x.id),
    [LOCAL_HOST_ID, 'lab2'],
  );
  const conn = model.connection('lab2/lxc-tools')!;
  await waitFor(() => conn.status.state === 'connected', 15_000, `lab2/lxc-tools connected (${JSON.stringify(conn.status)})`);
  const names = model.guests().map((r) => r.guest?.name);
  assert.ok(names.includes('remotect'), `remotect listed: ${names.join(', ')}`);
  assert.equal(model.hostOf(model.guests((g) => g.name === 'remotect')[0].conn)?.id, 'lab2');
  console.log(`# open() to remotect listed over SSH: ${(performance.now() - t0).toFixed(0)} ms`);
});

test("a host that refuses shows SSH's own reason and is retried by itself; the other host is not disturbed", async (t) => {
  if (!up) return t.skip('the second host is down');
  const before = model.connection('lab2/lxc-tools');
  // the second host's address on a port nobody listens on: sshd's "Connection refused", through ssh itself
  model.setHosts([
    { id: 'lab2', label: 'sshhost-lab', destination: env.SSHHOST_ALIAS },
    { id: 'closed', label: 'closed port', destination: env.SSHHOST_ALIAS, port: 1 },
  ]);
  await model.open();
  const s = model.host('closed')!.status;
  assert.equal(s.state, 'unreachable');
  assert.match(s.state === 'unreachable' ? s.reason : '', /port 1: Connection refused/);
  assert.equal(model.connection('lab2/lxc-tools'), before, 'the reachable host kept its connection');
  assert.equal(before?.status.state, 'connected');
  const retriedFrom = s.state === 'unreachable' ? s.since : 0;
  await waitFor(
    () => {
      const now = model.host('closed')!.status;
      return now.state === 'unreachable' && now.since === retriedFrom && now.retryInMs > 500;
    },
    5_000,
    'retried with a longer delay, the same outage',
  );
});

test("an unknown host key is asked about (with its fingerprint); refused, the host shows ssh's reason", async (t) => {
  if (!up) return t.skip('the second host is down');
  // the lab's ssh_config with an empty known_hosts of our own: the second host's key is unknown
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-invtest-'));
  const known = path.join(dir, 'known_hosts');
  fs.writeFileSync(known, '');
  const config = path.join(dir, 'ssh_config');
  fs.writeFileSync(config, fs.readFileSync(env.SSHHOST_SSH_CONFIG, 'utf8').replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${known}`));
  const asked: AskpassRequest[] = [];
  const m = new Inventory({
    discover: async () => [],
    remoteHost: (e) =>
      new SshHost({
        destination: e.destination,
        label: e.label,
        configFile: config,
        controlDir: path.join(dir, 'ctl'),
        connectTimeoutS: 5,
        askpass: async (req) => (asked.push(req), undefined),
      }),
    hostRetryMinMs: 60_000,
  });
  t.after(async () => {
    await m.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  m.setLocalConnections([]);
  m.setHosts([{ id: 'newkey', label: 'sshhost-lab (new key)', destination: env.SSHHOST_ALIAS }]);
  await m.open();
  assert.equal(asked.length, 1, JSON.stringify(asked));
  assert.equal(asked[0].kind, 'host-key');
  assert.equal(asked[0].host, 'sshhost-lab (new key)');
  assert.match(asked[0].prompt, /SHA256:/);
  const s = m.host('newkey')!.status;
  assert.equal(s.state, 'unreachable');
  assert.match(s.state === 'unreachable' ? s.reason : '', /Host key verification failed/);
  assert.equal(fs.readFileSync(known, 'utf8'), '', 'nothing was stored');
});
