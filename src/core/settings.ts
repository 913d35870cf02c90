// Every `virtscope.*` setting virtscope reads, with its default and clamp: the one place that knows
// them. Pure functions over a getter, so they are tested without VS Code (src/extension/config.ts
// binds them to the workspace configuration).
import { ConnectionConfig } from './model';
import { DEFAULT_CONNECTIONS, parseConnections, parseHosts, parseLxd } from './config';
import type { HostEntry } from './hosts';

/** Reads one key under `virtscope.` (e.g. 'benchmark.seconds'). */
export type SettingGetter = (key: string) => unknown;

/** The settings a change event can name (affectsConfiguration(`virtscope.${section}`)). */
export const SETTING_SECTIONS = [
  'connections',
  'hosts',
  'lxd',
  'ssh.configFile',
  'hostNetworkNamespace',
  'benchmark',
  'trace.detail',
  'metrics.intervalSeconds',
  'lxc.pollIntervalSeconds',
  'shell',
] as const;
export type SettingSection = (typeof SETTING_SECTIONS)[number];

export type TraceDetail = 'kick-path' | 'full';

export interface BenchmarkSettings {
  seconds: number;
  diskSizeMiB: number;
  diskPaths: Record<string, string>;
  allowRawDeviceWrites: boolean;
}

/** A finite number at least `min`, else the default. */
function atLeast(v: unknown, min: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.max(min, v) : fallback;
}

export function connectionsSetting(get: SettingGetter): { connections: ConnectionConfig[]; problems: string[] } {
  return parseConnections(get('connections') ?? DEFAULT_CONNECTIONS);
}

/** The remote hosts (`virtscope.hosts`), reached over SSH. */
export function hostsSetting(get: SettingGetter): { hosts: HostEntry[]; problems: string[] } {
  return parseHosts(get('hosts'));
}

/** The LXD/Incus servers and clusters (`virtscope.lxd`): each one root of the tree. */
export function lxdSetting(get: SettingGetter): { clusters: ConnectionConfig[]; problems: string[] } {
  return parseLxd(get('lxd'));
}

/**
 * The ssh config file remote hosts are reached with (`ssh -F`, as Remote-SSH's remote.SSH.configFile);
 * undefined: ssh's own (~/.ssh/config). A leading ~/ is the user's home.
 */
export function sshConfigFile(get: SettingGetter, home: string): string | undefined {
  const v = get('ssh.configFile');
  if (typeof v !== 'string' || !v.trim()) return undefined;
  const t = v.trim();
  return t === '~' || t.startsWith('~/') ? home + t.slice(1) : t;
}

/** The network namespace for host-side endpoints of guests (trace and benchmark iperf3 servers). */
export function hostNetworkNamespace(get: SettingGetter): string | undefined {
  const v = get('hostNetworkNamespace');
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export function benchmarkSettings(get: SettingGetter): BenchmarkSettings {
  const paths = get('benchmark.diskPaths');
  const diskPaths: Record<string, string> = {};
  if (paths && typeof paths === 'object') for (const [k, v] of Object.entries(paths)) if (typeof v === 'string' && v.trim()) diskPaths[k] = v.trim();
  return {
    seconds: atLeast(get('benchmark.seconds'), 1, 5),
    diskSizeMiB: atLeast(get('benchmark.diskSizeMiB'), 4, 64),
    diskPaths,
    allowRawDeviceWrites: get('benchmark.allowRawDeviceWrites') === true,
  };
}

export function traceDetail(get: SettingGetter): TraceDetail {
  return get('trace.detail') === 'full' ? 'full' : 'kick-path';
}

export function metricsIntervalMs(get: SettingGetter): number {
  return atLeast(get('metrics.intervalSeconds'), 0.25, 1) * 1000;
}

export function lxcPollMs(get: SettingGetter): number {
  return atLeast(get('lxc.pollIntervalSeconds'), 0.25, 1) * 1000;
}

/** Shells Open Shell tries, in order: `virtscope.shell` first when set (`chosen`), then bash, then sh. */
export function shellCandidates(get: SettingGetter): { shells: string[]; chosen: boolean } {
  const v = get('shell');
  const mine = typeof v === 'string' && v.trim() ? [v.trim()] : [];
  return { shells: [...new Set([...mine, 'bash', 'sh'])], chosen: mine.length > 0 };
}
