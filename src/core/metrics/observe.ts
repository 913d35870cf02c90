// What the host can see of a guest: a container's processes (every one, from its cgroup) and a VM's
// QEMU process with its threads (vCPUs among them) — nothing of the guest's own processes.
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { CGROUP_ROOT, cgroupProcs } from './cgroup';
import { parseProcCgroup } from './parse';

export interface ProcRow {
  pid: number;
  /** Thread id when this row is a thread. */
  tid?: number;
  comm: string;
  /** % of one core since the previous read (undefined on the first). */
  cpu?: number;
  rssBytes?: number;
  state?: string;
  /** "vcpu", "io", "main", "process". */
  role: string;
}

/** utime+stime (clock ticks) and state from /proc/…/stat; comm may contain spaces and parens. */
export function parseStat(text: string): { comm: string; state: string; ticks: number; rssPages: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] = state (field 3); utime = field 14 → rest[11], stime → rest[12], rss = field 24 → rest[21]
  return { comm: text.slice(open + 1, close), state: rest[0], ticks: Number(rest[11]) + Number(rest[12]), rssPages: Number(rest[21]) };
}

const CLK_TCK = 100;
const PAGE = 4096;

/** Keeps the previous tick counts so each read gives CPU % since the last one. */
export class ProcTracker {
  private prev = new Map<string, { ticks: number; t: number }>();

  /** `host`: where the processes run (their /proc). */
  constructor(private readonly host: Host = localHost) {}

  private read(p: string): Promise<string> {
    return this.host.readFile(p).catch(() => '');
  }

  private cpu(key: string, ticks: number, t: number): number | undefined {
    const p = this.prev.get(key);
    this.prev.set(key, { ticks, t });
    if (!p || t <= p.t) return undefined;
    return Math.max(0, ((ticks - p.ticks) / CLK_TCK / ((t - p.t) / 1000)) * 100);
  }

  /** Every process in the cgroup of `pid` (a container's init): what the host sees of a container. */
  async container(pid: number): Promise<ProcRow[]> {
    const cgText = await this.read(`/proc/${pid}/cgroup`);
    if (!cgText) return [];
    const pids = await cgroupProcs(parseProcCgroup(cgText), CGROUP_ROOT, this.host);
    const t = Date.now();
    const rows: ProcRow[] = [];
    for (const p of pids.slice(0, 500)) {
      const st = parseStat(await this.read(`/proc/${p}/stat`));
      if (!st) continue;
      rows.push({ pid: p, comm: st.comm, state: st.state, cpu: this.cpu(`p${p}`, st.ticks, t), rssBytes: st.rssPages * PAGE, role: 'process' });
    }
    return rows;
  }

  /** The QEMU process and its threads: "CPU n/KVM" (or "/TCG") threads are the vCPUs. */
  async vm(qemuPid: number): Promise<ProcRow[]> {
    const t = Date.now();
    const main = parseStat(await this.read(`/proc/${qemuPid}/stat`));
    if (!main) return [];
    // the process row carries the total of all its threads; the thread rows follow (the main thread too)
    const rows: ProcRow[] = [
      { pid: qemuPid, comm: main.comm, state: main.state, cpu: this.cpu(`p${qemuPid}`, main.ticks, t), rssBytes: main.rssPages * PAGE, role: 'main' },
    ];
    const tids = (await this.host.readdir(`/proc/${qemuPid}/task`).catch(() => [])).map((e) => e.name);
    for (const tid of tids) {
      const st = parseStat(await this.read(`/proc/${qemuPid}/task/${tid}/stat`));
      if (!st) continue;
      const role = /^CPU \d+\//.test(st.comm) ? 'vcpu' : /iothread|IO /i.test(st.comm) ? 'io' : Number(tid) === qemuPid ? 'main thread' : 'thread';
      rows.push({ pid: qemuPid, tid: Number(tid), comm: st.comm, state: st.state, cpu: this.cpu(`t${tid}`, st.ticks, t), role });
    }
    return rows;
  }
}
