// Fleet benchmark (issue #14): many SSH hosts, each with a big libvirt test-driver connection.
//   node --import tsx bench/fleet.ts [--hosts 20] [--domains 500] [--rounds 7] [--cold 3] [--sshd own|lab]
// The lab's second host (scripts/lab/ssh-host.sh) stands in for every host: N ssh_config aliases of it,
// each its own SSH connection (own master and ControlPath, as N real hosts would be), each with a
// test-driver node file of its own on that host (test:///tmp/…/hNN.xml, D domains) that the remote
// libvirtd opens. Measured in the same run:
//   virtscope: the model (core/inventory.ts) with N hosts: open() to the complete tree (N masters,
//              N × CONNECT_OPEN + list over a forwarded libvirt socket); then a refresh of every
//              connection, and a metrics tick of every connection (Sampler.tick: one bulk-stats call each)
//   baselines: N `virsh -c test+ssh://alias/…?command=ssh-wrapper` shells kept open (libvirt's own C
//              client on kept connections, all hosts in parallel: the strongest a user could pick) doing
//              `list --all` + `domstats` (refresh) or `domstats` (tick); the same two commands as a new
//              virsh process per host per refresh (through a kept ControlMaster per host); and cold,
//              N new virsh shells to their first complete answer (new masters).
// The aliases reach a second sshd of that host started for the bench (its port, MaxStartups 200, stopped
// at the end): N real hosts have N sshds, and one sshd drops handshakes beyond 10 at once (--sshd lab
// measures through the lab's own sshd, with those drops retried by the model and by the baseline).
// Host discovery is replaced by the test connection (the real one probes qemu/lxc/lxc-tools/engines
// on each host, which the virsh baseline does not do either). CPU: this machine's client side (this
// process, the children it reaped, the live ssh masters and virsh shells), not the remote daemons.
// Everything made on the second host is removed at the end.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshHost } from '../src/core/host/ssh';
import { Inventory } from '../src/core/inventory';
import { Sampler } from '../src/core/metrics/sampler';
import { clientCpuMs, closeMasters, FLEET_SSHD_PORT, sshLab, sshWrapper, startFleetSshd, stopFleetSshd, writeAliases } from './sshLab';
import { testNodeXml } from './testhost';
import { arg, median } from './util';
import { VirshShell } from './virshShell';

const HOSTS = Number(arg('hosts', '20'));
const DOMAINS = Number(arg('domains', '500'));
const ROUNDS = Number(arg('rounds', '7'));
const COLD = Number(arg('cold', '3'));
/** own: the aliases reach a second sshd of the host with room for many handshakes (see startFleetSshd); lab: the lab's sshd. */
const SSHD = arg('sshd', 'own');
const GOAL_TREE_MS = 2000;
const GOAL_RATIO = 10;

interface Fleet {
  dir: string;
  config: string;
  aliases: string[];
  remoteDir: string;
  /** The driver URI on host i, as its libvirtd opens it. */
  remoteUri(i: number): string;
  /** The URI virsh is given for host i (through `wrapper`). */
  virshUri(i: number, wrapper: string): string;
}

interface Timed {
  wallMs: number;
  cpuMs: number;
}

/** Runs fn, its wall time and this machine's client CPU time. */
async function timed(tag: string, fn: () => Promise<unknown>): Promise<Timed> {
  const c0 = clientCpuMs(tag);
  const t0 = performance.now();
  await fn();
  return { wallMs: performance.now() - t0, cpuMs: clientCpuMs(tag) - c0 };
}

async function rounds(n: number, tag: string, fn: () => Promise<unknown>): Promise<Timed> {
  await fn(); // warm-up
  const xs: Timed[] = [];
  for (let i = 0; i < n; i++) xs.push(await timed(tag, fn));
  return { wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) };
}

const domainsIn = (out: string) => (out.match(/^Domain: /gm) ?? []).length;

function virsh(uri: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('virsh', ['-q', '-c', uri, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, out, stderr) =>
      err ? reject(new Error(`virsh ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(out),
    ),
  );
}

/** The node files on the second host, one per alias; the local ssh_config. */
async function makeFleet(dir: string): Promise<{ fleet: Fleet; setup: SshHost }> {
  const lab = sshLab();
  if (SSHD === 'own') startFleetSshd();
  const { config, aliases } = writeAliases(lab, dir, 'fleet', HOSTS, SSHD === 'own' ? FLEET_SSHD_PORT : undefined);
  const setup = new SshHost({ destination: aliases[0], configFile: config, controlDir: path.join(dir, 'ctl-setup') });
  const remoteDir = await setup.mkdtemp('virtscope-bench-fleet-');
  const xml = testNodeXml(DOMAINS);
  for (let i = 0; i < HOSTS; i++) await setup.writeFile(`${remoteDir}/h${i + 1}.xml`, xml);
  const fleet: Fleet = {
    dir,
    config,
    aliases,
    remoteDir,
    remoteUri: (i) => `test://${remoteDir}/h${i + 1}.xml`,
    virshUri: (i, wrapper) => `test+ssh://${aliases[i]}${remoteDir}/h${i + 1}.xml?command=${wrapper}`,
  };
  return { fleet, setup };
}

/** The model with every alias as a host whose one connection is its test-driver node. */
function fleetModel(f: Fleet, round: string): Inventory {
  const model = new Inventory({
    discover: async (_host, prefix) => {
      const i = f.aliases.indexOf(prefix.slice(0, -1));
      return [{ id: `${prefix}test`, type: 'libvirt', label: 'test driver', uri: f.remoteUri(i) }];
    },
    remoteHost: (e) => new SshHost({ destination: e.destination, configFile: f.config, controlDir: path.join(f.dir, `ctl-${round}-${e.id}`) }),
  });
  model.setLocalConnections([]);
  model.setHosts(f.aliases.map((a) => ({ id: a, destination: a })));
  // a host or connection that fails on the way is retried by itself: counted, with its reason
  model.on('status', (c, st) => st.state === 'unreachable' && setbacks.push(`${c.config.id}: ${st.message}`));
  model.on('host', (h) => h.status.state === 'unreachable' && setbacks.push(`${h.id}: ${h.status.reason}`));
  return model;
}

/** Failures met on the way to the tree (retried by the model, or virsh started again), for the report. */
const setbacks: string[] = [];
const virshSetbacks: string[] = [];

/** Every connection connected with all its guests: the complete tree. */
function treeComplete(model: Inventory): boolean {
  const conns = model.connections;
  return conns.length === HOSTS && conns.every((c) => c.status.state === 'connected' && c.guests.size === DOMAINS);
}

/**
 * open() resolves when each host and connection has a first answer; one that failed (sshd refused a
 * session under load) is retried by itself: the tree is complete when the last one is in.
 */
async function untilComplete(model: Inventory, capMs = 120_000): Promise<void> {
  await model.open();
  const t0 = performance.now();
  while (!treeComplete(model)) {
    if (performance.now() - t0 > capMs) {
      const bad = model.connections.filter((c) => c.status.state !== 'connected' || c.guests.size !== DOMAINS);
      const hosts = model.hosts.filter((h) => h.remote && h.status.state !== 'ready');
      throw new Error(
        `incomplete tree: ${[...bad.map((c) => `${c.config.id} ${JSON.stringify(c.status)}`), ...hosts.map((h) => `${h.id} ${JSON.stringify(h.status)}`)].join('; ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Where the cold tree's time goes: every master up, the first and the last host's connection complete. */
const phases = { mastersUp: [] as number[], firstHost: [] as number[] };

/** virtscope, cold: a new model to its complete tree (new masters), COLD times. */
async function virtscopeCold(f: Fleet): Promise<Timed> {
  const xs: Timed[] = [];
  for (let r = 0; r < COLD; r++) {
    const model = fleetModel(f, `cold${r}`);
    const t0 = performance.now();
    let up: number | undefined;
    let first: number | undefined;
    model.on('host', () => (up ??= model.hosts.every((h) => !h.remote || h.status.state === 'ready') ? performance.now() - t0 : undefined));
    model.on('guests', (c) => (first ??= c.guests.size === DOMAINS ? performance.now() - t0 : undefined));
    try {
      xs.push(await timed(f.dir, () => untilComplete(model)));
      phases.mastersUp.push(up ?? NaN);
      phases.firstHost.push(first ?? NaN);
    } finally {
      await model.dispose();
    }
  }
  return { wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) };
}

/** virtscope, warm: refresh of every connection, and one metrics tick of every connection. */
async function virtscopeWarm(f: Fleet): Promise<{ refresh: Timed; tick: Timed }> {
  const model = fleetModel(f, 'warm');
  const sampler = new Sampler({ intervalMs: 3_600_000, connection: (id) => model.connection(id) });
  try {
    await untilComplete(model);
    const refresh = await rounds(ROUNDS, f.dir, async () => {
      await Promise.all(model.connections.map((c) => c.refresh()));
      if (!treeComplete(model)) throw new Error('a refresh lost the complete tree');
    });
    const releases = model.connections.map((c) => sampler.subscribe({ connectionId: c.config.id }));
    while (sampler.ticks < 1) await new Promise((r) => setTimeout(r, 10));
    const tick = await rounds(ROUNDS, f.dir, async () => {
      await sampler.tick();
      if (sampler.errors.size) throw new Error(`sampler: ${[...sampler.errors].join('; ')}`);
    });
    releases.forEach((r) => r());
    return { refresh, tick };
  } finally {
    sampler.dispose();
    await model.dispose();
  }
}

/** A virsh run that failed (sshd refused a session or a handshake under load) is run again, and counted. */
async function again<T>(alias: string, fn: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      virshSetbacks.push(`${alias}: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`);
      if (attempt >= tries) throw e;
    }
  }
}

/** Shells quit before their masters go (else each says "Disconnected … due to end of file"). */
async function closeShells(shells: readonly VirshShell[]): Promise<void> {
  shells.forEach((s) => s.close());
  await new Promise((r) => setTimeout(r, 1000));
}

/** Baselines with virsh: cold shells, kept shells (refresh and tick), a process per host per refresh. */
async function virshBaselines(f: Fleet): Promise<{ cold: Timed; kept: Timed; keptTick: Timed; perProcess: Timed }> {
  const idx = f.aliases.map((_, i) => i);
  const both = async (shell: VirshShell) => {
    const out = await shell.run('list --all', 'domstats');
    if (domainsIn(out) !== DOMAINS) throw new Error(`a kept virsh shell listed ${domainsIn(out)} domains`);
  };
  const colds: Timed[] = [];
  for (let r = 0; r < COLD; r++) {
    const ctl = path.join(f.dir, `vc${r}`);
    const wrapper = sshWrapper(f.dir, `ssh-cold${r}`, f.config, ctl);
    const shells: VirshShell[] = [];
    // a shell whose connection failed (sshd dropped the handshake under load) is started again, as the
    // model retries by itself
    const firstAnswer = async (i: number) => {
      for (let attempt = 1; ; attempt++) {
        const shell = new VirshShell(f.virshUri(i, wrapper));
        shells.push(shell);
        try {
          return await both(shell);
        } catch (e) {
          virshSetbacks.push(`${f.aliases[i]}: ${(e as Error).message}`);
          if (attempt >= 10) throw e;
        }
      }
    };
    try {
      colds.push(await timed(f.dir, () => Promise.all(idx.map(firstAnswer))));
    } finally {
      await closeShells(shells);
      closeMasters(f.config, ctl, f.aliases);
    }
  }
  const ctl = path.join(f.dir, 'vk');
  const wrapper = sshWrapper(f.dir, 'ssh-kept', f.config, ctl);
  const shells = idx.map((i) => new VirshShell(f.virshUri(i, wrapper)));
  try {
    const kept = await rounds(ROUNDS, f.dir, () => Promise.all(shells.map(both)));
    const keptTick = await rounds(ROUNDS, f.dir, () =>
      Promise.all(shells.map(async (s) => domainsIn(await s.run('domstats')) === DOMAINS || Promise.reject(new Error('short domstats')))),
    );
    const perProcess = await rounds(ROUNDS, f.dir, () =>
      Promise.all(
        idx.map(async (i) => {
          await again(f.aliases[i], () => virsh(f.virshUri(i, wrapper), 'list', '--all'));
          await again(f.aliases[i], () => virsh(f.virshUri(i, wrapper), 'domstats'));
        }),
      ),
    );
    const cold = { wallMs: median(colds.map((x) => x.wallMs)), cpuMs: median(colds.map((x) => x.cpuMs)) };
    return { cold, kept, keptTick, perProcess };
  } finally {
    await closeShells(shells);
    closeMasters(f.config, ctl, f.aliases);
  }
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

function report(vs: { cold: Timed; refresh: Timed; tick: Timed }, base: Awaited<ReturnType<typeof virshBaselines>>): void {
  const rows: [string, Timed, string, Timed][] = [
    ['complete tree, cold (new SSH connections)', vs.cold, `${HOSTS} new virsh shells: list --all + domstats`, base.cold],
    ['refresh every connection (list)', vs.refresh, `${HOSTS} kept virsh shells: list --all + domstats`, base.kept],
    ['refresh every connection (list)', vs.refresh, `virsh per host per refresh (kept ControlMaster)`, base.perProcess],
    ['metrics tick of every connection', vs.tick, `${HOSTS} kept virsh shells: domstats`, base.keptTick],
  ];
  console.log(`virtscope fleet benchmark: ${HOSTS} SSH hosts × ${DOMAINS} test-driver domains (${HOSTS * DOMAINS} guests); medians`);
  console.log(`(cold: ${COLD} rounds; warm: ${ROUNDS} rounds after 1 warm-up; CPU = this machine's client side)`);
  console.log(
    SSHD === 'own'
      ? `(the hosts are aliases of the lab's second host through a second sshd of it, port ${FLEET_SSHD_PORT}, MaxStartups 200: N hosts have N sshds)`
      : "(the hosts are aliases of the lab's second host through its one sshd: MaxStartups 10:30:100 drops concurrent handshakes)",
  );
  console.log('');
  for (const [what, v, baseline, b] of rows) {
    console.log(`${what}: virtscope ${fmt(v.wallMs)} ms wall, ${fmt(v.cpuMs)} ms CPU`);
    console.log(
      `  vs "${baseline}": ${fmt(b.wallMs)} ms wall, ${fmt(b.cpuMs)} ms CPU  ->  wall ${(b.wallMs / v.wallMs).toFixed(1)}x, CPU ${(b.cpuMs / Math.max(v.cpuMs, 0.1)).toFixed(1)}x`,
    );
  }
  console.log(
    `(cold tree: every SSH master up after ${fmt(median(phases.mastersUp))} ms, the first host's ${DOMAINS} guests after ${fmt(median(phases.firstHost))} ms, the last after ${fmt(vs.cold.wallMs)} ms)`,
  );
  console.log('');
  console.log(`goal: complete tree under ${GOAL_TREE_MS} ms: ${vs.cold.wallMs < GOAL_TREE_MS ? 'met' : 'NOT met'} (${fmt(vs.cold.wallMs)} ms)`);
  const perTick = base.perProcess.cpuMs / Math.max(vs.refresh.cpuMs, 0.1);
  console.log(
    `goal: ≥${GOAL_RATIO}x cheaper than the virsh loop (a process per host per refresh), CPU: ${perTick >= GOAL_RATIO ? 'met' : 'NOT met'} (${perTick.toFixed(1)}x)`,
  );
  if (setbacks.length) console.log(`retried by the model on the way (${setbacks.length}): ${[...new Set(setbacks)].slice(0, 5).join(' | ')}`);
  if (virshSetbacks.length) console.log(`virsh shells started again (${virshSetbacks.length}): ${[...new Set(virshSetbacks)].slice(0, 5).join(' | ')}`);
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-bench-fleet-'));
  let setup: SshHost | undefined;
  let remoteDir: string | undefined;
  try {
    const made = await makeFleet(dir);
    setup = made.setup;
    remoteDir = made.fleet.remoteDir;
    const cold = await virtscopeCold(made.fleet);
    const warm = await virtscopeWarm(made.fleet);
    console.log(
      `(virtscope measured: tree ${fmt(cold.wallMs)} ms, refresh ${fmt(warm.refresh.wallMs)} ms, tick ${fmt(warm.tick.wallMs)} ms; now the baselines)`,
    );
    const base = await virshBaselines(made.fleet);
    report({ cold, ...warm }, base);
  } finally {
    if (setup && remoteDir) await setup.rm(remoteDir, { recursive: true, force: true }).catch((e) => console.error(`cleanup on the second host: ${e}`));
    await setup?.dispose();
    if (SSHD === 'own') stopFleetSshd();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
