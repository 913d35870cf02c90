// Storage pools, volumes and virtual networks as virtscope shows them, read from libvirt's XML, and
// which guests use each volume (from the guests' own disk definitions).
import { child, children, parseXml, textOf } from '../xmlTree';

export interface PoolView {
  readonly name: string;
  readonly state: string;
  readonly active: boolean;
  readonly autostart: boolean;
  /** dir, logical, netfs… */
  readonly type: string;
  readonly path?: string;
  readonly capacity: number;
  readonly allocation: number;
  readonly available: number;
}

export interface VolumeView {
  readonly pool: string;
  readonly name: string;
  readonly key: string;
  readonly path: string;
  readonly format?: string;
  readonly capacity: number;
  readonly allocation: number;
  /** Names of the guests whose disks use this volume. */
  readonly usedBy: readonly string[];
}

export interface LeaseView {
  readonly ip: string;
  readonly prefix: number;
  readonly mac?: string;
  readonly hostname?: string;
  /** Seconds since the epoch; 0 = never expires. */
  readonly expiry: number;
  /** The guest with this MAC, when one has it. */
  readonly guest?: string;
}

export interface NetworkView {
  readonly name: string;
  readonly active: boolean;
  readonly autostart: boolean;
  readonly bridge?: string;
  /** nat, route, open, bridge… or 'isolated' when there is no <forward>. */
  readonly forward: string;
  /** "10.99.0.1/24" */
  readonly addresses: readonly string[];
  readonly dhcp: boolean;
  readonly leases: readonly LeaseView[];
}

export function poolFacts(xml: string): { type: string; path?: string } {
  const root = parseXml(xml);
  return { type: root.attrs.type ?? '?', path: textOf(root, 'target/path') };
}

export function volumeFacts(xml: string): { format?: string; path?: string } {
  const root = parseXml(xml);
  return { format: child(root, 'target/format')?.attrs.type, path: textOf(root, 'target/path') };
}

/** Netmask "255.255.255.0" → 24. */
function maskBits(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

export function networkFacts(xml: string): { bridge?: string; forward: string; addresses: string[]; dhcp: boolean } {
  const root = parseXml(xml);
  const fwd = child(root, 'forward');
  const ips = children(root, 'ip');
  return {
    bridge: child(root, 'bridge')?.attrs.name,
    forward: fwd ? (fwd.attrs.mode ?? 'nat') : 'isolated',
    addresses: ips.map((ip) => `${ip.attrs.address}/${ip.attrs.prefix ?? (ip.attrs.netmask ? maskBits(ip.attrs.netmask) : '?')}`),
    dhcp: ips.some((ip) => !!child(ip, 'dhcp')),
  };
}

export interface GuestDevices {
  readonly name: string;
  /** Disk sources: file paths, block devices, or "pool/volume". */
  readonly disks: readonly string[];
  /** Interface MAC addresses, lower case. */
  readonly macs: readonly string[];
}

export function guestDevices(name: string, domainXml: string): GuestDevices {
  const devices = child(parseXml(domainXml), 'devices');
  const disks = children(devices, 'disk')
    .map((d) => child(d, 'source'))
    .map((s) => s?.attrs.file ?? s?.attrs.dev ?? (s?.attrs.pool && s.attrs.volume ? `${s.attrs.pool}/${s.attrs.volume}` : undefined))
    .filter((s): s is string => !!s);
  const macs = children(devices, 'interface')
    .map((i) => child(i, 'mac')?.attrs.address?.toLowerCase())
    .filter((m): m is string => !!m);
  return { name, disks, macs };
}

/** The guests whose disks point at the volume (by path or by pool/name). */
export function usersOf(vol: { pool: string; name: string; path: string; key: string }, guests: readonly GuestDevices[]): string[] {
  const ids = new Set([vol.path, vol.key, `${vol.pool}/${vol.name}`]);
  return guests.filter((g) => g.disks.some((d) => ids.has(d))).map((g) => g.name);
}

/** Why a volume or network name is unusable, or undefined. */
export function objectNameProblem(name: string, what: string): string | undefined {
  if (!name.trim()) return `a ${what} needs a name`;
  if (name.includes('/')) return `a ${what} name cannot contain "/"`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return `a ${what} name cannot contain control characters`;
  return undefined;
}

/** "1.5 GiB" */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n >= 10 ? 0 : 1)} ${units[i]}`;
}

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i;

/** "10G", "512 MiB", "1.5T" → bytes; undefined when not a size. */
export function parseSize(s: string): number | undefined {
  const m = SIZE_RE.exec(s);
  if (!m) return undefined;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const n = Math.round(Number(m[1]) * mult);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
