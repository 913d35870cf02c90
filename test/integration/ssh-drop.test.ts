// A remote host whose link stalls (no byte either way, as a pulled cable) and comes back, against the
// lab's second host: the model shows it unreachable within SSH's keepalive window with SSH's own
// reason, another host stays as it was, and everything comes back by itself. Only this test's own
// connections go through the stalled relay (test/fixtures/remote/stallRelay.ts, as bench/ssh.ts):
// the shared second host is never cut for anyone else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aliasBlock, sshLab, type SshLab } from '../../bench/sshLab';
import { testNodeXml } from '../../bench/testhost';
import { SERVER_ALIVE, SshHost } from '../../src/core/host/ssh';
import { Inventory } from '../../src/core/inventory';
import { StallRelay } from '../fixtures/remote/stallRelay';
import { waitFor } from './util';

let lab: SshLab;
let dir: string;
let setupHost: SshHost;
let remoteDir: string;

before(async () => {
  lab = sshLab();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-sshdrop-'));
  setupHost = new SshHost({ destination: lab.alias, configFile: lab.sshConfig, controlDir: path.join(dir, 'ctl-setup') });
  remoteDir = await setupHost.mkdtemp('vs-sshdrop-');
  await setupHost.writeFile(`${remoteDir}/node.xml`, testNodeXml(3, [1]));
});

after(async () => {
  if (remoteDir) await setupHost.rm(remoteDir, { recursive: true, force: true });
  await setupHost.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test(
  "a stalled link: unreachable within SSH's keepalive window in SSH's words, the other host undisturbed, then back by itself",
  { timeout: 90_000 },
  async () => {
    const relay = new StallRelay(lab.addr);
    const config = path.join(dir, 'ssh_config');
    fs.writeFileSync(config, aliasBlock(lab, 'stalled', '127.0.0.1', await relay.listen()) + aliasBlock(lab, 'steady'), { mode: 0o600 });
    const model = new Inventory({
      discover: async (_h, prefix) => [{ id: `${prefix}test`, type: 'libvirt', uri: `test://${remoteDir}/node.xml` }],
      remoteHost: (e) => new SshHost({ destination: e.destination, configFile: config, controlDir: path.join(dir, `ctl-${e.id}`) }),
    });
    const host = (id: string) => model.host(id)!;
    const conn = (id: string) => model.connection(`${id}/test`)!;
    const up = (id: string) => host(id).status.state === 'ready' && conn(id)?.status.state === 'connected' && conn(id).guests.size === 3;
    // the other host: any change of its status or its connection's during the outage is a disturbance
    const disturbed: string[] = [];
    try {
      model.setLocalConnections([]);
      model.setHosts([
        { id: 'stalled', destination: 'stalled' },
        { id: 'steady', destination: 'steady' },
      ]);
      await model.open();
      assert.ok(up('stalled') && up('steady'), `both up: ${JSON.stringify([host('stalled').status, host('steady').status])}`);
      model.on('host', (h) => h.id === 'steady' && disturbed.push(`host ${JSON.stringify(h.status)}`));
      model.on('status', (c, s) => c === conn('steady') && disturbed.push(`connection ${JSON.stringify(s)}`));

      relay.stall();
      const windowMs = SERVER_ALIVE.intervalS * (SERVER_ALIVE.countMax + 1) * 1000;
      const noticed = await waitFor(() => host('stalled').status.state === 'unreachable', windowMs + 4000, 'the stalled host shown unreachable');
      const s = host('stalled').status;
      assert.ok(s.state === 'unreachable' && /^Timeout, server 127\.0\.0\.1 not responding\.$/.test(s.reason), `SSH's own reason: ${JSON.stringify(s)}`);
      assert.notEqual(conn('stalled').status.state, 'connected');

      relay.release();
      const back = await waitFor(() => up('stalled'), 30_000, 'the host and its connection back with their guests');
      assert.ok(up('steady'));
      assert.deepEqual(disturbed, [], 'the other host saw nothing');
      console.log(
        `# stalled link: unreachable after ${(noticed / 1000).toFixed(1)} s ("${s.state === 'unreachable' && s.reason}"), back ${(back / 1000).toFixed(1)} s after release`,
      );
    } finally {
      relay.release();
      await model.dispose();
      relay.close();
    }
  },
);
