// What the Guests tree shows, as plain data: the vscode tree provider only maps these specs to
// TreeItems, so the tree's structure, labels, icons and menus are testable in plain Node.
import type { ConnectionStatus } from './connection';
import { describeGuest, Guest, GuestKind, GuestState, KIND_LABEL, verbsFor } from './model';

export interface IconSpec {
  /** codicon id */
  readonly id: string;
  /** theme colour id */
  readonly color?: string;
}

export const KIND_ORDER: readonly GuestKind[] = ['qemu', 'libvirt-lxc', 'lxc', 'container'];
export const KIND_ICON: Record<GuestKind, string> = { qemu: 'vm', 'libvirt-lxc': 'symbol-namespace', lxc: 'package', container: 'layers' };

export function stateIconSpec(state: GuestState): IconSpec {
  switch (state) {
    case 'running':
      return { id: 'vm-running', color: 'charts.green' };
    case 'paused':
    case 'pmsuspended':
      return { id: 'debug-pause', color: 'charts.yellow' };
    case 'stopped':
      return { id: 'vm-outline', color: 'disabledForeground' };
    case 'starting':
    case 'stopping':
      return { id: 'loading~spin' };
    case 'crashed':
      return { id: 'error', color: 'charts.red' };
    default:
      return { id: 'question' };
  }
}

export type ConnectionChild =
  | { readonly type: 'group'; readonly kind: GuestKind; readonly label: string; readonly count: number }
  | { readonly type: 'message'; readonly id: string; readonly label: string; readonly icon: IconSpec; readonly tooltip?: string; readonly fix?: boolean };

/** Children of a connection node: kind groups in a fixed order, or what is wrong and how to fix it. */
export function connectionChildren(status: ConnectionStatus, guests: Iterable<Guest>): ConnectionChild[] {
  if (status.state === 'unreachable') {
    return [
      { type: 'message', id: 'error', label: status.message, icon: { id: 'error', color: 'errorForeground' }, tooltip: status.message },
      { type: 'message', id: 'fix', label: status.hint ? `How to fix: ${status.hint}` : 'Retry now', icon: { id: 'lightbulb' }, tooltip: status.hint, fix: true },
    ];
  }
  if (status.state !== 'connected') return [{ type: 'message', id: 'loading', label: 'Connecting…', icon: { id: 'loading~spin' } }];
  const counts = new Map<GuestKind, number>();
  for (const g of guests) counts.set(g.kind, (counts.get(g.kind) ?? 0) + 1);
  if (!counts.size) return [{ type: 'message', id: 'empty', label: 'No guests on this host', icon: { id: 'info' } }];
  return KIND_ORDER.filter((k) => counts.has(k)).map((k) => ({ type: 'group', kind: k, label: KIND_LABEL[k], count: counts.get(k)! }));
}

/** Guests of one kind, sorted by name. */
export function groupChildren(guests: Iterable<Guest>, kind: GuestKind): Guest[] {
  return [...guests].filter((g) => g.kind === kind).sort((a, b) => a.name.localeCompare(b.name));
}

export interface GuestItemSpec {
  readonly label: string;
  readonly description: string;
  readonly icon: IconSpec;
  /** Drives the menus: `guest kind-X state-Y can-start can-…` */
  readonly contextValue: string;
  readonly tooltip: string;
}

export function guestItemSpec(g: Guest, connectionLabel: string): GuestItemSpec {
  return {
    label: g.name,
    description: describeGuest(g),
    icon: stateIconSpec(g.state),
    contextValue: ['guest', `kind-${g.kind}`, `state-${g.state}`, ...verbsFor(g).map((v) => `can-${v}`)].join(' '),
    tooltip: [`**${g.name}** — ${KIND_LABEL[g.kind]}`, `State: ${g.rawState}`, g.image ? `Image: ${g.image}` : '', `Host: ${connectionLabel}`, `Id: \`${g.id}\``]
      .filter(Boolean)
      .join('\n\n'),
  };
}

export interface ConnectionItemSpec {
  readonly label: string;
  readonly description: string;
  readonly icon: IconSpec;
  readonly contextValue: string;
  readonly tooltip: string;
}

export function connectionItemSpec(label: string, where: string, status: ConnectionStatus, guestCount: number): ConnectionItemSpec {
  if (status.state === 'unreachable') {
    return {
      label,
      description: 'unreachable',
      icon: { id: 'debug-disconnect', color: 'errorForeground' },
      contextValue: 'connection unreachable',
      tooltip: `**${label}** is unreachable\n\n${status.message}${status.hint ? `\n\n${status.hint}` : ''}`,
    };
  }
  const connected = status.state === 'connected';
  return {
    label,
    description: connected ? `${guestCount} guest${guestCount === 1 ? '' : 's'}` : status.state,
    icon: { id: connected ? 'server' : 'loading~spin' },
    contextValue: `connection ${status.state}`,
    tooltip: `${label}${where ? `\n\n${where}` : ''}\n\n${status.state}`,
  };
}
