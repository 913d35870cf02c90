// The lab's LXD cluster (scripts/lab/lxd-cluster.sh): three Online members answering on their unix
// sockets, HTTPS only inside the lab's namespaces, nothing of it in this machine's network namespace.
// Brings the cluster up if it is not, and takes it down again then (others usually keep it up).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

const LAB = path.join(__dirname, '../../scripts/lab/lxd-cluster.sh');
const lab = (...args: string[]) => execFileSync('bash', [LAB, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
const MEMBERS = [1, 2, 3];

const env: Record<string, string> = {};
let broughtUp = false;

before(() => {
  if (lab('status').trim().split('\n').pop() !== 'lxd: up') {
    lab('up');
    broughtUp = true;
  }
  for (const l of lab('env').split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) env[l.slice(0, i)] = l.slice(i + 1);
  }
});

after(() => {
  if (broughtUp) lab('down');
});

interface LxdResponse {
  type: string;
  status_code: number;
  metadata: Record<string, unknown> & Array<Record<string, unknown>>;
}

/** GET over an LXD unix socket (what the extension does for a local member). */
function getJson(socketPath: string, urlPath: string): Promise<LxdResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: urlPath, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as LxdResponse);
        } catch (e) {
          reject(new Error(`${urlPath}: HTTP ${res.statusCode}, not JSON: ${body.slice(0, 200)} (${String(e)})`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${urlPath}: timed out`)));
    req.on('error', reject);
  });
}

test('three members, each answering GET /1.0 on its unix socket, all Online in one cluster', async () => {
  for (const n of MEMBERS) {
    const r = await getJson(env[`LXD_SOCKET_${n}`], '/1.0');
    assert.equal(r.status_code, 200);
    const environment = r.metadata.environment as Record<string, unknown>;
    assert.equal(environment.server_name, `member${n}`);
    assert.equal(environment.server_clustered, true);
    assert.equal(r.metadata.auth, 'trusted', 'the unix socket is trusted');
  }
  const members = (await getJson(env.LXD_SOCKET_1, '/1.0/cluster/members?recursion=1')).metadata;
  assert.deepEqual(
    members.map((m) => [m.server_name, m.url, m.status]).sort(),
    MEMBERS.map((n) => [`member${n}`, env[`LXD_HTTPS_${n}`], 'Online']),
  );
  const alias = await getJson(env.LXD_SOCKET_2, `/1.0/images/aliases/${env.LXD_IMAGE}`);
  assert.equal(alias.status_code, 200, `image alias ${env.LXD_IMAGE}`);
});

// Connecting from here to 10.82.0.x would follow this machine's default route out: never done. What is
// checked instead: the daemons live in other network namespaces, and this one has no interface, address
// or route of the cluster (so `ip route get` picks no lab interface).
test("nothing of the cluster in this machine's network namespace", () => {
  const self = fs.readlinkSync('/proc/self/ns/net');
  for (const n of MEMBERS) {
    const pid = fs.readFileSync(path.join(env.LXD_BASE, String(n), 'daemon.pid'), 'utf8').split(' ')[0];
    assert.notEqual(fs.readlinkSync(`/proc/${pid}/ns/net`), self, `member${n}'s daemon runs in another netns`);
  }
  const links = JSON.parse(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  for (const l of links) {
    assert.doesNotMatch(l.ifname, /^(vslxd|lxdbr)/, `interface ${l.ifname}`);
    for (const a of l.addr_info) assert.doesNotMatch(a.local, /^10\.8[23]\./, `address ${a.local} on ${l.ifname}`);
  }
  const routes = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'table', 'all'], { encoding: 'utf8' })) as Array<{ dst: string; dev?: string }>;
  for (const r of routes) assert.doesNotMatch(r.dst, /^10\.8[23]\./, `route ${r.dst} via ${r.dev}`);
  for (const n of MEMBERS) {
    const [got] = JSON.parse(execFileSync('ip', ['-j', 'route', 'get', `10.82.0.${n}`], { encoding: 'utf8' })) as Array<{ dev: string; gateway?: string }>;
    assert.doesNotMatch(got.dev, /^(vslxd|lxdbr)/, `route to 10.82.0.${n}`);
  }
});

test('HTTPS inside the hub namespace: the pinned cluster certificate, a trusted and an untrusted client', () => {
  const https = (n: number, which: 'CLIENT' | 'UNTRUSTED') => {
    const url = new URL(env[`LXD_HTTPS_${n}`]);
    // the certificate names the machine's hostname only: reach the member's address under that name
    const out = lab(
      'exec-hub',
      'curl',
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      env.LXD_CLUSTER_CERT,
      '--resolve',
      `${env.LXD_SERVER_NAME}:${url.port}:${url.hostname}`,
      '--cert',
      env[`LXD_${which}_CERT`],
      '--key',
      env[`LXD_${which}_KEY`],
      `https://${env.LXD_SERVER_NAME}:${url.port}/1.0`,
    );
    return (JSON.parse(out) as LxdResponse).metadata;
  };
  for (const n of MEMBERS) {
    const m = https(n, 'CLIENT');
    assert.equal(m.auth, 'trusted');
    assert.equal((m.environment as Record<string, unknown>).server_name, `member${n}`);
  }
  assert.equal(https(1, 'UNTRUSTED').auth, 'untrusted');
});
