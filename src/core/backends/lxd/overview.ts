// A member's overview (Host Overview for an LXD cluster member, or a standalone server): its load
// line and, for each instance placed on it, CPU over a short interval, memory, processes, network
// and disk bytes. Read from the member's /1.0/metrics (one request per reading, every instance at
// once) where the server has the `metrics` extension, else from each running instance's /state.
import type { ClusterMember } from '../../model';
import { formatBytes } from '../../model';
import type { LxdApi } from './api';
import { memberLoadLine } from './memberLoad';
import { instanceCounters, type InstanceCounters } from './metricsText';
import type { LxdInstance } from './types';

export interface OverviewRow extends InstanceCounters {
  readonly name: string;
  readonly project: string;
  readonly type: string;
  /** LXD's own word: Running, Stopped, Frozen… */
  readonly status: string;
  /** Of one CPU, over the overview's interval (running instances only). */
  cpuPercent?: number;
}

export interface MemberOverview {
  /** Undefined for a standalone server. */
  readonly member?: ClusterMember;
  readonly load?: string;
  readonly at: Date;
  readonly intervalMs: number;
  readonly source: 'metrics' | 'state';
  readonly rows: readonly OverviewRow[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('cancelled'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason ?? new Error('cancelled'))), { once: true });
  });

/** Counters by "project/name" from the member's /1.0/metrics. */
async function readMetrics(api: LxdApi, member?: string): Promise<Map<string, InstanceCounters>> {
  return instanceCounters((await api.serverMetrics({ target: member })) ?? '');
}

/** Counters by "project/name" from each running instance's /state (servers without `metrics`). */
async function readStates(api: LxdApi, running: readonly LxdInstance[]): Promise<Map<string, InstanceCounters>> {
  const out = new Map<string, InstanceCounters>();
  const states = await Promise.all(running.map((i) => api.instanceState(i.name, { project: i.project }).catch(() => undefined)));
  running.forEach((i, k) => {
    const s = states[k];
    if (!s) return;
    const nets = Object.entries(s.network ?? {}).filter(([dev, n]) => dev !== 'lo' && n.type !== 'loopback');
    out.set(`${i.project ?? 'default'}/${i.name}`, {
      cpuSeconds: s.cpu.usage / 1e9,
      memoryBytes: s.memory.usage,
      ...(s.processes >= 0 ? { processes: s.processes } : {}),
      rxBytes: nets.reduce((a, [, n]) => a + n.counters.bytes_received, 0),
      txBytes: nets.reduce((a, [, n]) => a + n.counters.bytes_sent, 0),
    });
  });
  return out;
}

/** Reads the overview: two readings `intervalMs` apart, so CPU is a rate and not a total. */
export async function readOverview(
  api: LxdApi,
  member: ClusterMember | undefined,
  opts: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<MemberOverview> {
  const intervalMs = opts.intervalMs ?? 1000;
  const all = await api.instances({ allProjects: true, recursion: 1 });
  const placed = member ? all.filter((i) => i.location === member.name) : all;
  const running = placed.filter((i) => i.status === 'Running');
  const useMetrics = await api.has('metrics');
  const read = () => (useMetrics ? readMetrics(api, member?.name) : readStates(api, running));
  const [load, first] = await Promise.all([member ? api.memberLoad(member.name).then(memberLoadLine, () => undefined) : undefined, read()]);
  const t0 = Date.now();
  await sleep(intervalMs, opts.signal);
  const second = await read();
  const dt = (Date.now() - t0) / 1000;
  const rows = placed
    .map((i): OverviewRow => {
      const key = `${i.project ?? 'default'}/${i.name}`;
      const b = second.get(key);
      const a = first.get(key);
      const row: OverviewRow = { name: i.name, project: i.project ?? 'default', type: i.type, status: i.status, ...(b ?? {}) };
      if (a?.cpuSeconds !== undefined && b?.cpuSeconds !== undefined && dt > 0) row.cpuPercent = Math.max(0, ((b.cpuSeconds - a.cpuSeconds) / dt) * 100);
      return row;
    })
    .sort((x, y) => (y.cpuPercent ?? -1) - (x.cpuPercent ?? -1) || x.name.localeCompare(y.name));
  return { member, load, at: new Date(), intervalMs, source: useMetrics ? 'metrics' : 'state', rows };
}

const bytes = (n: number | undefined) => (n === undefined ? '' : n < 1024 ** 2 ? `${(n / 1024).toFixed(0)} KiB` : formatBytes(n));
const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The overview as Markdown: a header with the member's state and load, then one row per instance. */
export function overviewMarkdown(o: MemberOverview, where: string): string {
  const m = o.member;
  const title = m ? `${m.name} — member of ${where}` : where;
  const state = m ? [m.rawStatus + (m.message ? ` (${m.message})` : ''), m.roles.length ? `roles: ${m.roles.join(', ')}` : 'no roles'] : ['standalone server'];
  const running = o.rows.filter((r) => r.status === 'Running').length;
  const lines = [
    `# ${cell(title)}`,
    '',
    [...state, o.load ?? 'load not reported'].map(cell).join(' · '),
    '',
    `${o.rows.length} instance${o.rows.length === 1 ? '' : 's'}, ${running} running · CPU over ${(o.intervalMs / 1000).toFixed(1)} s, counters since start · ` +
      `read ${o.at.toISOString().replace('T', ' ').slice(0, 19)} UTC from ${o.source === 'metrics' ? "the member's /1.0/metrics" : "each instance's /state"}`,
    '',
  ];
  if (!o.rows.length) return [...lines, '_No instances are placed on it._', ''].join('\n');
  lines.push('| Instance | Type | State | CPU | Memory | Processes | Net rx / tx | Disk read / written |', '|---|---|---|---:|---:|---:|---:|---:|');
  for (const r of o.rows) {
    const name = r.project === 'default' ? r.name : `${r.project}/${r.name}`;
    const pair = (a?: number, b?: number) => (a === undefined && b === undefined ? '' : `${bytes(a) || '–'} / ${bytes(b) || '–'}`);
    lines.push(
      `| ${cell(name)} | ${r.type === 'virtual-machine' ? 'VM' : 'container'} | ${cell(r.status)} | ${r.cpuPercent === undefined ? '' : `${r.cpuPercent.toFixed(1)} %`} | ${bytes(r.memoryBytes)} | ${r.processes ?? ''} | ${pair(r.rxBytes, r.txBytes)} | ${pair(r.readBytes, r.writtenBytes)} |`,
    );
  }
  return [...lines, ''].join('\n');
}
