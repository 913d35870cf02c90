// What a cluster root of the Guests tree shows (LXD/Incus), as plain data: projects as a level only
// when there are several, then the members with their instances ("by member") or the instances
// directly ("flat"). A standalone server has no members: its instances are listed directly.
import type { ConnectionStatus } from './connection';
import { ClusterMember, Guest } from './model';
import { connectionChildren, IconSpec } from './treeModel';

export type ClusterGrouping = 'member' | 'flat';

export type ClusterChild =
  | { readonly type: 'project'; readonly project: string; readonly count: number }
  | { readonly type: 'member'; readonly member: ClusterMember; readonly count: number }
  | { readonly type: 'guest'; readonly guest: Guest }
  | { readonly type: 'message'; readonly id: string; readonly label: string; readonly icon: IconSpec; readonly tooltip?: string; readonly fix?: boolean };

const byName = (a: Guest, b: Guest) => a.name.localeCompare(b.name);
const DEFAULT_PROJECT = 'default';

/** The projects the guests are in, sorted, "default" first. */
export function projectsOf(guests: Iterable<Guest>): string[] {
  const set = new Set<string>();
  for (const g of guests) set.add(g.project ?? DEFAULT_PROJECT);
  return [...set].sort((a, b) => (a === DEFAULT_PROJECT ? -1 : b === DEFAULT_PROJECT ? 1 : a.localeCompare(b)));
}

/** Under the cluster root: why nothing is shown, or projects (when several), or what `levelChildren` gives. */
export function clusterChildren(
  status: ConnectionStatus,
  members: readonly ClusterMember[],
  guests: Iterable<Guest>,
  grouping: ClusterGrouping,
): ClusterChild[] {
  if (status.state !== 'connected') return connectionChildren(status, []) as ClusterChild[];
  const all = [...guests];
  const projects = projectsOf(all);
  if (projects.length > 1) return projects.map((p) => ({ type: 'project', project: p, count: all.filter((g) => (g.project ?? DEFAULT_PROJECT) === p).length }));
  if (!all.length && !members.length) return [{ type: 'message', id: 'empty', label: 'No instances', icon: { id: 'info' } }];
  return levelChildren(members, all, grouping);
}

/** Under a project (or the root when there is one project): members with their counts, or the guests. */
export function levelChildren(members: readonly ClusterMember[], guests: Iterable<Guest>, grouping: ClusterGrouping, project?: string): ClusterChild[] {
  const gs = [...guests].filter((g) => project === undefined || (g.project ?? DEFAULT_PROJECT) === project).sort(byName);
  if (grouping === 'flat' || !members.length) return gs.map((guest) => ({ type: 'guest', guest }));
  const names = new Set(members.map((m) => m.name));
  const out: ClusterChild[] = [...members]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((member) => ({ type: 'member', member, count: gs.filter((g) => g.location === member.name).length }));
  // placed nowhere the cluster lists (LXD's "none" for a pending instance): shown, not lost
  for (const guest of gs) if (!guest.location || !names.has(guest.location)) out.push({ type: 'guest', guest });
  return out;
}

/** The instances placed on one member (of one project, when given). */
export function memberGuests(guests: Iterable<Guest>, member: string, project?: string): Guest[] {
  return [...guests].filter((g) => g.location === member && (project === undefined || (g.project ?? DEFAULT_PROJECT) === project)).sort(byName);
}

/** Where a guest belongs under the root: its project level (when several) and its member (by member). */
export function clusterPath(
  members: readonly ClusterMember[],
  guests: Iterable<Guest>,
  g: Guest,
  grouping: ClusterGrouping,
): { project?: string; member?: string } {
  const project = projectsOf(guests).length > 1 ? (g.project ?? DEFAULT_PROJECT) : undefined;
  const member = grouping === 'member' && g.location && members.some((m) => m.name === g.location) ? g.location : undefined;
  return { project, member };
}

export interface ClusterItemSpec {
  readonly label: string;
  readonly description: string;
  readonly icon: IconSpec;
  readonly contextValue: string;
  readonly tooltip: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The cluster root: "lab — 3 members · 5 instances", or how it stands. */
export function clusterItemSpec(
  label: string,
  where: string,
  status: ConnectionStatus,
  members: readonly ClusterMember[],
  guestCount: number,
  grouping: ClusterGrouping,
): ClusterItemSpec {
  const mark = ` grouping-${grouping}${members.length ? ' clustered' : ''}`;
  if (status.state === 'unreachable')
    return {
      label,
      description: 'unreachable',
      icon: { id: 'debug-disconnect', color: 'errorForeground' },
      contextValue: `cluster unreachable${mark}`,
      tooltip: `**${label}** is unreachable\n\n${status.message}${status.hint ? `\n\n${status.hint}` : ''}`,
    };
  if (status.state !== 'connected')
    return { label, description: status.state, icon: { id: 'loading~spin' }, contextValue: `cluster ${status.state}${mark}`, tooltip: `${label}\n\n${where}` };
  const offline = members.filter((m) => m.status === 'offline').length;
  const parts = [members.length ? plural(members.length, 'member') : 'standalone', plural(guestCount, 'instance')];
  if (offline) parts.push(`${offline} offline`);
  return {
    label,
    description: parts.join(' · '),
    icon: offline ? { id: 'server-environment', color: 'charts.yellow' } : { id: 'server-environment' },
    contextValue: `cluster connected${mark}`,
    tooltip: `**${label}** — LXD ${members.length ? 'cluster' : 'server'}\n\n${where}\n\n${parts.join(' · ')}`,
  };
}

/** A member: "lxd1 — online · database · 3 instances", or "Offline — <LXD's message>". */
export function memberItemSpec(m: ClusterMember, count: number): ClusterItemSpec {
  const roles = m.roles.length ? m.roles.join(', ') : 'no roles';
  const load = m.load ? ` · ${m.load}` : '';
  const domain = m.failureDomain && m.failureDomain !== 'default' ? ` · ${m.failureDomain}` : '';
  const icon: IconSpec =
    m.status === 'online'
      ? { id: 'server', color: 'charts.green' }
      : m.status === 'offline'
        ? { id: 'error', color: 'errorForeground' }
        : { id: 'server', color: 'charts.yellow' };
  const state = m.status === 'online' ? 'online' : `${m.rawStatus || m.status}${m.message ? ` — ${m.message}` : ''}`;
  return {
    label: m.name,
    description: `${state} · ${plural(count, 'instance')}${domain}${load}`,
    icon,
    contextValue: `member status-${m.status}${m.status === 'online' ? ' can-evacuate' : ''}${m.status === 'evacuated' ? ' can-restore' : ''}`,
    tooltip: [
      `**${m.name}** — ${m.rawStatus}`,
      m.message ? `LXD: ${m.message}` : '',
      `Roles: ${roles}`,
      m.failureDomain ? `Failure domain: ${m.failureDomain}` : '',
      m.architecture ? `Architecture: ${m.architecture}` : '',
      m.url ? `Address: ${m.url}` : '',
      m.load ? `Load: ${m.load}` : '',
      m.description ? `Description: ${m.description}` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
  };
}
