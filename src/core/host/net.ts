// Host networking helpers: running a program inside a named network namespace, and the host's
// IPv4 addresses as `ip -j addr` reports them. Programs run on a Host.
import { runOn } from '../exec';
import type { Host } from './host';

export interface Ipv4 {
  address: string;
  prefix: number;
  ifname?: string;
}

const NETNS_RE = /^[\w.-]+$/;

/** argv run inside network namespace `netns` (nsenter --net=/run/netns/NAME --), or argv itself without one. */
export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  if (!netns) return [...argv];
  if (!NETNS_RE.test(netns)) throw new Error(`not a network namespace name: ${JSON.stringify(netns)}`);
  return ['nsenter', `--net=/run/netns/${netns}`, '--', ...argv];
}

/** `ip -j addr show` (iproute2 JSON) → IPv4 addresses; loopback excluded unless asked for. */
export function parseIpAddrJson(json: unknown, opts: { loopback?: boolean } = {}): Ipv4[] {
  const out: Ipv4[] = [];
  for (const l of Array.isArray(json) ? json : []) {
    for (const a of l?.addr_info ?? []) {
      if (a.family === 'inet' && typeof a.local === 'string' && (opts.loopback || !a.local.startsWith('127.'))) {
        out.push({ ifname: l.ifname, address: a.local, prefix: Number(a.prefixlen) });
      }
    }
  }
  return out;
}

/** The host's IPv4 addresses (of `dev` only when given), read inside `netns`. Rejects when ip fails. */
export async function hostIPv4s(host: Host, opts: { netns?: string; dev?: string; timeoutMs?: number } = {}): Promise<Ipv4[]> {
  const argv = ['ip', '-j', '-4', 'addr', 'show', ...(opts.dev ? ['dev', opts.dev] : [])];
  const { stdout } = await runOn(host, inNetns(opts.netns, argv), { timeoutMs: opts.timeoutMs ?? 10_000 });
  try {
    return parseIpAddrJson(JSON.parse(stdout), { loopback: !!opts.dev });
  } catch {
    throw new Error(`ip -j printed no JSON on ${host.label}: ${stdout.trim().slice(0, 200)}`);
  }
}
