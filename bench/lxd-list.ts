// LXD cluster listing and event latency: virtscope's own LXD client vs the `lxc` CLI, same run.
//   node --import tsx bench/lxd-list.ts [--count 300] [--running 30] [--rounds 7] [--events 15]
// Needs the lab's LXD cluster up (scripts/lab/lxd-cluster.sh up). Populates it with COUNT busybox
// containers bench-NNN over the 3 members (RUNNING of them started), measures, and removes them again.
//   virtscope full: one kept client on member1's unix socket: instances?recursion=2 + cluster members
//   virtscope tree: instances?recursion=1 + members (what the tree shows: name, status, member, type)
//   baseline:       `lxc list --format json` (the same data as recursion=2), a process per round, in
//                   the hub netns as the lab runs every lxc command (no kept mode exists for lxc)
//   baseline tree:  `lxc list --format csv -c ntsL` (the tree's columns)
//   virtscope tree + states: recursion=1 + members, then /state of each running instance (8 at a
//                   time): the tree with live figures, what the backend shows (vs lxc list json)
// Then event latency: `lxc config set` on a bench instance → the lifecycle event in our callback,
// from LXD's own event timestamp and from the start of the lxc command.
// Then a metrics panel on PANEL running instances (--panel 50; more are started for it): the CPU one
// tick of the extension's sampler costs (the cluster connection's Host Overview: /state of each running
// instance, 8 at a time, plus this machine's /proc) vs lxd-ui's way of refreshing the same figures, GET
// /1.0/instances?recursion=2 on a kept connection, and vs `lxc list --format json` (a process per tick).
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { LxdApi } from '../src/core/backends/lxd/api';
import { LxdBackend } from '../src/core/backends/lxdBackend';
import { Connection } from '../src/core/connection';
import { Sampler } from '../src/core/metrics/sampler';
import { LxdClient } from '../src/core/backends/lxd/client';
import type { LxdLifecycleEvent } from '../src/core/backends/lxd/types';
import { LXD_LAB_SCRIPT, lxdLabEnv, type LxdLabEnv } from '../test/integration/lxdLab';
import { arg, median } from './util';

const execFileP = promisify(execFile);
const COUNT = Number(arg('count', '300'));
const RUNNING = Number(arg('running', '30'));
const ROUNDS = Number(arg('rounds', '7'));
const EVENTS = Number(arg('events', '15'));
const PANEL = Number(arg('panel', '50'));
const GOAL = 5;

/** `lxc ARGS` against member 1 exactly as the lab runs it, without the lab script around it. */
function lxcDirect(env: LxdLabEnv, ...args: string[]): Promise<string> {
  const childEnv = { ...process.env, LXD_DIR: `${env.LXD_BASE}/1`, LXD_CONF: `${env.LXD_BASE}/lxcconf` };
  return execFileP('nsenter', [`--net=${env.LXD_HUB_NETNS}`, 'lxc', ...args], { env: childEnv, maxBuffer: 256 << 20, timeout: 120_000 }).then((r) => r.stdout);
}

async function timeRounds(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** "2026-12-03T17:03:49.452510209Z" in ms since the epoch, to the microsecond. */
function lxdTime(ts: string): number {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return NaN;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

async function listing(env: LxdLabEnv, api: LxdApi) {
  const full = await timeRounds(() => Promise.all([api.instances({ recursion: 2 }), api.members()]));
  const tree = await timeRounds(() => Promise.all([api.instances({ recursion: 1 }), api.members()]));
  const treeStates = await timeRounds(async () => {
    const [list] = await Promise.all([api.instances({ recursion: 1 }), api.members()]);
    return api.runningStates(list);
  });
  const cli = await timeRounds(() => lxcDirect(env, 'list', '--format', 'json'));
  const cliTree = await timeRounds(() => lxcDirect(env, 'list', '--format', 'csv', '-c', 'ntsL'));
  const [n, seen] = [(await api.instances({ recursion: 1 })).length, JSON.parse(await lxcDirect(env, 'list', '--format', 'json')).length];
  const row = (what: string, xs: number[]) =>
    console.log(`  ${what.padEnd(66)} ${median(xs).toFixed(0).padStart(6)} ms   (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`);
  console.log(`\nListing ${n} instances (lxc sees ${seen}), 3 members, median of ${ROUNDS} rounds after a warm-up:`);
  row('virtscope full: instances?recursion=2 + members', full);
  row('baseline: lxc list --format json (a process per round)', cli);
  row('virtscope tree: instances?recursion=1 + members', tree);
  row('baseline tree: lxc list --format csv -c ntsL', cliTree);
  row('virtscope tree + state of the running ones (/state, 8 at a time)', treeStates);
  const r1 = median(cli) / median(full);
  const r2 = median(cliTree) / median(tree);
  console.log(`  ratio full: ${r1.toFixed(1)}x  (goal >= ${GOAL}x: ${r1 >= GOAL ? 'met' : 'NOT met'})`);
  console.log(`  ratio tree: ${r2.toFixed(1)}x  (goal >= ${GOAL}x: ${r2 >= GOAL ? 'met' : 'NOT met'})`);
  const r3 = median(cli) / median(treeStates);
  console.log(`  ratio tree + running states vs lxc list --format json: ${r3.toFixed(1)}x  (goal >= ${GOAL}x: ${r3 >= GOAL ? 'met' : 'NOT met'})`);
  console.log(
    `  complete tree under 1 s: full ${median(full) < 1000 ? 'yes' : 'NO'} (${median(full).toFixed(0)} ms), tree ${median(tree) < 1000 ? 'yes' : 'NO'} (${median(tree).toFixed(0)} ms)`,
  );
}

async function eventLatency(env: LxdLabEnv, client: LxdClient) {
  const fromStamp: number[] = [];
  const fromCli: number[] = [];
  let waiting: ((at: number, stamp: number) => void) | undefined;
  const sub = client.events(
    { types: ['lifecycle'] },
    (e) => {
      const md = e.metadata as LxdLifecycleEvent;
      if (md.action === 'instance-updated' && md.source === '/1.0/instances/bench-001') waiting?.(Date.now(), lxdTime(e.timestamp));
    },
    () => undefined,
  );
  await sub.ready;
  for (let i = 0; i < EVENTS; i++) {
    const t0 = Date.now();
    const got = new Promise<[number, number]>((resolve) => (waiting = (at, stamp) => resolve([at, stamp])));
    await lxcDirect(env, 'config', 'set', 'bench-001', `user.bench=${i}`);
    const [at, stamp] = await Promise.race([got, new Promise<[number, number]>((_, rej) => setTimeout(() => rej(new Error('no event within 5 s')), 5000))]);
    fromStamp.push(at - stamp);
    fromCli.push(at - t0);
  }
  sub.close();
  console.log(`\nEvent latency, ${EVENTS} x \`lxc config set\` on bench-001 (median):`);
  console.log(`  LXD's event timestamp -> our callback: ${median(fromStamp).toFixed(1)} ms (max ${Math.max(...fromStamp).toFixed(1)})`);
  console.log(
    `  lxc command started   -> our callback: ${median(fromCli).toFixed(0)} ms (max ${Math.max(...fromCli).toFixed(0)}; includes lxc's own start-up)`,
  );
}

/** This process's CPU (user + system) in ms. */
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wall and CPU of each of ROUNDS runs of `fn` after a warm-up; `cpu` says whose CPU counts. */
async function cpuRounds(fn: () => Promise<unknown>, cpu: () => number = selfCpuMs): Promise<{ wall: number[]; cpu: number[] }> {
  await fn();
  const out = { wall: [] as number[], cpu: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    const [t0, c0] = [performance.now(), cpu()];
    await fn();
    out.wall.push(performance.now() - t0);
    out.cpu.push(cpu() - c0);
  }
  return out;
}

/** The CPU of reaped children, from this process's /proc stat (cutime + cstime). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
}

async function panelTick(env: LxdLabEnv, api: LxdApi) {
  execFileSync('bash', [LXD_LAB_SCRIPT, 'populate', String(COUNT), String(PANEL), 'bench'], { stdio: 'ignore', timeout: 3_600_000 });
  const conn = new Connection({ id: 'lxd/bench', type: 'lxd', label: 'bench', socketPath: env.LXD_SOCKET_1 }, (c) => new LxdBackend(c), { debounceMs: 50 });
  await conn.start();
  const sampler = new Sampler({ intervalMs: 3_600_000, connection: (id) => (id === 'lxd/bench' ? conn : undefined) });
  const release = sampler.subscribe({ connectionId: 'lxd/bench' });
  try {
    while (sampler.ticks < 1) await new Promise((r) => setTimeout(r, 10));
    const running = [...conn.guests.values()].filter((g) => g.state === 'running').length;
    const ours = await cpuRounds(() => sampler.tick());
    if (sampler.errors.size) throw new Error(`sampler: ${[...sampler.errors].join('; ')}`);
    const ui = await cpuRounds(() => api.instances({ recursion: 2 }));
    const cli = await cpuRounds(
      () => lxcDirect(env, 'list', '--format', 'json'),
      () => selfCpuMs() + childrenCpuMs(),
    );
    const row = (what: string, x: { wall: number[]; cpu: number[] }) =>
      console.log(`  ${what.padEnd(66)} CPU ${median(x.cpu).toFixed(1).padStart(7)} ms   wall ${median(x.wall).toFixed(0).padStart(6)} ms`);
    console.log(`\nA metrics panel on the cluster (${running} running of ${conn.guests.size}), one tick, median of ${ROUNDS}:`);
    row('virtscope Sampler.tick(): /state of each running one + /proc', ours);
    row("baseline (lxd-ui's refresh): instances?recursion=2, kept connection", ui);
    row('baseline: lxc list --format json (a process per tick; its CPU too)', cli);
    console.log(
      `  ratio CPU per tick: ${(median(ui.cpu) / median(ours.cpu)).toFixed(1)}x vs recursion=2, ${(median(cli.cpu) / median(ours.cpu)).toFixed(1)}x vs lxc list; ` +
        `wall: ${(median(ui.wall) / median(ours.wall)).toFixed(1)}x, ${(median(cli.wall) / median(ours.wall)).toFixed(1)}x`,
    );
  } finally {
    release();
    sampler.dispose();
    await conn.dispose();
  }
}

async function main() {
  const { env, skip } = lxdLabEnv();
  if (!env) {
    console.log(`lxd-list: not run: ${skip}`);
    return;
  }
  const client = new LxdClient({ kind: 'unix', socketPath: env.LXD_SOCKET_1 });
  const api = new LxdApi(client);
  try {
    console.log(`populating: ${COUNT} containers, ${RUNNING} running (lxd-cluster.sh populate)`);
    try {
      execFileSync('bash', [LXD_LAB_SCRIPT, 'populate', String(COUNT), String(RUNNING), 'bench'], { stdio: 'inherit', timeout: 3_600_000 });
    } catch (e) {
      // e.g. a member down: measure what is there, and say so (the listing line names the count)
      console.log(`populate did not complete (${(e as Error).message.split('\n')[0]}): measuring the instances that are there`);
    }
    await listing(env, api);
    await eventLatency(env, client);
    await panelTick(env, api);
  } finally {
    client.close();
    console.log('\nremoving them (lxd-cluster.sh unpopulate bench)');
    execFileSync('bash', [LXD_LAB_SCRIPT, 'unpopulate', 'bench'], { stdio: 'inherit', timeout: 3_600_000 });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
