// What the Guests tree shows, as plain data: the vscode tree provider only maps these specs to
// TreeItems, so the tree's structure, labels, icons and menus are testable in plain Node.
import type { ConnectionStatus } from './connection';
import type { HostStatus } from './inventory';
import { describeGuest, Guest, GuestKind, GuestState, KIND_LABEL, verbsFor } from './model';

export interface IconSpec {
  /** codicon id */
  readonly id: string;
  /** theme colour id */
  readonly color?: string;
}

export const KIND_ORDER: readonly GuestKind[] = ['qemu', 'libvirt-lxc', 'lxc', 'container', 'lxd-vm', 'lxd-container'];
export const KIND_ICON: Record<GuestKind, string> = {
  qemu: 'vm',
  'libvirt-lxc': 'symbol-namespace',
  lxc: 'package',
  container: 'layers',
  'lxd-container': 'package',
  'lxd-vm': 'vm',
};

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
      {
        type: 'message',
        id: 'fix',
        label: status.hint ? `How to fix: ${status.hint}` : 'Retry now',
        icon: { id: 'lightbulb' },
        tooltip: status.hint,
        fix: true,
      },
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
    tooltip: [
      `**${g.name}** — ${KIND_LABEL[g.kind]}`,
      `State: ${g.rawState}`,
      g.image ? `Image: ${g.image}` : '',
      `Host: ${connectionLabel}`,
      `Id: \`${g.id}\``,
      ...(g.absentVerbs ?? []),
    ]
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

/** `configured`: an entry of `virtscope.connections` (Remove Connection applies), not one discovered on a remote host. */
export function connectionItemSpec(label: string, where: string, status: ConnectionStatus, guestCount: number, configured = true): ConnectionItemSpec {
  const mark = configured ? ' configured' : ' discovered';
  if (status.state === 'unreachable') {
    return {
      label,
      description: 'unreachable',
      icon: { id: 'debug-disconnect', color: 'errorForeground' },
      contextValue: `connection unreachable${mark}`,
      tooltip: `**${label}** is unreachable\n\n${status.message}${status.hint ? `\n\n${status.hint}` : ''}`,
    };
  }
  const connected = status.state === 'connected';
  return {
    label,
    description: connected ? `${guestCount} guest${guestCount === 1 ? '' : 's'}` : status.state,
    icon: { id: connected ? 'server' : 'loading~spin' },
    contextValue: `connection ${status.state}${mark}`,
    tooltip: `${label}${where ? `\n\n${where}` : ''}\n\n${status.state}`,
  };
}

// ---- hosts: the tree's top level ------------------------------------------------------------

/** What a host row needs of the model (ModelHost satisfies it). */
export interface HostView {
  readonly id: string;
  readonly label: string;
  readonly remote: boolean;
  readonly entry?: { readonly destination: string; readonly port?: number };
  readonly status: HostStatus;
  readonly connections: readonly unknown[];
}

export type HostChild =
  | { readonly type: 'connections' }
  | {
      readonly type: 'message';
      readonly id: string;
      readonly label: string;
      readonly icon: IconSpec;
      readonly tooltip?: string;
      readonly action?: 'reconnect' | 'addConnection';
    };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Under a host: its connections, or why there are none (unreachable with SSH's reason, still connecting, none configured). */
export function hostChildren(h: HostView): HostChild[] {
  const s = h.status;
  if (s.state === 'unreachable') {
    return [
      { type: 'message', id: 'error', label: s.reason, icon: { id: 'error', color: 'errorForeground' }, tooltip: `SSH: ${s.reason}` },
      {
        type: 'message',
        id: 'retry',
        label: s.retryInMs > 0 ? 'Retrying by itself — Reconnect now' : 'Not retried (a question was cancelled) — Reconnect',
        icon: { id: 'debug-restart' },
        action: 'reconnect',
      },
    ];
  }
  if (h.connections.length) return [{ type: 'connections' }];
  if (s.state === 'connecting' || s.state === 'idle') return [{ type: 'message', id: 'loading', label: 'Connecting…', icon: { id: 'loading~spin' } }];
  if (h.remote)
    return [{ type: 'message', id: 'none', label: 'No libvirt, lxc-tools or Docker/Podman found on this host', icon: { id: 'info' }, action: 'reconnect' }];
  return [{ type: 'message', id: 'none', label: 'No connections are configured — Add Connection…', icon: { id: 'info' }, action: 'addConnection' }];
}

export interface HostItemSpec {
  readonly label: string;
  readonly description: string;
  readonly icon: IconSpec;
  /** `host local` or `host remote <state>` (menus: Reconnect/Remove only on remote hosts). */
  readonly contextValue: string;
  readonly tooltip: string;
}

export function hostItemSpec(h: HostView): HostItemSpec {
  const where = h.entry ? `${h.entry.destination}${h.entry.port ? ` port ${h.entry.port}` : ''}` : '';
  const conns = plural(h.connections.length, 'connection');
  if (!h.remote)
    return { label: h.label, description: conns, icon: { id: 'device-desktop' }, contextValue: 'host local', tooltip: `**${h.label}**\n\n${conns}` };
  const s = h.status;
  const head = `**${h.label}** — over SSH (${where})`;
  switch (s.state) {
    case 'unreachable':
      return {
        label: h.label,
        description: 'unreachable',
        icon: { id: 'debug-disconnect', color: 'errorForeground' },
        contextValue: 'host remote unreachable',
        tooltip: `${head}\n\nUnreachable: ${s.reason}\n\nRetried by itself.`,
      };
    case 'ready':
      return { label: h.label, description: conns, icon: { id: 'remote' }, contextValue: 'host remote ready', tooltip: `${head}\n\n${conns}` };
    default:
      return {
        label: h.label,
        description: 'connecting',
        icon: { id: 'loading~spin' },
        contextValue: `host remote ${s.state}`,
        tooltip: `${head}\n\nconnecting`,
      };
  }
}
