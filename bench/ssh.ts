// SSH benchmark (issue #14): what SSH adds, against baselines measured in the same run on the lab's
// second host (scripts/lab/ssh-host.sh).
//   node --import tsx bench/ssh.ts [--runs 30] [--calls 50] [--containers 20] [--drop-cap 150] [--guests 10] [--only 4,5]
// 1. Channel open: SshHost.run(['true']) through its master, vs `ssh … true` through a kept ControlMaster
//    (what a user's ControlMaster=auto gives), vs a new `ssh … true` per command (a whole login each).
// 2. libvirt over SSH: one RPC call (domainGetState) and a verb (suspend/resume) on the same test-driver
//    domain, through this machine's libvirtd (unix socket) and the second host's (forwarded over SSH).
// 3. lxc-tools polling: one listing of N containers (config-only, in a temporary lxcpath on the second
//    host) now, vs the per-container calls it made before (a directory listing, then exists, lxc-info and
//    the config per container); SSH channels per listing counted on the Host.
// 4. A dropped link: the model (one host, one libvirt connection) reaches the second host through a
//    relay on this machine that is then stalled (no byte either way, as a pulled cable) and released:
//    how long until the connection and the host show as unreachable, and until both are back. Only this
//    bench's own connections go through the relay: the shared second host is never cut for anyone else.
// 5. A metrics tick for the second host and N running guests: SSH channels and ms per tick now (the
//    tick's files in one Host.readFiles per round) vs file by file (a channel per file, as before; the
//    pids, asked every tick before, are not counted in it). The lab's remote guests may be stopped and
//    are not this bench's to start: N processes started here, each in a cgroup of its own (v1 cpu,
//    cpuacct, memory, blkio; removed at the end), stand in for running containers, their cgroup and
//    /proc files read as the lxc-tools collector reads a container's.
// Everything made on the second host is removed at the end.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../src/core/backends/libvirt';
import { LxcBackend } from '../src/core/backends/lxc';
import { Connection } from '../src/core/connection';
import { readEach } from '../src/core/host/host';
import { Sampler } from '../src/core/metrics/sampler';
import type { Backend, ConnectionConfig } from '../src/core/model';
import type { Host } from '../src/core/host/host';
import { SERVER_ALIVE, SshHost } from '../src/core/host/ssh';
import { Inventory } from '../src/core/inventory';
import { LibvirtClient } from '../src/core/libvirt/client';
import { connectUnix, resolveLibvirtUriOn } from '../src/core/libvirt/transport';
import { aliasBlock, closeMasters, LAB_SCRIPT, sshLab, sshWrapper, writeAliases, type SshLab } from './sshLab';
import { CapableBackend } from '../test/fixtures/capableBackend';
import { countingHost } from '../test/fixtures/remote/countingHost';
import { StallRelay } from '../test/fixtures/remote/stallRelay';
import { testNodeXml } from './testhost';
import { arg, median } from './util';

const RUNS = Number(arg('runs', '30'));
const CALLS = Number(arg('calls', '50'));
const CONTAINERS = Number(arg('containers', '20'));
const DROP_CAP_S = Number(arg('drop-cap', '150'));
const GUESTS = Number(arg('guests', '10'));
/** Only these parts (numbers as below), default all. */
const ONLY = arg('only', '').split(',').filter(Boolean);
const part = (n: number) => !ONLY.length || ONLY.includes(String(n));

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function medianOf(n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

function exec(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 30_000 }, (e, _o, err) => (e ? reject(new Error(`${file}: ${err || e.message}`)) : resolve())),
  );
}

/** 1. A channel through the master vs ssh's own multiplexing vs a new connection. */
async function channels(dir: string, config: string, alias: string, host: SshHost): Promise<void> {
  const ctl = path.join(dir, 'mux');
  const mux = sshWrapper(dir, 'ssh-mux', config, ctl);
  const fresh = ['-F', config, '-o', 'BatchMode=yes', '-o', 'ControlPath=none', '-o', 'LogLevel=ERROR', alias, 'true'];
  try {
    const vs = await medianOf(RUNS, () => host.run(['true']));
    const kept = await medianOf(RUNS, () => exec(mux, [alias, 'true']));
    const fresh1 = await medianOf(Math.max(5, Math.round(RUNS / 3)), () => exec('ssh', fresh));
    console.log(`1. channel open (median of ${RUNS} \`true\` runs)`);
    console.log(`   virtscope SshHost.run through its master:     ${fmt(vs)} ms`);
    console.log(`   \`ssh … true\` through a kept ControlMaster:    ${fmt(kept)} ms  (kept/virtscope ${(kept / vs).toFixed(1)}x)`);
    console.log(`   a new \`ssh … true\` per command (new login):   ${fmt(fresh1)} ms  (new/virtscope ${(fresh1 / vs).toFixed(1)}x)`);
  } finally {
    closeMasters(config, ctl, [alias]);
  }
}

/** An open libvirt client on `host` (undefined: this machine) for `uri`. */
async function clientFor(uri: string, host?: Host): Promise<LibvirtClient> {
  const ep = await resolveLibvirtUriOn(host, uri);
  const c = new LibvirtClient(await connectUnix(ep.socketPath, { host }), { keepaliveIntervalMs: 0 });
  await c.authenticate();
  await c.connectOpen(ep.name, 0);
  return c;
}

/** 2. One libvirt call and one verb, on this machine's libvirtd and on the second host's. */
async function libvirtLatency(dir: string, host: SshHost, remoteDir: string): Promise<void> {
  const xml = testNodeXml(10, [1]);
  fs.writeFileSync(path.join(dir, 'node.xml'), xml);
  await host.writeFile(`${remoteDir}/node.xml`, xml);
  const sides: [string, string, Host | undefined][] = [
    ['this machine (unix socket)', `test+unix://${dir}/node.xml`, undefined],
    [`${host.label} (over SSH)`, `test://${remoteDir}/node.xml`, host],
  ];
  const rows: [string, number, number][] = [];
  for (const [where, uri, h] of sides) {
    const c = await clientFor(uri, h);
    const b = new LibvirtBackend({ id: where, type: 'libvirt', uri }, { host: h });
    try {
      const dom = await c.domainLookupByName('bench-0000');
      const call = await medianOf(CALLS, () => c.domainGetState(dom));
      await b.connect();
      let paused = false;
      const verb = await medianOf(Math.max(5, Math.round(CALLS / 2.5)), async () => {
        await b.perform('bench-0000', paused ? 'resume' : 'suspend');
        paused = !paused;
      });
      if (paused) await b.perform('bench-0000', 'resume');
      rows.push([where, call, verb]);
    } finally {
      await b.close();
      await c.connectClose();
    }
  }
  const [[, lc, lv], [, rc, rv]] = rows;
  console.log(`2. libvirt (test driver, same domain; medians of ${CALLS} calls / ${Math.max(5, Math.round(CALLS / 2.5))} verbs)`);
  for (const [where, call, verb] of rows) console.log(`   ${where}: domainGetState ${call.toFixed(2)} ms, suspend/resume verb ${fmt(verb)} ms`);
  const signed = (ms: number, digits: number) => `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(digits)} ms`;
  console.log(`   added by SSH: call ${signed(rc - lc, 2)} (${(rc / lc).toFixed(1)}x local), verb ${signed(rv - lv, 1)} (${(rv / lv).toFixed(1)}x local)`);
}

/** How lxc-tools was listed before: a directory listing, then exists, lxc-info and the config per container. */
async function listBefore(host: Host, lxcPath: string): Promise<number> {
  const entries = (await host.readdir(lxcPath)).filter((e) => e.type === 'directory');
  const found = await Promise.all(
    entries.map(async (e) => {
      if (!(await host.exists(`${lxcPath}/${e.name}/config`))) return 0;
      await Promise.all([host.run(['lxc-info', '-n', e.name, '-P', lxcPath, '-H']), host.readFile(`${lxcPath}/${e.name}/config`)]);
      return 1;
    }),
  );
  return found.reduce<number>((a, b) => a + b, 0);
}

/** 3. lxc-tools polling over SSH: channels and time per listing, before and now. */
async function lxcPolling(host: SshHost, remoteDir: string): Promise<void> {
  const lxcPath = `${remoteDir}/lxc`;
  for (let i = 0; i < CONTAINERS; i++) {
    await host.mkdir(`${lxcPath}/ct${i}`, { recursive: true });
    await host.writeFile(`${lxcPath}/ct${i}/config`, 'lxc.uts.name = ct\nlxc.cgroup2.memory.max = 64M\n');
  }
  const before = countingHost(host);
  if ((await listBefore(before.host, lxcPath)) !== CONTAINERS) throw new Error('the old listing missed containers');
  const beforeChannels = before.ops.length;
  const beforeMs = await medianOf(5, () => listBefore(host, lxcPath));
  const now = countingHost(host);
  const b = new LxcBackend({ id: 'lxc', type: 'lxc', lxcPath }, now.host);
  await b.connect();
  const n1 = now.ops.length;
  if ((await b.list()).length !== CONTAINERS) throw new Error('the listing missed containers');
  const nowChannels = now.ops.length - n1;
  const nowMs = await medianOf(5, () => b.list());
  console.log(`3. lxc-tools poll over SSH, ${CONTAINERS} containers (median of 5 listings)`);
  console.log(`   before (1 + 3 channels per container): ${beforeChannels} channels, ${fmt(beforeMs)} ms`);
  console.log(
    `   now (one listing script):              ${nowChannels} channel, ${fmt(nowMs)} ms  ->  ${(beforeMs / nowMs).toFixed(1)}x faster, ${beforeChannels / nowChannels}x fewer channels`,
  );
}

/** Seconds from now until `cond`, polled every 50 ms; undefined after `capS`. */
async function secondsUntil(cond: () => boolean, capS: number): Promise<number | undefined> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > capS * 1000) return undefined;
    await sleep(50);
  }
  return (performance.now() - t0) / 1000;
}

/** 4. The link to the host stalls and comes back: what the model shows, and when. */
async function dropDetection(lab: SshLab, dir: string, remoteDir: string): Promise<void> {
  const relay = new StallRelay(lab.addr);
  const port = await relay.listen();
  const config = path.join(dir, 'ssh_config_drop');
  fs.writeFileSync(config, aliasBlock(lab, 'dropped', '127.0.0.1', port), { mode: 0o600 });
  const model = new Inventory({
    discover: async (_h, prefix) => [{ id: `${prefix}test`, type: 'libvirt', uri: `test://${remoteDir}/node.xml` }],
    remoteHost: (e) => new SshHost({ destination: e.destination, configFile: config, controlDir: path.join(dir, 'ctl-drop') }),
  });
  const s = (x?: number) => (x === undefined ? `not within ${DROP_CAP_S} s` : `${x.toFixed(1)} s`);
  try {
    model.setLocalConnections([]);
    model.setHosts([{ id: 'dropped', destination: 'dropped' }]);
    await model.open();
    const h = () => model.host('dropped')!;
    const conn = () => model.connection('dropped/test');
    if (conn()?.status.state !== 'connected') throw new Error(`the drop test did not connect: ${JSON.stringify(conn()?.status)} ${JSON.stringify(h().status)}`);
    relay.stall();
    const [connDown, hostDown] = await Promise.all([
      secondsUntil(() => conn()?.status.state !== 'connected', DROP_CAP_S),
      secondsUntil(() => h().status.state === 'unreachable', DROP_CAP_S),
    ]);
    const st = h().status;
    const reason = st.state === 'unreachable' ? st.reason : JSON.stringify(conn()?.status);
    relay.release();
    const [hostUp, connUp] = await Promise.all([
      secondsUntil(() => h().status.state === 'ready', DROP_CAP_S),
      secondsUntil(() => conn()?.status.state === 'connected' && conn()!.guests.size === 10, DROP_CAP_S),
    ]);
    const alive = `ssh keepalive every ${SERVER_ALIVE.intervalS} s, gives up after ${SERVER_ALIVE.countMax + 1} silent intervals`;
    console.log(
      `4. dropped link (relay stalled: no byte either way; ${alive}; before: every 15 s, after 4, and the host was checked only at its local master)`,
    );
    console.log(`   connection no longer connected after ${s(connDown)}; host shown unreachable after ${s(hostDown)}: "${reason}"`);
    console.log(`   link back: host ready after ${s(hostUp)}, connection connected with its guests after ${s(connUp)}`);
  } finally {
    relay.release();
    await model.dispose();
    relay.close();
  }
}

// Fixed scripts (the count and the pids arrive as arguments): a sleeping process per guest, each moved
// into cgroups of its own; and the processes and their cgroups gone again.
const GUEST_CGROUPS = 'cpu cpuacct memory blkio';
const START_GUESTS =
  `i=0; while [ $i -lt "$1" ]; do sleep 600 >/dev/null 2>&1 & p=$!; for c in ${GUEST_CGROUPS}; do d=/sys/fs/cgroup/$c/virtscope-bench-$p; ` +
  'mkdir -p $d 2>/dev/null && echo $p > $d/cgroup.procs 2>/dev/null; done; echo $p; i=$((i+1)); done';
const STOP_GUESTS = `kill "$@"; sleep 0.5; for p; do for c in ${GUEST_CGROUPS}; do rmdir /sys/fs/cgroup/$c/virtscope-bench-$p 2>/dev/null; done; done; true`;

/** `host`, reading several files one by one (a channel each): how the sampler read before. */
function fileByFile(host: Host): Host {
  return new Proxy(host, {
    get: (t, prop) => (prop === 'readFiles' ? (ps: readonly string[]) => readEach(t, ps) : (Reflect.get(t, prop, t) as unknown)),
  });
}

/** Processes on a host as running containers (lxc-tools kind): a host process each, nothing else. */
function processGuests(config: ConnectionConfig, host: Host, pids: readonly number[]): Backend {
  const b = new CapableBackend(config);
  b.guests = pids.map((pid) => ({ id: `p${pid}`, name: `p${pid}`, kind: 'lxc', state: 'running', rawState: 'RUNNING' }));
  b.caps = (guest) => (guest ? { hostProcess: { host, pid: async () => Number(guest.id.slice(1)) } } : {});
  return b;
}

/**
 * Channels and ms of one steady tick (median of `n`) of a sampler of `host` with `pids` as its guests;
 * `reading` is how the host reads several files (as is, or fileByFile).
 */
async function tickCost(host: SshHost, pids: readonly number[], n: number, reading: (h: Host) => Host): Promise<{ channels: number; ms: number }> {
  const counted = countingHost(host);
  const h = reading(counted.host);
  const conn = new Connection({ id: 'guests', type: 'lxc' }, (k) => processGuests(k, h, pids));
  const sampler = new Sampler({ intervalMs: 3_600_000, host: h, connection: () => conn });
  await conn.start();
  const first = new Promise((r) => sampler.once('tick', r));
  const release = sampler.subscribe({ connectionId: conn.config.id });
  try {
    await first; // cgroup layout, pids: once
    counted.ops.length = 0;
    await sampler.tick();
    const channels = counted.ops.length;
    if (sampler.errors.size || !sampler.counters('guests', `p${pids[0]}`)) throw new Error(`the tick read nothing: ${JSON.stringify([...sampler.errors])}`);
    return { channels, ms: await medianOf(n, () => sampler.tick()) };
  } finally {
    release();
    sampler.dispose();
    await conn.dispose();
  }
}

const channelsText = (n: number) => `${n} channel${n === 1 ? '' : 's'}`;

/** 5. The sampler's tick for a remote host and its guests, file by file vs batched. */
async function metricsTick(host: SshHost): Promise<void> {
  const started = await host.run(['sh', '-c', START_GUESTS, 'sh', String(GUESTS)]);
  const pids = started.stdout.split('\n').filter(Boolean).map(Number);
  try {
    const before = await tickCost(host, pids, 5, fileByFile);
    const now = await tickCost(host, pids, 5, (h) => h);
    console.log(`5. metrics tick for ${host.label} and ${pids.length} running guests (processes standing in for containers; median of 5 ticks)`);
    console.log(`   before (a channel per file):             ${channelsText(before.channels)}, ${fmt(before.ms)} ms`);
    console.log(
      `   now (the tick's files in one readFiles): ${channelsText(now.channels)}, ${fmt(now.ms)} ms  ->  ${(before.ms / now.ms).toFixed(1)}x faster, ${(before.channels / now.channels).toFixed(1)}x fewer channels`,
    );
  } finally {
    await host.run(['sh', '-c', STOP_GUESTS, 'sh', ...pids.map(String)]);
  }
}

async function main(): Promise<void> {
  const lab = sshLab();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-bench-ssh-'));
  const { config, aliases } = writeAliases(lab, dir, 'sshb', 1);
  const host = new SshHost({ destination: aliases[0], configFile: config, controlDir: path.join(dir, 'ctl') });
  let remoteDir: string | undefined;
  try {
    remoteDir = await host.mkdtemp('virtscope-bench-ssh-');
    console.log(`virtscope SSH benchmark against the lab's second host (${lab.addr}); medians`);
    if (part(1)) await channels(dir, config, aliases[0], host);
    if (part(4) && !part(2)) await host.writeFile(`${remoteDir}/node.xml`, testNodeXml(10, [1])); // the drop test's domains
    if (part(2)) await libvirtLatency(dir, host, remoteDir);
    if (part(3)) await lxcPolling(host, remoteDir);
    if (part(4)) await dropDetection(lab, dir, remoteDir);
    if (part(5)) await metricsTick(host);
  } finally {
    if (remoteDir) await host.rm(remoteDir, { recursive: true, force: true }).catch((e) => console.error(`cleanup on the second host: ${e}`));
    await host.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    const status = execFileSync('bash', [LAB_SCRIPT, 'status'], { encoding: 'utf8' }).trim().split('\n').pop();
    console.log(`second host afterwards: ${status}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
