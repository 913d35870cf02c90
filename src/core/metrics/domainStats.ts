// libvirt's bulk-stats parameters (virsh domstats naming) → the sampler's counters for one domain.
import { Counters } from './series';

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
    c.io = {
      rdBytes: sumOver(params, n, BLOCK_RD_BYTES),
      wrBytes: sumOver(params, n, BLOCK_WR_BYTES),
      rdOps: sumOver(params, n, BLOCK_RD_REQS),
      wrOps: sumOver(params, n, BLOCK_WR_REQS),
    };
  }
  const nets = params['net.count'];
  if (nets !== undefined) {
    const n = num(nets) ?? 0;
    c.net = {
      rxBytes: sumOver(params, n, NET_RX_BYTES),
      txBytes: sumOver(params, n, NET_TX_BYTES),
      rxPkts: sumOver(params, n, NET_RX_PKTS),
      txPkts: sumOver(params, n, NET_TX_PKTS),
    };
  }
  return c;
}
