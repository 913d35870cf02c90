// What the host's cgroup files say about a process's cgroup: v1 controllers (cpuacct, memory, blkio),
// the v2 hierarchy (pure v2 at /sys/fs/cgroup, or hybrid with v2 at /sys/fs/cgroup/unified), PSI.
import * as path from 'node:path';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { unbatched } from '../host/readBatch';
import { IoCounters, parseBlkioV1, parseIoStatV2, parseKeyValues, parseProcCgroup, parsePsi, ProcCgroup } from './parse';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export interface CgroupLayout {
  /** Where the v2 hierarchy is mounted ("" when there is none). */
  v2Root: string;
  /** true: pure v2 (everything in v2Root); false: v1 controllers (+ maybe a v2 `unified` mount). */
  pureV2: boolean;
}

/** The layout of each host's standard root (it does not change while the host runs). */
const layoutCache = new WeakMap<Host, CgroupLayout>();

export async function cgroupLayout(root = CGROUP_ROOT, host: Host = localHost): Promise<CgroupLayout> {
  const cached = root === CGROUP_ROOT ? layoutCache.get(unbatched(host)) : undefined;
  if (cached) return cached;
  const exists = (p: string) => host.exists(p);
  let l: CgroupLayout;
  if (await exists(path.join(root, 'cgroup.controllers'))) l = { v2Root: root, pureV2: true };
  else if (await exists(path.join(root, 'unified', 'cgroup.controllers'))) l = { v2Root: path.join(root, 'unified'), pureV2: false };
  else l = { v2Root: '', pureV2: false };
  if (root === CGROUP_ROOT) layoutCache.set(unbatched(host), l);
  return l;
}

const reader = (host: Host) => (p: string) => host.readFile(p).catch(() => undefined);

export interface CgroupCounters {
  /** The cgroup paths found (v1 per controller, v2). */
  paths: ProcCgroup;
  cpuNs?: number;
  /** cpu quota in cores (cfs_quota/period or cpu.max), undefined = unlimited. */
  cpuQuotaCores?: number;
  /** cpu.shares (v1) or cpu.weight (v2). */
  cpuShares?: number;
  cpuWeight?: number;
  memUsage?: number;
  memLimit?: number;
  /** Page cache charged to the cgroup (v1 memory.stat cache / v2 file). */
  memCache?: number;
  /** Anonymous memory (v1 rss / v2 anon). */
  memAnon?: number;
  io?: IoCounters;
  psi?: { cpu?: number; memory?: number; io?: number };
  /** Which files the numbers came from ("v1" / "v2"), for the comparison panel's sources. */
  version: 'v1' | 'v2' | 'hybrid';
}

const UNLIMITED = 2 ** 62;

/** Reads the counters of the cgroup(s) of `pid`. A v2 path of "/" (the root) is ignored: that is the host. */
export async function cgroupCountersOfPid(pid: number, root = CGROUP_ROOT, host: Host = localHost): Promise<CgroupCounters | undefined> {
  const text = await reader(host)(`/proc/${pid}/cgroup`);
  if (!text) return undefined;
  return cgroupCounters(parseProcCgroup(text), root, host);
}

/** Readers of one cgroup's files: a v1 controller's, or the v2 directory's (undefined when absent). */
interface CgroupFiles {
  layout: CgroupLayout;
  v1(ctrl: string, file: string): Promise<string | undefined>;
  v2(file: string): Promise<string | undefined>;
}

async function cgroupFiles(paths: ProcCgroup, root: string, host: Host): Promise<CgroupFiles> {
  const layout = await cgroupLayout(root, host);
  const read = reader(host);
  const v2 = layout.v2Root && paths.v2 && paths.v2 !== '/' ? path.join(layout.v2Root, paths.v2) : undefined;
  return {
    layout,
    v1: (ctrl, file) => (paths.v1[ctrl] !== undefined && !layout.pureV2 ? read(path.join(root, ctrl, paths.v1[ctrl], file)) : Promise.resolve(undefined)),
    v2: (file) => (v2 ? read(path.join(v2, file)) : Promise.resolve(undefined)),
  };
}

/** CPU time (ns): v1 cpuacct.usage, else v2 cpu.stat usage_usec. */
function cpuNsOf(cpuacct: string | undefined, cpuStat2: string | undefined): number | undefined {
  if (cpuacct) return Number(cpuacct.trim());
  if (cpuStat2) {
    const u = parseKeyValues(cpuStat2).usage_usec;
    if (u !== undefined) return u * 1000;
  }
  return undefined;
}

/** PSI "some" avg10 of the v2 *.pressure files, undefined when none has it. */
function psiOf(pCpu: string | undefined, pMem: string | undefined, pIo: string | undefined): CgroupCounters['psi'] {
  const psi = { cpu: pCpu && parsePsi(pCpu)?.some.avg10, memory: pMem && parsePsi(pMem)?.some.avg10, io: pIo && parsePsi(pIo)?.some.avg10 };
  return psi.cpu !== undefined || psi.memory !== undefined || psi.io !== undefined ? (psi as CgroupCounters['psi']) : undefined;
}

/**
 * Only the PSI (and, with `cpu`, the CPU time) of the cgroup of `pid`: what the sampler takes per
 * tick from a libvirt domain's or an engine container's cgroup, in 4-6 file reads instead of the
 * ~20 of cgroupCountersOfPid. Same values as cgroupCountersOfPid's psi and cpuNs.
 */
export async function cgroupPsiOfPid(
  pid: number,
  options: { cpu?: boolean } = {},
  root = CGROUP_ROOT,
  host: Host = localHost,
): Promise<Pick<CgroupCounters, 'psi' | 'cpuNs'> | undefined> {
  const text = await reader(host)(`/proc/${pid}/cgroup`);
  if (!text) return undefined;
  return cgroupPsi(parseProcCgroup(text), options, root, host);
}

/** cgroupPsiOfPid for known cgroup paths. */
export async function cgroupPsi(
  paths: ProcCgroup,
  options: { cpu?: boolean } = {},
  root = CGROUP_ROOT,
  host: Host = localHost,
): Promise<Pick<CgroupCounters, 'psi' | 'cpuNs'>> {
  const f = await cgroupFiles(paths, root, host);
  const none = Promise.resolve(undefined);
  const [cpuacct, cpuStat2, pCpu, pMem, pIo] = await Promise.all([
    options.cpu ? f.v1('cpuacct', 'cpuacct.usage') : none,
    options.cpu ? f.v2('cpu.stat') : none,
    f.v2('cpu.pressure'),
    f.v2('memory.pressure'),
    f.v2('io.pressure'),
  ]);
  return { cpuNs: cpuNsOf(cpuacct, cpuStat2), psi: psiOf(pCpu, pMem, pIo) };
}

export async function cgroupCounters(paths: ProcCgroup, root = CGROUP_ROOT, host: Host = localHost): Promise<CgroupCounters> {
  const { layout, v1, v2: f2 } = await cgroupFiles(paths, root, host);
  const out: CgroupCounters = { paths, version: layout.pureV2 ? 'v2' : layout.v2Root ? 'hybrid' : 'v1' };
  const [cpuacct, cpuStat2, quota, period, shares, cpuMax, weight, memUse, memLim, memStat, memCur, memMax, memStat2, blkB, blkO, ioStat, pCpu, pMem, pIo] =
    await Promise.all([
      v1('cpuacct', 'cpuacct.usage'),
      f2('cpu.stat'),
      v1('cpu', 'cpu.cfs_quota_us'),
      v1('cpu', 'cpu.cfs_period_us'),
      v1('cpu', 'cpu.shares'),
      f2('cpu.max'),
      f2('cpu.weight'),
      v1('memory', 'memory.usage_in_bytes'),
      v1('memory', 'memory.limit_in_bytes'),
      v1('memory', 'memory.stat'),
      f2('memory.current'),
      f2('memory.max'),
      f2('memory.stat'),
      v1('blkio', 'blkio.throttle.io_service_bytes'),
      v1('blkio', 'blkio.throttle.io_serviced'),
      f2('io.stat'),
      f2('cpu.pressure'),
      f2('memory.pressure'),
      f2('io.pressure'),
    ]);
  const cpuNs = cpuNsOf(cpuacct, cpuStat2);
  if (cpuNs !== undefined) out.cpuNs = cpuNs;
  if (quota && period && Number(quota) > 0) out.cpuQuotaCores = Number(quota) / Number(period);
  else if (cpuMax) {
    const [q, p] = cpuMax.trim().split(/\s+/);
    if (q !== 'max' && Number(p) > 0) out.cpuQuotaCores = Number(q) / Number(p);
  }
  if (shares) out.cpuShares = Number(shares.trim());
  if (weight) out.cpuWeight = Number(weight.trim());
  if (memUse) {
    out.memUsage = Number(memUse.trim());
    const lim = Number(memLim?.trim());
    if (lim && lim < UNLIMITED) out.memLimit = lim;
    const st = parseKeyValues(memStat ?? '');
    out.memCache = st.total_cache ?? st.cache;
    out.memAnon = st.total_rss ?? st.rss;
  } else if (memCur) {
    out.memUsage = Number(memCur.trim());
    if (memMax && memMax.trim() !== 'max') out.memLimit = Number(memMax.trim());
    const st = parseKeyValues(memStat2 ?? '');
    out.memCache = st.file;
    out.memAnon = st.anon;
  }
  if (blkB) {
    const b = parseBlkioV1(blkB);
    const o = parseBlkioV1(blkO ?? '');
    out.io = { rdBytes: b.read, wrBytes: b.write, rdOps: o.read, wrOps: o.write };
  } else if (ioStat !== undefined) out.io = parseIoStatV2(ioStat);
  const psi = psiOf(pCpu, pMem, pIo);
  if (psi) out.psi = psi;
  return out;
}

/** Processes (tgids) in a process's cgroup (v1 memory/cpuacct or v2 path). */
export async function cgroupProcs(paths: ProcCgroup, root = CGROUP_ROOT, host: Host = localHost): Promise<number[]> {
  const layout = await cgroupLayout(root, host);
  const candidates: string[] = [];
  if (layout.pureV2 && paths.v2) candidates.push(path.join(root, paths.v2));
  for (const c of ['memory', 'pids', 'cpuacct', 'freezer']) if (paths.v1[c] !== undefined && !layout.pureV2) candidates.push(path.join(root, c, paths.v1[c]));
  if (layout.v2Root && paths.v2 && paths.v2 !== '/') candidates.push(path.join(layout.v2Root, paths.v2));
  for (const dir of candidates) {
    const procs = await collectProcs(host, dir);
    if (procs) return procs;
  }
  return [];
}

/** cgroup.procs of a directory and of its children (a container's payload may nest cgroups). */
async function collectProcs(host: Host, dir: string): Promise<number[] | undefined> {
  const own = await reader(host)(path.join(dir, 'cgroup.procs'));
  if (own === undefined) return undefined;
  const out = own.split('\n').filter(Boolean).map(Number);
  const entries = await host.readdir(dir).catch(() => []);
  for (const e of entries) if (e.type === 'directory') out.push(...((await collectProcs(host, path.join(dir, e.name))) ?? []));
  return out;
}
