// A container and a VM side by side: which running guests can be picked, what the host sees of each
// (observability), and the container-vs-KVM table's rows for the pair. The panels only render this.
import { capabilitiesOf } from '../capabilities';
import { Connection } from '../connection';
import type { Host } from '../host/host';
import { localHost } from '../host/local';
import { CONTAINER_KINDS, Guest } from '../model';
import { buildRows, gatherSide, hostFacts, latestReport, Row } from './compare';
import { ProcRow, ProcTracker } from './observe';
import type { Sampler } from './sampler';

/** Guest kinds that share the host's kernel. */
export { CONTAINER_KINDS };

export interface PairCandidate {
  /** Connection id and guest id, as the pickers and the panel state name it. */
  key: string;
  label: string;
  conn: Connection;
  guest: Guest;
}

/** Key of a guest in pickers: connection id + '|' + guest id. */
export const pairKey = (connectionId: string, guestId: string) => `${connectionId}|${guestId}`;

/** The running containers and QEMU guests of the connected connections. */
export function pairCandidates(conns: readonly Connection[]): { containers: PairCandidate[]; vms: PairCandidate[] } {
  const containers: PairCandidate[] = [];
  const vms: PairCandidate[] = [];
  for (const c of conns) {
    if (c.status.state !== 'connected') continue;
    for (const g of c.guests.values()) {
      if (g.state !== 'running') continue;
      const item = { key: pairKey(c.config.id, g.id), label: `${g.name} (${g.kind}, ${c.label})`, conn: c, guest: g };
      if (g.kind === 'qemu') vms.push(item);
      else if (CONTAINER_KINDS.has(g.kind)) containers.push(item);
    }
  }
  return { containers, vms };
}

/** The picked container and VM (by key), else the first running of each. */
export function pickPair(conns: readonly Connection[], picked: { container?: string; vm?: string }) {
  const { containers, vms } = pairCandidates(conns);
  const container = containers.find((x) => x.key === picked.container) ?? containers[0];
  const vm = vms.find((x) => x.key === picked.vm) ?? vms[0];
  return { containers, vms, container, vm };
}

export interface ObservedSide {
  summary: string;
  error?: string;
  rows: ProcRow[];
}

/** What the host sees of a container and of a VM; keeps each host's previous readings for CPU %. */
export class PairObserver {
  private readonly trackers = new WeakMap<Host, ProcTracker>();

  private tracker(host: Host): ProcTracker {
    let t = this.trackers.get(host);
    if (!t) this.trackers.set(host, (t = new ProcTracker(host)));
    return t;
  }

  private async hostPid(c: PairCandidate): Promise<{ host: Host; pid?: number }> {
    const proc = capabilitiesOf(c.conn.requireBackend(), c.guest).hostProcess;
    return { host: proc?.host ?? localHost, pid: await proc?.pid() };
  }

  /** Every process in the container's cgroup. */
  async container(c: PairCandidate): Promise<ObservedSide> {
    const g = c.guest;
    const { host, pid } = await this.hostPid(c);
    // libvirt-LXC: the host process is the libvirt_lxc controller, which lives in the domain's cgroup
    const rows = (pid ? await this.tracker(host).container(pid) : []).map((r) =>
      g.kind === 'libvirt-lxc' && r.pid === pid ? { ...r, role: 'controller' } : r,
    );
    return {
      summary: `${rows.length} processes of ${g.name}, each with its command, CPU and memory — everything in its cgroup`,
      error: pid ? undefined : 'no host process for this container (is it on a host virtscope can read?)',
      rows,
    };
  }

  /** The VM's QEMU process and its threads. */
  async vm(v: PairCandidate): Promise<ObservedSide> {
    const { host, pid } = await this.hostPid(v);
    const rows = pid ? await this.tracker(host).vm(pid) : [];
    const vcpus = rows.filter((r) => r.role === 'vcpu').length;
    return {
      summary: `1 QEMU process and ${Math.max(0, rows.length - 1)} threads (${vcpus} vCPU) of ${v.guest.name} — the guest's own processes are invisible from here`,
      error: pid ? undefined : 'no QEMU process (is the domain on a host virtscope can read?)',
      rows,
    };
  }
}

export interface ComparedPair {
  rows: Row[];
  /** The benchmark report the rows took figures from (its file name). */
  report?: string;
  error?: string;
}

/** The container-vs-KVM table's rows for the pair, with the newest benchmark report in `reportsDir`. */
export async function comparePair(
  container: PairCandidate | undefined,
  vm: PairCandidate | undefined,
  sampler: Sampler,
  reportsDir: string,
): Promise<ComparedPair> {
  const rep = await latestReport(reportsDir);
  const host = await hostFacts(rep?.report, rep ? rep.file.split(/[\\/]/).pop() : undefined);
  if (!container || !vm) return { rows: [], report: host.reportName, error: 'needs a running container and a running QEMU guest' };
  const [c, v] = await Promise.all([gatherSide(container.conn, container.guest, sampler, rep?.report), gatherSide(vm.conn, vm.guest, sampler, rep?.report)]);
  return { rows: buildRows(c, v, host), report: host.reportName };
}
