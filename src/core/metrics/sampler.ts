// The sampler: one collection per connection per tick (libvirt bulk stats, per-domain calls on
// drivers without them, cgroup files for lxc-tools, the engine's stats for Docker/Podman) plus the
// host's /proc, turned into rates and kept in fixed-size rings. It runs only while someone holds a
// subscription (a visible panel) and stops when the last one is released.
import { EventEmitter } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import type Docker from 'dockerode';
import { Connection } from '../connection';
import { Backend, Guest } from '../model';
import { LibvirtBackend } from '../backends/libvirt';
import { DockerBackend } from '../backends/docker';
import { engineClient } from '../backends/engineClient';
import { executorFor, GuestExecAborted } from '../guest/exec';
import { cgroupCountersOfPid, cgroupPsiOfPid } from './cgroup';
import { ProcFiles } from './procfs';
import {
  engineCounters,
  EngineStats,
  FsUse,
  looksLikeWholeDisk,
  meminfoSummary,
  parseDf,
  parseDiskstats,
  parseLoadavg,
  parseNetDev,
  parseProcStat,
  parsePsi,
  ProcStat,
  splitSections,
} from './parse';
import { Counters, derive, deriveRow, GUEST_KEYS, HISTORY_POINTS, HOST_KEYS, newRow, Point, Ring, ringBytes, RingPool, setRowMemAlloc } from './series';

export const HOST_ID = '@host';

/** Bytes of history one guest costs per hour at 1 s (host-side + guest-side rings). */
export const BYTES_PER_GUEST_HOUR = ringBytes(HOST_KEYS.length, HISTORY_POINTS) + ringBytes(GUEST_KEYS.length, HISTORY_POINTS);

// ---- the host -----------------------------------------------------------------------------

const readOpt = (p: string) => fs.readFile(p, 'utf8').catch(() => undefined);

const diskCache = new Map<string, boolean>();
/** A whole disk: listed in /sys/block and not a loop/ram device (looked up once per name). */
function isHostDisk(name: string): boolean {
  let v = diskCache.get(name);
  if (v === undefined) {
    v = !/^(loop|ram|zram)/.test(name) && existsSync(`/sys/block/${name.replace(/\//g, '!')}`);
    diskCache.set(name, v);
  }
  return v;
}

/**
 * The host's counters from /proc. `files` keeps the files open between calls (the sampler's,
 * closed when it stops); without it they are opened and closed here.
 */
export async function readHost(files?: ProcFiles): Promise<Counters & { cpus: number; memTotal: number }> {
  // /proc files are generated in memory and tiny: synchronous reads cost a fraction of the CPU of
  // async ones (one thread-pool round trip each for open, fstat, read, close) and never block on disk
  const proc = files ?? new ProcFiles();
  try {
    const [stat, mem, disk, net] = ['/proc/stat', '/proc/meminfo', '/proc/diskstats', '/proc/net/dev'].map((f) => proc.read(f));
    const [pc, pm, pi] = ['cpu', 'memory', 'io'].map((r) => proc.readOpt(`/proc/pressure/${r}`));
    const s = parseProcStat(stat);
    const m = meminfoSummary(mem);
    return {
      cpus: s.perCpu.length || os.cpus().length,
      memTotal: m.total,
      hostCpu: s.all,
      memUsed: m.used,
      memAlloc: m.total,
      io: parseDiskstats(disk, isHostDisk),
      net: parseNetDev(net),
      psi: { cpu: pc ? parsePsi(pc)?.some.avg10 : undefined, memory: pm ? parsePsi(pm)?.some.avg10 : undefined, io: pi ? parsePsi(pi)?.some.avg10 : undefined },
    };
  } finally {
    if (!files) proc.close();
  }
}

// ---- per-connection collectors ------------------------------------------------------------

export interface GuestReading {
  guestId: string;
  name: string;
  counters: Counters;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * `prefix.N.field` bulk-stats names, built once per index: the per-tick lookups then use the same
 * (internalized) strings instead of building and hashing ~30 new ones per domain.
 */
class IndexedName {
  private readonly names: string[] = [];
  constructor(
    private readonly prefix: string,
    private readonly field: string,
  ) {}

  at(i: number): string {
    return (this.names[i] ??= `${this.prefix}.${i}.${this.field}`);
  }
}

const VCPU_TIME = new IndexedName('vcpu', 'time');
const BLOCK_RD_BYTES = new IndexedName('block', 'rd.bytes');
const BLOCK_WR_BYTES = new IndexedName('block', 'wr.bytes');
const BLOCK_RD_REQS = new IndexedName('block', 'rd.reqs');
const BLOCK_WR_REQS = new IndexedName('block', 'wr.reqs');
const NET_RX_BYTES = new IndexedName('net', 'rx.bytes');
const NET_TX_BYTES = new IndexedName('net', 'tx.bytes');
const NET_RX_PKTS = new IndexedName('net', 'rx.pkts');
const NET_TX_PKTS = new IndexedName('net', 'tx.pkts');

/** Sum of `name.at(0 … n-1)` over the devices that report it (0 when none does). */
function sumOver(params: Record<string, unknown>, n: number, name: IndexedName): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += num(params[name.at(i)]) ?? 0;
  return s;
}

/** Counters from a libvirt domain's bulk-stats (or per-domain equivalent) parameters. */
export function countersFromDomainStats(params: Record<string, unknown>, kind: 'qemu' | 'libvirt-lxc'): Counters {
  const c: Counters = { cpuNs: num(params['cpu.time']) };
  const nv = num(params['vcpu.current']);
  if (nv) {
    c.cpuCap = nv;
    const v: number[] = [];
    for (let i = 0; i < nv; i++) {
      const t = num(params[VCPU_TIME.at(i)]);
      if (t === undefined) break;
      v.push(t);
    }
    if (v.length) c.vcpuNs = v;
  }
  const cur = num(params['balloon.current']);
  const max = num(params['balloon.maximum']);
  const rss = num(params['balloon.rss']);
  if (kind === 'qemu') {
    // what the host pays: the QEMU process's RSS; allocated: the balloon's current size
    c.memUsed = rss !== undefined ? rss * 1024 : undefined;
    c.memAlloc = cur !== undefined ? cur * 1024 : undefined;
  } else {
    // libvirt-LXC's domain info reports the cgroup's usage as "memory"
    c.memUsed = cur !== undefined ? cur * 1024 : undefined;
    c.memAlloc = max !== undefined ? max * 1024 : undefined;
  }
  const blocks = params['block.count'];
  if (blocks !== undefined) {
    const n = num(blocks) ?? 0;
    c.io = { rdBytes: sumOver(params, n, BLOCK_RD_BYTES), wrBytes: sumOver(params, n, BLOCK_WR_BYTES), rdOps: sumOver(params, n, BLOCK_RD_REQS), wrOps: sumOver(params, n, BLOCK_WR_REQS) };
  }
  const nets = params['net.count'];
  if (nets !== undefined) {
    const n = num(nets) ?? 0;
    c.net = { rxBytes: sumOver(params, n, NET_RX_BYTES), txBytes: sumOver(params, n, NET_TX_BYTES), rxPkts: sumOver(params, n, NET_RX_PKTS), txPkts: sumOver(params, n, NET_TX_PKTS) };
  }
  return c;
}

/** The host pid of a libvirt domain (QEMU process, or libvirt_lxc controller). */
export async function libvirtDomainPid(kind: 'qemu' | 'libvirt-lxc', name: string): Promise<number | undefined> {
  if (/[/\0]/.test(name)) return undefined;
  const t = await readOpt(`/run/libvirt/${kind === 'qemu' ? 'qemu' : 'lxc'}/${name}.pid`);
  const pid = t ? parseInt(t.trim(), 10) : NaN;
  return Number.isFinite(pid) ? pid : undefined;
}

async function collectLibvirt(conn: Connection, backend: LibvirtBackend): Promise<GuestReading[]> {
  const stats = await backend.stats();
  const kind = backend.kind === 'libvirt-lxc' ? 'libvirt-lxc' : 'qemu';
  const local = /^(qemu|lxc):\/\/\/(system|session)/.test(conn.config.uri ?? '');
  if (!local) return stats.filter((s) => s.id > 0).map((s) => ({ guestId: s.uuid, name: s.name, counters: countersFromDomainStats(s.params, kind) }));
  return Promise.all(
    stats
      .filter((s) => s.id > 0)
      .map(async (s) => {
        const counters = countersFromDomainStats(s.params, kind);
        // PSI of the domain's cgroup where it is in a v2 hierarchy (local hosts only)
        if (local) {
          const pid = await libvirtDomainPid(kind, s.name);
          // only the files used here: PSI, and the CPU time where libvirt-LXC reports none
          const cg = pid ? await cgroupPsiOfPid(pid, { cpu: kind === 'libvirt-lxc' && !counters.cpuNs }) : undefined;
          if (cg?.psi) counters.psi = cg.psi;
          // libvirt-LXC on a hybrid layout reports cpu.time 0: its cgroup's cpuacct has the time
          if (kind === 'libvirt-lxc' && !counters.cpuNs && cg?.cpuNs) counters.cpuNs = cg.cpuNs;
        }
        return { guestId: s.uuid, name: s.name, counters };
      }),
  );
}

const pidCache = new Map<string, number>();

async function lxcInitPid(g: Guest, lxcPath: string | undefined): Promise<number | undefined> {
  const key = `${lxcPath ?? ''}\0${g.name}`;
  const cached = pidCache.get(key) ?? g.runtimeId;
  if (cached && (await fs.access(`/proc/${cached}`).then(() => true, () => false))) return cached;
  const { run } = await import('../exec');
  try {
    const out = (await run('lxc-info', ['-n', g.name, ...(lxcPath ? ['-P', lxcPath] : []), '-pH'], { timeoutMs: 5000 })).stdout.trim();
    const pid = parseInt(out, 10);
    if (Number.isFinite(pid)) pidCache.set(key, pid);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** lxc-tools: the container's cgroup files (v1 and v2) and its network namespace's /proc/PID/net/dev. */
async function collectLxc(conn: Connection, backend: Backend, hostCpus: number): Promise<GuestReading[]> {
  const running = [...conn.guests.values()].filter((g) => g.state === 'running' || g.state === 'paused');
  const out = await Promise.all(
    running.map(async (g) => {
      const pid = await lxcInitPid(g, backend.config.lxcPath);
      if (!pid) return undefined;
      const [cg, netText] = await Promise.all([cgroupCountersOfPid(pid), readOpt(`/proc/${pid}/net/dev`)]);
      if (!cg) return undefined;
      const c: Counters = {
        cpuNs: cg.cpuNs,
        cpuCap: cg.cpuQuotaCores ?? g.vcpus ?? hostCpus,
        memUsed: cg.memUsage !== undefined ? cg.memUsage - (cg.memCache ?? 0) : undefined,
        memAlloc: cg.memLimit ?? g.memoryBytes,
        io: cg.io,
        net: netText ? parseNetDev(netText) : undefined,
        psi: cg.psi,
      };
      return { guestId: g.id, name: g.name, counters: c };
    }),
  );
  return out.filter((r): r is GuestReading => r !== undefined);
}

const engines = new WeakMap<DockerBackend, Docker>();

/** Docker/Podman: one-shot `stats?stream=false` per running container, concurrently. */
async function collectEngine(conn: Connection, backend: DockerBackend, hostCpus: number): Promise<GuestReading[]> {
  let d = engines.get(backend);
  if (!d) {
    const socketPath = backend.socket ?? backend.config.socketPath;
    if (!socketPath) return [];
    d = engineClient(socketPath, 10_000);
    engines.set(backend, d);
  }
  const running = [...conn.guests.values()].filter((g) => g.state === 'running');
  const out = await Promise.all(
    running.map(async (g) => {
      try {
        const s = (await d!.getContainer(g.id).stats({ stream: false })) as unknown as EngineStats;
        const e = engineCounters(s);
        const c: Counters = {
          cpuNs: e.cpuNs,
          cpuCap: g.vcpus ?? s.cpu_stats?.online_cpus ?? hostCpus,
          memUsed: e.memUsed,
          memAlloc: g.memoryBytes ?? e.memLimit,
          io: e.io,
          net: e.net,
        };
        if (g.runtimeId) {
          const cg = await cgroupPsiOfPid(g.runtimeId);
          if (cg?.psi) c.psi = cg.psi;
        }
        return { guestId: g.id, name: g.name, counters: c };
      } catch {
        return undefined;
      }
    }),
  );
  return out.filter((r): r is GuestReading => r !== undefined);
}

export async function collectConnection(conn: Connection, hostCpus: number): Promise<GuestReading[]> {
  const backend = conn.requireBackend();
  if (backend instanceof LibvirtBackend) return collectLibvirt(conn, backend);
  if (backend instanceof DockerBackend) return collectEngine(conn, backend, hostCpus);
  return collectLxc(conn, backend, hostCpus);
}

// ---- guest side ---------------------------------------------------------------------------

/** One script, run inside the guest through its executor; sections split on "@@name" lines. */
export const GUEST_SCRIPT = [
  'echo @@stat; cat /proc/stat',
  'echo @@meminfo; cat /proc/meminfo',
  'echo @@loadavg; cat /proc/loadavg',
  'echo @@diskstats; cat /proc/diskstats 2>/dev/null',
  'echo @@netdev; cat /proc/net/dev 2>/dev/null',
  'for r in cpu memory io; do echo @@psi_$r; cat /proc/pressure/$r 2>/dev/null; done',
  'echo @@df; df -kP 2>/dev/null',
  'echo @@uname; uname -sr',
  'echo @@osrelease; cat /etc/os-release 2>/dev/null',
  'echo @@end',
].join('\n');

export interface GuestSideReading {
  t: number;
  stat: ProcStat;
  counters: Counters;
  memTotal: number;
  load?: [number, number, number];
  fs: FsUse[];
  kernel?: string;
  os?: string;
  cpus: number;
}

export function parseGuestSide(text: string, t: number): GuestSideReading {
  const s = splitSections(text);
  const stat = parseProcStat(s.stat ?? '');
  const mem = meminfoSummary(s.meminfo ?? '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(s.osrelease ?? '')?.[1];
  const psiOf = (x?: string) => (x ? parsePsi(x)?.some.avg10 : undefined);
  return {
    t,
    stat,
    memTotal: mem.total,
    counters: {
      hostCpu: stat.all,
      memUsed: mem.used,
      memAlloc: mem.total,
      io: s.diskstats ? parseDiskstats(s.diskstats, looksLikeWholeDisk) : undefined,
      net: s.netdev ? parseNetDev(s.netdev) : undefined,
      psi: { cpu: psiOf(s.psi_cpu), memory: psiOf(s.psi_memory), io: psiOf(s.psi_io) },
    },
    load: parseLoadavg(s.loadavg ?? ''),
    fs: parseDf(s.df ?? ''),
    kernel: s.uname?.trim() || undefined,
    os: pretty,
    cpus: stat.perCpu.length,
  };
}

/** Guest-side point: the guest's own CPU %, memory, load, disk/net rates, PSI. */
export function deriveGuestSide(prev: GuestSideReading | undefined, cur: GuestSideReading): Point {
  const dt = prev ? (cur.t - prev.t) / 1000 : 0;
  const p = derive(prev?.counters, cur.counters, dt, cur.cpus);
  return {
    gCpu: p.cpu,
    gMemUsed: cur.counters.memUsed,
    gMemTotal: cur.memTotal,
    gLoad1: cur.load?.[0],
    gDiskRd: p.diskRd,
    gDiskWr: p.diskWr,
    gDiskRdOps: p.diskRdOps,
    gDiskWrOps: p.diskWrOps,
    gNetRx: p.netRx,
    gNetTx: p.netTx,
    gNetRxPkts: p.netRxPkts,
    gNetTxPkts: p.netTxPkts,
    gPsiCpu: p.psiCpu,
    gPsiMem: p.psiMem,
    gPsiIo: p.psiIo,
  };
}

export interface GuestSideState {
  ok: boolean;
  /** Why the guest-side view is missing, and how to fix it (e.g. install qemu-guest-agent). */
  error?: string;
  hint?: string;
  via?: string;
  last?: GuestSideReading;
  ring: Ring;
  busy: boolean;
  nextAt: number;
}

// ---- the sampler --------------------------------------------------------------------------

export interface SamplerOptions {
  intervalMs: number;
  /** Connections by id (the extension's live set). */
  connection: (id: string) => Connection | undefined;
  /** Guest-side reads happen at most this often (they run a program in the guest). */
  guestSideMinMs?: number;
  /** A guest-side read that takes longer is killed (a hung agent or engine must not stop the view). */
  guestSideTimeoutMs?: number;
  log?: { warn(m: string): void; debug(m: string): void };
}

export interface Subscription {
  readonly connectionId?: string;
  /** Also read the guest-side view of this guest. */
  readonly guestSide?: string;
}

interface GuestHistory {
  ring: Ring;
  prev?: Counters;
  prevT?: number;
  name: string;
  lastSeen: number;
}

/**
 * Events: 'tick' ({t, connections: string[]}), 'error' ({connectionId, error}).
 * History: host() / guest(conn, id) rings; guestSide(conn, id) for the guest-side view.
 */
export class Sampler extends EventEmitter {
  private subs = new Map<number, Subscription>();
  private nextSub = 1;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inTick = false;
  private readonly hostRing = new Ring(HOST_KEYS, HISTORY_POINTS);
  /** The host's /proc files, open while the sampler runs. */
  private readonly procFiles = new ProcFiles();
  private hostPrev: Counters | undefined;
  private hostPrevT = 0;
  /** The row every guest's point is derived into before it is copied to its ring. */
  private readonly row = newRow();
  /** Host-side histories: connection id → guest id → history. */
  private readonly guests = new Map<string, Map<string, GuestHistory>>();
  /** Their rings, per connection id: side by side, so a tick writes few pages (see RingBlock). */
  private readonly pools = new Map<string, RingPool>();
  private readonly sides = new Map<string, GuestSideState>();
  /** Errors of the last tick per connection id. */
  readonly errors = new Map<string, string>();
  hostCpus = os.cpus().length;
  hostMemTotal = os.totalmem();
  ticks = 0;
  /** CPU time (user+system, µs) the last tick cost this process, and its wall time (ms). */
  lastTickCpuUs = 0;
  lastTickMs = 0;

  constructor(private opts: SamplerOptions) {
    super();
  }

  get active(): boolean {
    return this.running;
  }

  get intervalMs(): number {
    return this.opts.intervalMs;
  }

  setInterval(ms: number): void {
    this.opts = { ...this.opts, intervalMs: Math.max(250, ms) };
  }

  /** Hold a subscription while a consumer is visible; the returned function releases it. */
  subscribe(s: Subscription): () => void {
    const id = this.nextSub++;
    this.subs.set(id, s);
    if (!this.running) this.start();
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.subs.size === 0) this.stop();
    };
  }

  get subscribers(): number {
    return this.subs.size;
  }

  private start(): void {
    this.running = true;
    void this.tick();
  }

  private stop(): void {
    this.running = false;
    this.procFiles.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Chained timeouts, never overlapping: a slow tick delays the next one instead of piling up. */
  private schedule(startedAt: number): void {
    if (!this.running) return;
    const wait = Math.max(50, this.opts.intervalMs - (Date.now() - startedAt));
    this.timer = setTimeout(() => void this.tick(), wait);
  }

  /** One collection: the host and every subscribed connection. Exposed for tests and the bench. */
  async tick(): Promise<void> {
    if (this.inTick) return;
    this.inTick = true;
    const started = Date.now();
    const cpu0 = process.cpuUsage();
    const ids = new Set<string>();
    const sideFor: Array<[string, string]> = [];
    for (const s of this.subs.values()) {
      if (s.connectionId) ids.add(s.connectionId);
      if (s.connectionId && s.guestSide) sideFor.push([s.connectionId, s.guestSide]);
    }
    try {
      await Promise.all([this.sampleHost(), ...[...ids].map((id) => this.sampleConnection(id))]);
      for (const [c, g] of sideFor) this.maybeGuestSide(c, g);
    } finally {
      this.ticks++;
      const cpu = process.cpuUsage(cpu0);
      this.lastTickCpuUs = cpu.user + cpu.system;
      this.lastTickMs = Date.now() - started;
      this.inTick = false;
      if (!this.running) this.procFiles.close(); // a tick called with no subscription holds no files
      this.emit('tick', { t: started, connections: [...ids] });
      this.schedule(started);
    }
  }

  private async sampleHost(): Promise<void> {
    try {
      const h = await readHost(this.procFiles);
      const t = Date.now();
      this.hostCpus = h.cpus;
      this.hostMemTotal = h.memTotal;
      if (this.hostPrev) {
        const row = deriveRow(this.row, this.hostPrev, h, (t - this.hostPrevT) / 1000, h.cpus);
        setRowMemAlloc(row, h.memTotal);
        this.hostRing.pushRow(t, row);
      }
      this.hostPrev = h;
      this.hostPrevT = t;
    } catch (e) {
      this.errors.set(HOST_ID, (e as Error).message);
    }
  }

  private async sampleConnection(id: string): Promise<void> {
    const conn = this.opts.connection(id);
    if (conn?.status.state === 'idle') void conn.start(); // a panel restored before the tree was shown
    if (!conn || conn.status.state !== 'connected') return;
    try {
      const readings = await collectConnection(conn, this.hostCpus);
      const t = Date.now();
      let histories = this.guests.get(id);
      if (!histories) this.guests.set(id, (histories = new Map()));
      let pool = this.pools.get(id);
      if (!pool) this.pools.set(id, (pool = new RingPool(HOST_KEYS, HISTORY_POINTS)));
      let last: Ring | undefined;
      for (const r of readings) {
        let h = histories.get(r.guestId);
        if (!h) histories.set(r.guestId, (h = { ring: pool.take(), name: r.name, lastSeen: t }));
        if (h.prev) h.ring.pushRow(t, deriveRow(this.row, h.prev, r.counters, h.prevT ? (t - h.prevT) / 1000 : 0, this.hostCpus));
        h.prev = r.counters;
        h.prevT = t;
        h.lastSeen = t;
        last = h.ring;
      }
      if (last) pool.pushed(last);
      this.errors.delete(id);
      // forget guests not seen for an hour (their rings are the only growth)
      const p = pool;
      histories.forEach((h, k, m) => {
        if (t - h.lastSeen <= 3_600_000) return;
        m.delete(k);
        p.release(h.ring);
      });
    } catch (e) {
      this.errors.set(id, (e as Error).message);
      this.opts.log?.debug(`metrics: ${id}: ${(e as Error).message}`);
    }
  }

  private maybeGuestSide(connectionId: string, guestId: string): void {
    const key = `${connectionId}\0${guestId}`;
    let st = this.sides.get(key);
    if (!st) this.sides.set(key, (st = { ok: false, ring: new Ring(GUEST_KEYS, HISTORY_POINTS), busy: false, nextAt: 0 }));
    const now = Date.now();
    if (st.busy || now < st.nextAt) return;
    const conn = this.opts.connection(connectionId);
    const guest = conn?.guest(guestId);
    if (!conn || !guest || conn.status.state !== 'connected') return;
    if (guest.state !== 'running') {
      st.ok = false;
      st.error = `${guest.name} is ${guest.state}: the guest-side view needs a running guest.`;
      st.hint = undefined;
      return;
    }
    st.busy = true;
    st.nextAt = now + Math.max(this.opts.intervalMs, this.opts.guestSideMinMs ?? 2000);
    const s = st;
    void (async () => {
      try {
        const ex = executorFor(conn.requireBackend(), guest);
        s.via = ex.description;
        const r = await ex.exec(['/bin/sh', '-c', GUEST_SCRIPT], { timeoutMs: this.opts.guestSideTimeoutMs ?? 15_000 });
        if (!/@@end/.test(r.stdout)) throw new Error(`the guest-side script failed (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 200)}`);
        const reading = parseGuestSide(r.stdout, Date.now());
        const p = deriveGuestSide(s.last, reading);
        if (s.last) s.ring.push(reading.t, p);
        s.last = reading;
        s.ok = true;
        s.error = s.hint = undefined;
      } catch (e) {
        s.ok = false;
        s.error = (e as Error).message;
        s.hint = (e as { hint?: string }).hint;
        // an absent agent answers quickly: do not hammer it; after a timeout the wait was long enough
        if (!(e instanceof GuestExecAborted)) s.nextAt = Date.now() + 10_000;
      } finally {
        s.busy = false;
      }
    })();
  }

  host(): Ring {
    return this.hostRing;
  }

  guest(connectionId: string, guestId: string): Ring | undefined {
    return this.guests.get(connectionId)?.get(guestId)?.ring;
  }

  /** The latest raw counters of a guest (for the comparison panel). */
  counters(connectionId: string, guestId: string): Counters | undefined {
    return this.guests.get(connectionId)?.get(guestId)?.prev;
  }

  guestSide(connectionId: string, guestId: string): GuestSideState | undefined {
    return this.sides.get(`${connectionId}\0${guestId}`);
  }

  dispose(): void {
    this.subs.clear();
    this.stop();
    this.removeAllListeners();
  }
}
