// HTTPS to the lab cluster as "Add LXD / Incus…" does it: the server certificate shown (and checked
// against the lab's cluster certificate), a client certificate made here, trusted with a join token of
// `lxc config trust add`, then the backend lists the cluster over HTTPS; a wrong pinned certificate is
// refused before any request. The lab's HTTPS addresses exist only in its hub namespace: the client
// part runs there (lxd-cluster.sh exec-hub, test/integration/hub/lxd-trust.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { LXD_LAB_SCRIPT, lxdLabEnv } from './lxdLab';

const { env = {}, skip = false } = lxdLabEnv();
const lab = (...args: string[]) => execFileSync('bash', [LXD_LAB_SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });

test('trust with a join token, list and events over HTTPS with the pinned certificate; a wrong pin is refused', { skip, timeout: 180_000 }, () => {
  const name = `t-lxdui-${process.pid}`;
  const token = lab('lxc', '1', 'config', 'trust', 'add', '--name', name).trim().split('\n').pop()!.trim();
  let fingerprint: string | undefined;
  try {
    const script = path.join(__dirname, 'hub', 'lxd-trust.ts');
    const out = lab('exec-hub', process.execPath, '--import', 'tsx', script, env.LXD_HTTPS_1, env.LXD_CLUSTER_CERT, token, env.LXD_UNTRUSTED_CERT);
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    console.log(JSON.stringify(r));
    fingerprint = r.clientFingerprint as string;
    assert.equal(r.pinnedMatches, true, 'the certificate shown is the cluster certificate');
    assert.deepEqual(r.members, ['member1:online', 'member2:online', 'member3:online']);
    assert.equal(r.eventOverHttps, 'project-created', 'the events websocket over HTTPS delivers');
    assert.match(String(r.wrongPin), /presented the certificate with fingerprint \w+, not the pinned one/);
  } finally {
    if (fingerprint) lab('lxc', '1', 'config', 'trust', 'remove', fingerprint.slice(0, 12));
    try {
      lab('lxc', '1', 'config', 'trust', 'revoke-token', name);
    } catch {
      // used
    }
  }
});
