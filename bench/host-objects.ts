// Host-objects benchmark (#17): what a host holds beside guests, listed by virtscope's libvirt RPC
// client against libvirt's own C client, and a volume's download throughput.
//   node --import tsx bench/host-objects.ts [--rounds N] [--domains N] [--snapshots N] [--pools N]
//                                           [--volumes N] [--networks N] [--mib N] [--xfer-rounds N]
// 1. Listing, on a generated test-driver host (1,000 domains with a chain of snapshots each, 50 pools
//    × 100 volumes, 50 networks) served by libvirtd; median of N rounds after a warm-up:
//      virtscope:   the capabilities the tree uses (snapshots.list() per guest, storage.pools(),
//                   storage.volumes() per pool, networks.list()) on one RPC connection
//      kept shell:  the virsh commands that show the same facts, in ONE `virsh` shell kept open on the
//                   connection (libvirt's own C client on a kept connection: the strongest baseline)
//      per call:    the same commands, one `virsh` process each (estimated: count × median spawn)
// 2. Download throughput of one volume (--mib MiB of random bytes in a scratch directory pool under
//    /var/tmp on qemu:///system, removed afterwards): storage.downloadVolume() (what "Download
//    Volume" runs) vs `virsh vol-download` in the kept shell and as a process, each into a file.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../src/core/backends/libvirt';
import { capability } from '../src/core/capabilities';
import type { Guest } from '../src/core/model';
import { HostObjects, testNodeXml } from './testhost';
import { virsh, VirshShell } from './virshShell';
import { arg, median, timeRounds } from './util';

const num = (name: string, dflt: number) => Number(arg(name, String(dflt)));
const ROUNDS = num('rounds', 5);
const DOMAINS = num('domains', 1000);
const OBJECTS: HostObjects = { snapshots: num('snapshots', 3), pools: num('pools', 50), volumesPerPool: num('volumes', 100), networks: num('networks', 50) };
const MIB = num('mib', 256);
const XFER_ROUNDS = num('xfer-rounds', 5);
/** virsh processes spawned per command kind for the per-call estimate. */
const SPAWN_SAMPLE = 5;

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;

/** CPU time (user + system) of process `pid` so far, in ms, from /proc/PID/stat. */
function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime (fields 14 and 15)
}

const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Mean CPU per call of `fn`, as `cpuMs()` counts it, over `rounds` calls. */
async function cpuPerRound(rounds: number, cpuMs: () => number, fn: () => Promise<unknown>): Promise<number> {
  const c0 = cpuMs();
  for (let i = 0; i < rounds; i++) await fn();
  return (cpuMs() - c0) / rounds;
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim()).length;

/** One listing: virtscope's way, and the virsh commands (argv each) that show the same facts. */
interface Listing {
  readonly what: string;
  /** Resolves with the number of objects listed. */
  readonly virtscope: () => Promise<number>;
  readonly commands: readonly (readonly string[])[];
  /** Objects the virsh output must show, counted as non-empty output lines. */
  readonly expectLines: number;
  readonly note: string;
}

function listings(backend: LibvirtBackend, guests: readonly Guest[]): Listing[] {
  const storage = capability(backend, undefined, 'storage')!;
  const networks = capability(backend, undefined, 'networks')!;
  const pools = Array.from({ length: OBJECTS.pools }, (_, i) => `pool-${i}`);
  const nets = Array.from({ length: OBJECTS.networks }, (_, i) => `net-${i}`);
  const snaps = guests.map((g) => capability(backend, g, 'snapshots')!);
  return [
    {
      what: `snapshots of ${guests.length} guests (${OBJECTS.snapshots} each)`,
      virtscope: async () => (await Promise.all(snaps.map((s) => s.list()))).reduce((n, l) => n + l.length, 0),
      commands: guests.flatMap((g) => [
        ['snapshot-list', g.name, '--parent'],
        ['snapshot-current', g.name, '--name'],
      ]),
      expectLines: guests.length * (OBJECTS.snapshots + 1),
      note: 'per guest: snapshot-list --parent + snapshot-current --name',
    },
    {
      what: `${OBJECTS.pools} storage pools`,
      virtscope: async () => (await storage.pools()).length,
      commands: [['pool-list', '--all', '--details'], ...pools.map((p) => ['pool-dumpxml', p])],
      expectLines: OBJECTS.pools,
      note: 'pool-list --all --details + pool-dumpxml per pool (type, path)',
    },
    {
      what: `volumes of ${OBJECTS.pools} pools (${OBJECTS.volumesPerPool} each)`,
      virtscope: async () => (await Promise.all(pools.map((p) => storage.volumes(p)))).reduce((n, l) => n + l.length, 0),
      commands: pools.map((p) => ['vol-list', p, '--details']),
      expectLines: OBJECTS.pools * OBJECTS.volumesPerPool,
      note: 'vol-list --details per pool (virsh shows no format and no users: virtscope reads each volume XML and the guests’ disks too)',
    },
    {
      what: `${OBJECTS.networks} networks`,
      virtscope: async () => (await networks.list()).length,
      commands: [['net-list', '--all'], ...nets.map((n) => ['net-dumpxml', n])],
      expectLines: OBJECTS.networks,
      note: 'net-list --all + net-dumpxml per network (bridge, forward, addresses)',
    },
  ];
}

interface ListingRow {
  what: string;
  count: number;
  virtscopeMs: number;
  keptMs: number;
  /** CPU per round: virtscope's whole process, and the kept virsh shell's (libvirtd's own is in neither). */
  virtscopeCpuMs: number;
  keptCpuMs: number;
  perCallMs: number;
  note: string;
}

/** The kept shell reads whole lines: argv joined with spaces (the generated names have none). */
const shellLine = (argv: readonly string[]) => argv.join(' ');

/** Estimated cost of the commands, one process each: per command kind, count × median of a few spawns. */
async function perCallEstimate(uri: string, commands: readonly (readonly string[])[]): Promise<number> {
  const byKind = new Map<string, (readonly string[])[]>();
  for (const c of commands) byKind.set(c[0], [...(byKind.get(c[0]) ?? []), c]);
  let total = 0;
  for (const cmds of byKind.values()) {
    const sample = cmds.slice(0, SPAWN_SAMPLE);
    const times: number[] = [];
    for (const c of sample) times.push((await timeRounds(1, () => virsh(uri, ...c), false))[0]);
    total += median(times) * cmds.length;
  }
  return total;
}

async function measureListing(uri: string, shell: VirshShell, l: Listing): Promise<ListingRow> {
  let count = 0;
  const listVs = async () => (count = await l.virtscope());
  const vs = await timeRounds(ROUNDS, listVs);
  const virtscopeCpuMs = await cpuPerRound(ROUNDS, ownCpuMs, listVs);
  const script = l.commands.map(shellLine);
  const listKept = async () => {
    const out = await shell.run(...script);
    if (lines(out) < l.expectLines) throw new Error(`the kept virsh shell showed ${lines(out)} lines for ${l.what}, expected ≥${l.expectLines}`);
  };
  const kept = await timeRounds(ROUNDS, listKept);
  const keptCpuMs = await cpuPerRound(ROUNDS, () => processCpuMs(shell.pid), listKept);
  const perCallMs = await perCallEstimate(uri, l.commands);
  return { what: l.what, count, virtscopeMs: median(vs), keptMs: median(kept), virtscopeCpuMs, keptCpuMs, perCallMs, note: l.note };
}

async function benchListings(): Promise<{ rows: ListingRow[]; connectMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-bench-objects-'));
  const nodeXml = path.join(dir, 'node.xml');
  fs.writeFileSync(nodeXml, testNodeXml(DOMAINS, undefined, OBJECTS));
  const uri = `test+unix://${nodeXml}`;
  const backend = new LibvirtBackend({ id: 'bench-objects', type: 'libvirt', uri });
  let shell: VirshShell | undefined;
  try {
    const t0 = performance.now();
    await backend.connect();
    const connectMs = performance.now() - t0;
    const guests = await backend.list();
    if (guests.length !== DOMAINS) throw new Error(`the test host has ${guests.length} domains, expected ${DOMAINS}`);
    shell = new VirshShell(uri);
    const rows: ListingRow[] = [];
    for (const l of listings(backend, guests)) rows.push(await measureListing(uri, shell, l));
    return { rows, connectMs };
  } finally {
    shell?.close();
    await backend.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface XferRow {
  what: string;
  ms: number;
}

const SYSTEM = 'qemu:///system';

/** A scratch directory pool on qemu:///system holding one volume of random bytes; removed by the returned function. */
async function scratchPool(backend: LibvirtBackend): Promise<{ dir: string; pool: string; vol: string; remove: () => Promise<void> }> {
  const dir = fs.mkdtempSync('/var/tmp/virtscope-bench-volume-');
  fs.chmodSync(dir, 0o755);
  const pool = `virtscope-bench-${process.pid}`;
  const vol = 'bench.raw';
  const remove = async () => {
    const c = await backend.client();
    const p = await c.storagePoolLookupByName(pool).catch(() => undefined);
    if (p) {
      await c.storagePoolDestroy(p).catch(() => undefined);
      await c.storagePoolUndefine(p).catch(() => undefined);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const fd = fs.openSync(path.join(dir, vol), 'w');
    for (let i = 0; i < MIB; i++) fs.writeSync(fd, randomBytes(2 ** 20));
    fs.closeSync(fd);
    const c = await backend.client();
    const p = await c.storagePoolDefineXML(`<pool type='dir'><name>${pool}</name><target><path>${dir}</path></target></pool>`, 0);
    await c.storagePoolCreate(p, 0);
    return { dir, pool, vol, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** Times `fn(target)` into a fresh file each round, checking the file has every byte. */
async function timeDownload(dir: string, name: string, fn: (target: string) => Promise<unknown>): Promise<number> {
  const target = path.join(dir, `out-${name}`);
  const times = await timeRounds(XFER_ROUNDS, async () => {
    fs.rmSync(target, { force: true });
    await fn(target);
    const size = fs.statSync(target).size;
    if (size !== MIB * 2 ** 20) throw new Error(`${name}: downloaded ${size} bytes, expected ${MIB * 2 ** 20}`);
  });
  fs.rmSync(target, { force: true });
  return median(times);
}

async function benchDownload(): Promise<XferRow[]> {
  const backend = new LibvirtBackend({ id: 'bench-download', type: 'libvirt', uri: SYSTEM });
  const scratch = await scratchPool(backend);
  const shell = new VirshShell(SYSTEM);
  try {
    const storage = capability(backend, undefined, 'storage')!;
    const { dir, pool, vol } = scratch;
    let progressCalls = 0;
    const vs = await timeDownload(dir, 'virtscope', (target) =>
      storage.downloadVolume(pool, vol, fs.createWriteStream(target), { onProgress: () => progressCalls++ }),
    );
    if (!progressCalls) throw new Error('virtscope reported no progress');
    const kept = await timeDownload(dir, 'kept', (target) => shell.run(`vol-download --pool ${pool} ${vol} ${target}`));
    const perCall = await timeDownload(dir, 'per-call', (target) => virsh(SYSTEM, 'vol-download', '--pool', pool, vol, target));
    return [
      { what: 'virtscope downloadVolume() (Download Volume)', ms: vs },
      { what: 'virsh vol-download in the kept shell', ms: kept },
      { what: 'virsh vol-download, one process', ms: perCall },
    ];
  } finally {
    shell.close();
    await scratch.remove();
    await backend.close().catch(() => undefined);
  }
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
}

async function hostLine(): Promise<string> {
  const v = /Using library: (libvirt [\d.]+)/.exec(await virsh(SYSTEM, 'version'))?.[1] ?? 'libvirt ?';
  return `${os.hostname()}: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0].toFixed(2)}, ${v}`;
}

function printListings(rows: ListingRow[], connectMs: number): void {
  console.log(`Listing on a libvirt test-driver host served by libvirtd (${DOMAINS} domains): median of ${ROUNDS} rounds after 1 warm-up`);
  table(
    [
      'listing',
      'objects',
      'virtscope',
      'kept virsh shell',
      'kept/virtscope',
      'CPU virtscope / virsh',
      'virsh per call (est.)',
      'per-call/virtscope',
      'virsh commands',
    ],
    rows.map((r) => [
      r.what,
      String(r.count),
      `${fmt(r.virtscopeMs)} ms`,
      `${fmt(r.keptMs)} ms`,
      `${(r.keptMs / r.virtscopeMs).toFixed(1)}x`,
      `${fmt(r.virtscopeCpuMs)} / ${fmt(r.keptCpuMs)} ms`,
      `${fmt(r.perCallMs)} ms`,
      `${(r.perCallMs / r.virtscopeMs).toFixed(1)}x`,
      r.note,
    ]),
  );
  console.log(`(virtscope connect ${fmt(connectMs)} ms, not in the rounds; per call = command count × median of ${SPAWN_SAMPLE} spawns per command kind;`);
  console.log(
    ` CPU = mean per round of ${ROUNDS} more: virtscope's whole process vs the kept virsh shell's; libvirtd's, the same work for both, is in neither.`,
  );
  console.log(' On a loaded machine the wall times follow libvirtd’s share of the CPUs; the CPU column does not.)');
}

function printDownload(rows: XferRow[]): void {
  console.log(
    `Volume download: ${MIB} MiB of random bytes, raw volume in a directory pool under /var/tmp (qemu:///system), into a file; median of ${XFER_ROUNDS} rounds after 1 warm-up`,
  );
  const vs = rows[0].ms;
  table(
    ['how', 'time', 'MiB/s', 'time/virtscope'],
    rows.map((r) => [r.what, `${fmt(r.ms)} ms`, (MIB / (r.ms / 1000)).toFixed(0), `${(r.ms / vs).toFixed(2)}x`]),
  );
  console.log(`baseline "${rows[1].what}", the strongest a user could pick: virtscope's throughput is ${(rows[1].ms / vs).toFixed(2)}x its own`);
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`virtscope host-objects benchmark on ${await hostLine()}`);
  console.log('');
  const { rows, connectMs } = await benchListings();
  printListings(rows, connectMs);
  console.log('');
  printDownload(await benchDownload());
  console.log('');
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
