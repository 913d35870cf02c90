// Parsers for the benchmark tools' output. iperf3 (-J) and fio (--output-format=json) print JSON;
// sockperf, ping and sysbench have no machine-readable output, so their one summary line each is
// matched strictly (a mismatch is an error, never a silent zero).
import type { Ipv4 } from '../host/net';

export class ParseError extends Error {
  constructor(tool: string, what: string, text: string) {
    super(`${tool}: ${what} (output began: ${JSON.stringify(text.slice(0, 300))})`);
    this.name = 'ParseError';
  }
}

/** Extracts the first top-level JSON object from text that may carry warnings around it. */
export function jsonFrom(tool: string, text: string): any {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw new ParseError(tool, 'no JSON in the output', text);
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch (e) {
    throw new ParseError(tool, `invalid JSON: ${(e as Error).message}`, text);
  }
}

export interface IperfSummary {
  /** What the receiver got, bits per second. */
  receivedBps: number;
  sentBps: number;
  retransmits?: number;
  seconds: number;
}

/** iperf3 -J (client side): end.sum_received / end.sum_sent. An "error" member is raised. */
export function parseIperf3(json: any): IperfSummary {
  if (json?.error) throw new Error(`iperf3: ${json.error}`);
  const r = json?.end?.sum_received;
  const s = json?.end?.sum_sent;
  if (typeof r?.bits_per_second !== 'number' || typeof s?.bits_per_second !== 'number') {
    throw new ParseError('iperf3', 'no end.sum_received.bits_per_second', JSON.stringify(json ?? null));
  }
  return { receivedBps: r.bits_per_second, sentBps: s.bits_per_second, retransmits: s.retransmits, seconds: r.seconds };
}

export interface FioJob {
  name: string;
  readIops: number;
  writeIops: number;
  /** bytes per second */
  readBw: number;
  writeBw: number;
  /** completion latency mean, ns */
  readClatMeanNs: number;
  writeClatMeanNs: number;
  error: number;
}

/** fio --output-format=json: one entry per job. */
export function parseFio(json: any): FioJob[] {
  if (!Array.isArray(json?.jobs)) throw new ParseError('fio', 'no jobs array', JSON.stringify(json ?? null));
  return json.jobs.map((j: any) => ({
    name: String(j.jobname),
    readIops: Number(j.read?.iops ?? 0),
    writeIops: Number(j.write?.iops ?? 0),
    readBw: Number(j.read?.bw_bytes ?? (j.read?.bw ?? 0) * 1024),
    writeBw: Number(j.write?.bw_bytes ?? (j.write?.bw ?? 0) * 1024),
    readClatMeanNs: Number(j.read?.clat_ns?.mean ?? 0),
    writeClatMeanNs: Number(j.write?.clat_ns?.mean ?? 0),
    error: Number(j.error ?? 0),
  }));
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** sockperf ping-pong --full-rtt: "Summary: Round trip is 39.659 usec" (µs). */
export function parseSockperf(text: string): { rttUs: number; observations?: number } {
  const t = text.replace(ANSI, '');
  const m = /Summary: Round trip is\s+([0-9.]+)\s+usec/.exec(t);
  if (!m) throw new ParseError('sockperf', 'no "Summary: Round trip is … usec" line', t);
  const o = /Total (\d+) observations/.exec(t);
  return { rttUs: parseFloat(m[1]), observations: o ? parseInt(o[1], 10) : undefined };
}

/** iputils ("rtt min/avg/max/mdev = a/b/c/d ms") or busybox ("round-trip min/avg/max = a/b/c ms") ping. */
export function parsePing(text: string): { avgUs: number; minUs: number; maxUs: number; received: number; transmitted: number } {
  const m = /(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = ([0-9.]+)\/([0-9.]+)\/([0-9.]+)(?:\/[0-9.]+)? ms/.exec(text);
  const c = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (!m || !c) throw new ParseError('ping', 'no round-trip summary', text);
  return { minUs: +m[1] * 1000, avgUs: +m[2] * 1000, maxUs: +m[3] * 1000, transmitted: +c[1], received: +c[2] };
}

/** sysbench cpu: "events per second:  3089.34". */
export function parseSysbenchCpu(text: string): { eventsPerSec: number } {
  const m = /events per second:\s+([0-9.]+)/.exec(text);
  if (!m) throw new ParseError('sysbench cpu', 'no "events per second" line', text);
  return { eventsPerSec: parseFloat(m[1]) };
}

/** sysbench memory: "3330.45 MiB transferred (3326.64 MiB/sec)". */
export function parseSysbenchMemory(text: string): { mibPerSec: number } {
  const m = /MiB transferred \(([0-9.]+) MiB\/sec\)/.exec(text);
  if (!m) throw new ParseError('sysbench memory', 'no "MiB transferred (… MiB/sec)" line', text);
  return { mibPerSec: parseFloat(m[1]) };
}

export type { Ipv4 } from '../host/net';
export { parseIpAddrJson } from '../host/net';
export { domainVirtType } from '../domainXml';

/** `ip -o -4 addr show` (iproute2 or busybox): "2: eth0    inet 10.77.0.20/24 brd …". Loopback excluded. */
export function parseIpAddrOneline(text: string): Ipv4[] {
  const out: Ipv4[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(line.trim());
    if (m && !m[2].startsWith('127.')) out.push({ ifname: m[1], address: m[2], prefix: +m[3] });
  }
  return out;
}

function ipNum(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + parseInt(o, 10), 0);
}

export function sameSubnet(a: Ipv4, b: string): boolean {
  const bits = a.prefix;
  if (bits <= 0) return true;
  const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  return (ipNum(a.address) & mask) >>> 0 === (ipNum(b) & mask) >>> 0;
}

/**
 * The host address a guest reaches directly: a host address in the same subnet as one of the guest's.
 * `shared`: the guest has the host's own address, so it shares the host's network stack (a container
 * without a network of its own, such as a libvirt-LXC domain without an interface); it reaches the host there.
 */
export function hostEndpointFor(guest: readonly Ipv4[], host: readonly Ipv4[]): { guest: Ipv4; host: Ipv4; shared?: true } | undefined {
  for (const g of guest) for (const h of host) if (sameSubnet(h, g.address) && h.address !== g.address) return { guest: g, host: h };
  for (const g of guest) for (const h of host) if (h.address === g.address) return { guest: g, host: h, shared: true };
  return undefined;
}
