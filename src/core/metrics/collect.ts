// One collection of a connection's guests per tick, chosen by what the backend can do: bulk statistics
// (libvirt), the engine's statistics (Docker/Podman), or else the cgroup files of each guest's host
// process (lxc-tools). A guest's host process adds its cgroup's PSI where the backend has one.
import { capabilitiesOf, EngineStatsSource, HostProcess, Stats } from '../capabilities';
import { Connection } from '../connection';
import { ReadBatch } from '../host/readBatch';
import { Guest, GuestKind } from '../model';
import type { Host } from '../host/host';
import { cgroupCounters, cgroupPsi, CGROUP_ROOT } from './cgroup';
import { countersFromDomainStats } from './domainStats';
import { engineCounters, parseNetDev, parseProcCgroup, ProcCgroup } from './parse';
import { Counters } from './series';

/** Where the host-side figures of each kind of guest come from (for the guest panel's note). */
export const COLLECTED_FROM: Readonly<Record<GuestKind, string>> = {
  qemu: 'libvirt bulk stats (cpu.time, vcpu.N.time, balloon.rss = QEMU RSS, block/net counters)',
  'libvirt-lxc': 'libvirt per-domain calls (no bulk stats in the LXC driver) + the domain cgroup',
  lxc: 'the container cgroup (cpuacct, memory, blkio; v2 PSI) and its /proc/PID/net/dev',
  container: 'the engine stats API (one-shot) + the cgroup PSI',
  'lxd-container': "LXD's instance state API (/1.0/instances/NAME/state)",
  'lxd-vm': "LXD's instance state API (/1.0/instances/NAME/state)",
};

export interface GuestReading {
  guestId: string;
  name: string;
  counters: Counters;
}

/**
 * The host process of each guest and its pid, asked of the backend once per guest object (a refreshed
 * guest is a new object): a tick then costs one map lookup per guest, not a capability lookup or a
 * program run on its host. A pid whose /proc files are gone is asked for again (gone()).
 */
export class HostProcesses {
  private readonly known = new Map<string, { guest: Guest; proc: HostProcess | undefined; pid?: Promise<number | undefined>; cgroup?: ProcCgroup }>();

  of(conn: Connection, guest: Guest): HostProcess | undefined {
    const k = this.known.get(guest.id);
    if (k && k.guest === guest) return k.proc;
    const proc = capabilitiesOf(conn.requireBackend(), guest).hostProcess;
    this.known.set(guest.id, { guest, proc });
    return proc;
  }

  /** The guest's host process with its pid; undefined when it has none (not running there). */
  async running(conn: Connection, guest: Guest): Promise<{ proc: HostProcess; pid: number } | undefined> {
    const proc = this.of(conn, guest);
    const k = this.known.get(guest.id);
    if (!proc || !k) return undefined;
    k.pid ??= proc.pid().catch(() => undefined);
    const pid = await k.pid;
    if (pid) return { proc, pid };
    if (k.guest === guest) k.pid = undefined; // not running yet: asked again next tick
    return undefined;
  }

  /** The guest's host process is gone (its /proc files are): its pid is asked for again next tick. */
  gone(guest: Guest): void {
    const k = this.known.get(guest.id);
    if (k?.guest === guest) k.pid = k.cgroup = undefined;
  }

  /**
   * What `read` makes of the cgroup of the guest's host process, in one round of reads: its cgroup
   * paths are remembered from the last tick and their files read beside /proc/PID/cgroup, which checks
   * them (moved: read again at the new paths; gone: undefined, and the pid is asked for again).
   */
  async ofCgroup<T>(guest: Guest, pid: number, host: Host, read: (paths: ProcCgroup) => Promise<T>): Promise<T | undefined> {
    const k = this.known.get(guest.id);
    const known = k?.guest === guest ? k.cgroup : undefined;
    const [text, guess] = await Promise.all([host.readFile(`/proc/${pid}/cgroup`).catch(() => undefined), known && read(known)]);
    if (!text) return void this.gone(guest);
    const paths = parseProcCgroup(text);
    if (known && JSON.stringify(paths) === JSON.stringify(known)) return guess;
    if (k?.guest === guest) k.cgroup = paths;
    return read(paths);
  }

  /** Forgets guests no longer on the connection. */
  prune(conn: Connection): void {
    for (const id of this.known.keys()) if (!conn.guests.has(id)) this.known.delete(id);
  }
}

const isReadable = (g: Guest, withPaused: boolean) => g.state === 'running' || (withPaused && g.state === 'paused');

/** Bulk statistics of every running domain, plus its cgroup's PSI where its host process is known. */
async function collectBulk(conn: Connection, stats: Stats, procs: HostProcesses, reads: ReadBatch): Promise<GuestReading[]> {
  const all = await stats.all();
  // a domain not listed yet is of the connection's kind (one driver per libvirt connection)
  const first = conn.guests.values().next().value as Guest | undefined;
  const connKind = first?.kind === 'libvirt-lxc' ? 'libvirt-lxc' : 'qemu';
  return Promise.all(
    all
      .filter((s) => s.id > 0)
      .map(async (s) => {
        const guest = conn.guest(s.uuid);
        const kind = guest ? (guest.kind === 'libvirt-lxc' ? 'libvirt-lxc' : 'qemu') : connKind;
        const counters = countersFromDomainStats(s.params, kind);
        const hp = guest && (await procs.running(conn, guest));
        if (hp) {
          // only the files used here: PSI, and the CPU time where libvirt-LXC reports none
          // (on a hybrid cgroup layout its cpu.time is 0: the cgroup's cpuacct has the time)
          const needCpu = kind === 'libvirt-lxc' && !counters.cpuNs;
          const host = reads.of(hp.proc.host);
          const cg = await procs.ofCgroup(guest, hp.pid, host, (paths) => cgroupPsi(paths, { cpu: needCpu }, CGROUP_ROOT, host));
          if (cg?.psi) counters.psi = cg.psi;
          if (needCpu && cg?.cpuNs) counters.cpuNs = cg.cpuNs;
        }
        return { guestId: s.uuid, name: s.name, counters };
      }),
  );
}

/** Docker/Podman: one-shot statistics per running container, concurrently. */
async function collectEngine(conn: Connection, engine: EngineStatsSource, procs: HostProcesses, hostCpus: number, reads: ReadBatch): Promise<GuestReading[]> {
  const running = [...conn.guests.values()].filter((g) => isReadable(g, false));
  const out = await Promise.all(
    running.map(async (g) => {
      try {
        const s = await engine.of(g.id);
        const e = engineCounters(s);
        const c: Counters = {
          cpuNs: e.cpuNs,
          cpuCap: g.vcpus ?? s.cpu_stats?.online_cpus ?? hostCpus,
          memUsed: e.memUsed,
          memAlloc: g.memoryBytes ?? e.memLimit,
          io: e.io,
          net: e.net,
        };
        const hp = await procs.running(conn, g);
        if (hp) {
          const host = reads.of(hp.proc.host);
          const cg = await procs.ofCgroup(g, hp.pid, host, (paths) => cgroupPsi(paths, {}, CGROUP_ROOT, host));
          if (cg?.psi) c.psi = cg.psi;
        }
        return { guestId: g.id, name: g.name, counters: c };
      } catch {
        return undefined; // gone between the listing and the read
      }
    }),
  );
  return out.filter((r): r is GuestReading => r !== undefined);
}

/** Containers without statistics of their own (lxc-tools): their cgroup files and their namespace's /proc/PID/net/dev. */
async function collectCgroups(conn: Connection, procs: HostProcesses, hostCpus: number, reads: ReadBatch): Promise<GuestReading[]> {
  const running = [...conn.guests.values()].filter((g) => isReadable(g, true));
  const out = await Promise.all(
    running.map(async (g) => {
      const hp = await procs.running(conn, g);
      if (!hp) return undefined;
      const host = reads.of(hp.proc.host);
      const [cg, netText] = await Promise.all([
        procs.ofCgroup(g, hp.pid, host, (paths) => cgroupCounters(paths, CGROUP_ROOT, host)),
        host.readFile(`/proc/${hp.pid}/net/dev`).catch(() => undefined),
      ]);
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

/** One collection of the connection's running guests; their files are read in `reads` (the tick's batch). */
export function collectConnection(conn: Connection, hostCpus: number, procs = new HostProcesses(), reads = new ReadBatch()): Promise<GuestReading[]> {
  const caps = capabilitiesOf(conn.requireBackend());
  if (caps.stats) return collectBulk(conn, caps.stats, procs, reads);
  if (caps.engineStats) return collectEngine(conn, caps.engineStats, procs, hostCpus, reads);
  return collectCgroups(conn, procs, hostCpus, reads);
}
