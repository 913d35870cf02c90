// Parsers for what the trace sources print: the guest's kprobe_profile and /proc/net/dev, QEMU's
// `info trace-events` and its trace log (the "log" backend), and host tracefs kvm event lines.
// Pure functions, unit-tested on recorded text.
import { parseIpAddrJson } from '../host/net';

/** kprobe_profile: "  <event>   <nhit>   <nmissed>" per line → hits by event name (group stripped). */
export function parseKprobeProfile(text: string): Map<string, { hits: number; misses: number }> {
  const out = new Map<string, { hits: number; misses: number }>();
  for (const line of text.split('\n')) {
    const m = /^\s*(?:[\w.-]+\/)?([\w.$-]+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out.set(m[1], { hits: Number(m[2]), misses: Number(m[3]) });
  }
  return out;
}

/** A hist trigger keyed by the virtqueue name ("{ vq: output.0  } hitcount:  3") → hits by queue name. */
export function parseKickHist(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\{\s*vq:\s*(.*?)\s*\}\s*hitcount:\s*(\d+)\s*$/.exec(line);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The virtio-net TX queues' kicks ("output.N"); undefined when no such queue was seen. */
export function txKicks(byQueue: Record<string, number> | undefined): number | undefined {
  const tx = Object.entries(byQueue ?? {}).filter(([q]) => /^output\.\d+$/.test(q));
  return tx.length ? tx.reduce((sum, [, n]) => sum + n, 0) : undefined;
}

/**
 * /proc/interrupts → counts by interrupt name (the last column: "virtio0-output.0", "virtio3"),
 * summed over CPUs. Lines without a name (NMI, LOC, …) are skipped; two lines with one name add up.
 */
export function parseInterrupts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s+(.*)$/.exec(line);
    if (!m) continue;
    const cols = m[1].trim().split(/\s+/);
    let sum = 0;
    let i = 0;
    for (; i < cols.length && /^\d+$/.test(cols[i]); i++) sum += Number(cols[i]);
    if (i === 0 || i >= cols.length - 1) continue; // no counts, or no name after the chip columns
    const name = cols[cols.length - 1];
    out.set(name, (out.get(name) ?? 0) + sum);
  }
  return out;
}

export { netDevByInterface, type NetDevCounters } from '../metrics/parse';

/** HMP `info trace-events` → state by event name ("virtio_notify : state 1"). */
export function parseInfoTraceEvents(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\w+)\s*:\s*state\s+(\d)/.exec(line);
    if (m) out.set(m[1], m[2] !== '0');
  }
  return out;
}

export interface QemuTraceCounts {
  /** Lines per event name. */
  readonly byEvent: Map<string, number>;
  /** virtio_queue_notify per "vdev n" (device pointer and queue index). */
  readonly notifyByQueue: Map<string, number>;
  /** virtio_notify / virtio_notify_irqfd per "vdev vq". */
  readonly interruptsByQueue: Map<string, number>;
  readonly lines: number;
}

/**
 * QEMU trace log lines ("log" backend, what `logfile F` receives):
 *   10664@1795614995.321307:virtio_queue_notify vdev 0x557b1528e3f0 n 2 vq 0x7faf802b9140
 *   10658@1795614995.320502:virtio_notify vdev 0x557b1528e3f0 vq 0x7faf802b9140
 * The "pid@time:" prefix is optional (older QEMU prints none). Lines that are not trace events
 * (other log output) are ignored.
 */
export function parseQemuTraceLog(text: string, events?: ReadonlySet<string>): QemuTraceCounts {
  const byEvent = new Map<string, number>();
  const notifyByQueue = new Map<string, number>();
  const interruptsByQueue = new Map<string, number>();
  let lines = 0;
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const line of text.split('\n')) {
    const m = /^(?:\d+@[\d.]+:)?([a-z][a-z0-9_]*) (.*)$/.exec(line.trim());
    if (!m) continue;
    const [, ev, rest] = m;
    if (events ? !events.has(ev) : !/^virt/.test(ev)) continue;
    lines++;
    inc(byEvent, ev);
    if (ev === 'virtio_queue_notify') {
      const q = /vdev (0x[0-9a-f]+) n (\d+)/.exec(rest);
      if (q) inc(notifyByQueue, `${q[1]} ${q[2]}`);
    } else if (ev === 'virtio_notify' || ev === 'virtio_notify_irqfd') {
      const q = /vdev (0x[0-9a-f]+) vq (0x[0-9a-f]+)/.exec(rest);
      if (q) inc(interruptsByQueue, `${q[1]} ${q[2]}`);
    }
  }
  return { byEvent, notifyByQueue, interruptsByQueue, lines };
}

export interface KvmEventCounts {
  /** kvm_exit by reason (EPT_MISCONFIG, IO_INSTRUCTION, HLT, …). */
  readonly exitsByReason: Map<string, number>;
  readonly exits: number;
  /** kvm_pio writes/reads by port ("pio_write 0xc050"). */
  readonly pioByPort: Map<string, number>;
  readonly pio: number;
  readonly mmio: number;
  readonly fastMmio: number;
  /** kvm_userspace_exit by reason (KVM_EXIT_IO, KVM_EXIT_MMIO, …): the exits QEMU itself handled. */
  readonly userspaceExitsByReason: Map<string, number>;
  /** Interrupt injections: kvm_inj_virq + kvm_msi_set_irq + kvm_set_irq(level 1). */
  readonly injections: Map<string, number>;
  readonly lines: number;
}

// ftrace / trace-cmd report: task-pid, optional (tgid), [cpu], optional flags, timestamp:, event:, payload
const FTRACE_KVM_LINE = /^\s*.+?-(?<pid>\d+)\s+(?:\(\s*(?<tgid>\d+|-+)\)\s+)?\[\d+\]\s+(?:\S{4,5}\s+)?[\d.]+:\s+(?<ev>kvm_\w+):\s*(?<payload>.*)$/;
// perf script / perf-prof: optional wall clock, task pid, optional flags, [cpu], timestamp:, kvm:event:, payload (no tgid)
const PERF_KVM_LINE =
  /^\s*(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+)?.+?\s+(?<pid>\d+)\s+(?:\S{4,5}\s+)?\[\d+\]\s+[\d.]+:\s+kvm:(?<ev>kvm_\w+):\s*(?<payload>.*)$/;

/**
 * Host lines of the kvm events. Read: tracefs `trace` / `trace_pipe` (with or without the tgid
 * column and the flags column) and `trace-cmd report`, whose task is "comm-pid":
 *   CPU 36/KVM-2063    [097] ..... 1466862.728737: kvm_pio: pio_write at 0x3f8 size 1 count 1 val 0xd
 *   qemu-system-x86-6660  [007]   398.691475: kvm_exit:             reason IO_INSTRUCTION rip 0x7fa9ee5224e4 info 5658000b 0
 * and `perf script` (also perf-prof, with its wall-clock prefix and flags), whose task is
 * "comm pid" and whose event carries the "kvm:" system:
 *   dbs_load_kernel 426566 [003] 108229.924216:        kvm:kvm_inj_virq: irq 52
 * kvm_exit in both layouts: "reason X rip … info …" (older kernels) and "vcpu N reason X rip … info1 …" (6.x).
 * `tgid`: keep only lines of that process (needs `options/record-tgid`, "(  2063)" after the task),
 * or, without a tgid column, lines whose task pid is in `pids` (the guest's vCPU threads).
 */
export function parseKvmEvents(text: string, filter: { tgid?: number; pids?: ReadonlySet<number> } = {}): KvmEventCounts {
  const exitsByReason = new Map<string, number>();
  const pioByPort = new Map<string, number>();
  const userspaceExitsByReason = new Map<string, number>();
  const injections = new Map<string, number>();
  let exits = 0,
    pio = 0,
    mmio = 0,
    fastMmio = 0,
    lines = 0;
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const raw of text.split('\n')) {
    const g = (FTRACE_KVM_LINE.exec(raw) ?? PERF_KVM_LINE.exec(raw))?.groups;
    if (!g) continue;
    const pid = Number(g.pid);
    const tgid = g.tgid && /^\d+$/.test(g.tgid) ? Number(g.tgid) : undefined;
    const mine = tgid !== undefined && filter.tgid !== undefined ? tgid === filter.tgid : filter.pids ? filter.pids.has(pid) : filter.tgid === undefined;
    if (!mine) continue;
    const ev = g.ev;
    const p = g.payload.trim();
    lines++;
    switch (ev) {
      case 'kvm_exit': {
        // "reason EPT_MISCONFIG rip …" (older) or "vcpu 0 reason IO_INSTRUCTION rip …" (6.x)
        const r = /reason (\S+)/.exec(p);
        exits++;
        inc(exitsByReason, r ? r[1] : 'unknown');
        break;
      }
      case 'kvm_pio': {
        const r = /(pio_read|pio_write)\s+at (0x[0-9a-f]+)/.exec(p);
        pio++;
        if (r) inc(pioByPort, `${r[1]} ${r[2]}`);
        break;
      }
      case 'kvm_mmio':
        mmio++;
        break;
      case 'kvm_fast_mmio':
        fastMmio++;
        break;
      case 'kvm_userspace_exit': {
        const r = /reason (\S+)/.exec(p);
        inc(userspaceExitsByReason, r ? r[1] : 'unknown');
        break;
      }
      case 'kvm_inj_virq':
        inc(injections, 'kvm_inj_virq');
        break;
      case 'kvm_msi_set_irq':
        inc(injections, 'kvm_msi_set_irq');
        break;
      case 'kvm_set_irq':
        if (/level 1\b/.test(p)) inc(injections, 'kvm_set_irq (level 1)');
        break;
    }
  }
  return { exitsByReason, exits, pioByPort, pio, mmio, fastMmio, userspaceExitsByReason, injections, lines };
}

/** The host-side bridge of a domain's first bridged/network interface (`<source … bridge='vsbr0'/>`). */
export function interfaceBridges(domainXml: string): { bridge?: string; network?: string; target?: string; model?: string }[] {
  const out: { bridge?: string; network?: string; target?: string; model?: string }[] = [];
  for (const m of domainXml.matchAll(/<interface\b[^>]*\btype=(['"])(network|bridge)\1[^>]*>([\s\S]*?)<\/interface>/g)) {
    const body = m[3];
    const attr = (tag: string, a: string) => new RegExp(`<${tag}\\b[^>]*\\b${a}=(['"])(.*?)\\1`).exec(body)?.[2];
    out.push({ bridge: attr('source', 'bridge'), network: attr('source', 'network'), target: attr('target', 'dev'), model: attr('model', 'type') });
  }
  return out;
}

/** `ip -j addr show dev X` → first IPv4 address. */
export function firstIPv4(ipJson: string): string | undefined {
  try {
    return parseIpAddrJson(JSON.parse(ipJson), { loopback: true })[0]?.address;
  } catch {
    return undefined; // not JSON
  }
}

/** iperf3 -J output → sender bits per second (undefined when absent). */
export function iperfSentBps(json: string): number | undefined {
  try {
    const j = JSON.parse(json);
    const v = j?.end?.sum_sent?.bits_per_second;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}
