// The host's own counters, from its /proc: CPU, memory, whole disks, network interfaces, PSI.
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { KeptFiles, keptFiles } from '../host/procFiles';
import { meminfoSummary, parseDiskstats, parseNetDev, parseProcStat, parsePsi } from './parse';
import { Counters } from './series';

export type HostReading = Counters & { cpus: number; memTotal: number };

const FILES = ['/proc/stat', '/proc/meminfo', '/proc/diskstats', '/proc/net/dev', '/proc/pressure/cpu', '/proc/pressure/memory', '/proc/pressure/io'] as const;

/** Whole disks by name, per host: listed in /sys/block and not a loop/ram device (looked up once per name). */
const diskCache = new WeakMap<Host, Map<string, boolean>>();

/** /proc/diskstats summed over the host's whole disks; names seen for the first time are looked up first. */
async function hostDiskstats(host: Host, text: string) {
  let known = diskCache.get(host);
  if (!known) diskCache.set(host, (known = new Map()));
  const cache = known;
  const unknown: string[] = [];
  const io = parseDiskstats(text, (name) => cache.get(name) ?? (unknown.push(name), false));
  if (!unknown.length) return io;
  await Promise.all(
    unknown.map(async (name) => cache.set(name, !/^(loop|ram|zram)/.test(name) && (await host.exists(`/sys/block/${name.replace(/\//g, '!')}`)))),
  );
  return parseDiskstats(text, (name) => cache.get(name) ?? false);
}

const psiOf = (text: string | undefined) => (text ? parsePsi(text)?.some.avg10 : undefined);

/**
 * The host's counters. `files` keeps the files open between calls (the sampler's, closed when it
 * stops); without it they are opened and closed here.
 */
export async function readHost(files?: KeptFiles, host: Host = localHost): Promise<HostReading> {
  const proc = files ?? keptFiles(host);
  try {
    const [stat, mem, disk, net, pCpu, pMem, pIo] = await proc.readMany(FILES);
    if (stat === undefined || mem === undefined) throw new Error(`cannot read /proc/stat and /proc/meminfo on ${host.label}`);
    const s = parseProcStat(stat);
    const m = meminfoSummary(mem);
    return {
      cpus: s.perCpu.length || 1,
      memTotal: m.total,
      hostCpu: s.all,
      memUsed: m.used,
      memAlloc: m.total,
      io: disk === undefined ? undefined : await hostDiskstats(host, disk),
      net: net === undefined ? undefined : parseNetDev(net),
      psi: { cpu: psiOf(pCpu), memory: psiOf(pMem), io: psiOf(pIo) },
    };
  } finally {
    if (!files) proc.close();
  }
}
