// The guest-side view: the guest's own /proc, load, filesystems and kernel, read by one script run
// inside the guest (through its exec capability), and turned into a point of the guest-side ring.
import type { GuestExec } from '../capabilities';
import { parseSections, runGuestScript, sectionLine, END_SECTION } from '../guest/script';
import { FsUse, looksLikeWholeDisk, meminfoSummary, parseDf, parseDiskstats, parseLoadavg, parseNetDev, parseProcStat, parsePsi, ProcStat } from './parse';
import { Counters, derive, Point, Ring } from './series';

/** The script run inside the guest; its sections are read by parseGuestSide. */
export const GUEST_SIDE_SCRIPT = [
  `${sectionLine('stat')}; cat /proc/stat`,
  `${sectionLine('meminfo')}; cat /proc/meminfo`,
  `${sectionLine('loadavg')}; cat /proc/loadavg`,
  `${sectionLine('diskstats')}; cat /proc/diskstats 2>/dev/null`,
  `${sectionLine('netdev')}; cat /proc/net/dev 2>/dev/null`,
  'for r in cpu memory io; do echo @@psi_$r; cat /proc/pressure/$r 2>/dev/null; done',
  `${sectionLine('df')}; df -kP 2>/dev/null`,
  `${sectionLine('uname')}; uname -sr`,
  `${sectionLine('osrelease')}; cat /etc/os-release 2>/dev/null`,
  sectionLine(END_SECTION),
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

const psiOf = (x?: string) => (x ? parsePsi(x)?.some.avg10 : undefined);

/** The script's sections → one reading at time `t`. */
export function guestSideFromSections(s: Readonly<Record<string, string>>, t: number): GuestSideReading {
  const stat = parseProcStat(s.stat ?? '');
  const mem = meminfoSummary(s.meminfo ?? '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(s.osrelease ?? '')?.[1];
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

/** The script's whole output → one reading at time `t`. */
export function parseGuestSide(text: string, t: number): GuestSideReading {
  return guestSideFromSections(parseSections(text).sections, t);
}

/** Reads the guest side once: runs the script in the guest and parses what it printed. */
export async function readGuestSide(exec: GuestExec, guest: string, timeoutMs: number): Promise<GuestSideReading> {
  const r = await runGuestScript(exec, GUEST_SIDE_SCRIPT, { what: 'the guest-side', guest, timeoutMs });
  return guestSideFromSections(r.sections, Date.now());
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

/** What the sampler keeps of one guest's guest side. */
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
