// How pools, volumes, networks and DHCP leases look in the tree, without vscode (unit-tested).
import { bytes, LeaseView, NetworkView, PoolView, VolumeView } from './model';

export interface ObjectItemSpec {
  readonly id?: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** package.json menus match its words. */
  readonly contextValue: string;
  readonly icon: string;
  readonly expands: boolean;
}

/** Markdown-safe text (names may hold *, _, [, <, `). */
function md(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, (c) => `\\${c}`);
}

const autostartWord = (on: boolean) => (on ? 'autostart' : '');

export function poolItemSpec(p: PoolView): ObjectItemSpec {
  const used = p.capacity ? `${bytes(p.allocation)} of ${bytes(p.capacity)} used` : '';
  return {
    label: p.name,
    description: [p.state, used, autostartWord(p.autostart)].filter(Boolean).join(' · '),
    tooltip: [
      `**${md(p.name)}** — ${p.type} pool, ${p.state}`,
      p.path ? `Path: ${md(p.path)}` : '',
      used ? `${used}, ${bytes(p.available)} free` : '',
      p.autostart ? 'Starts with the host' : 'Does not start with the host',
    ]
      .filter(Boolean)
      .join('\n\n'),
    contextValue: ['pool', p.active ? 'state-active' : 'state-inactive', p.autostart ? 'autostart-on' : 'autostart-off'].join(' '),
    icon: p.active ? 'database' : 'circle-slash',
    expands: p.active,
  };
}

export function volumeItemSpec(v: VolumeView): ObjectItemSpec {
  const users = v.usedBy.length ? `used by ${v.usedBy.join(', ')}` : 'unused';
  return {
    label: v.name,
    description: [v.format ?? '', `${bytes(v.capacity)} (${bytes(v.allocation)} on disk)`, users].filter(Boolean).join(' · '),
    tooltip: [
      `**${md(v.name)}**${v.format ? ` — ${v.format}` : ''}`,
      `Path: ${md(v.path)}`,
      `Size ${bytes(v.capacity)}, ${bytes(v.allocation)} allocated`,
      v.usedBy.length ? `Used by: ${v.usedBy.map(md).join(', ')}` : 'No guest uses it',
    ].join('\n\n'),
    contextValue: ['volume', v.usedBy.length ? 'used' : 'unused'].join(' '),
    icon: 'file',
    expands: false,
  };
}

export function networkItemSpec(n: NetworkView): ObjectItemSpec {
  const where = [n.forward, n.bridge ?? '', n.addresses.join(', ')].filter(Boolean).join(' · ');
  return {
    label: n.name,
    description: [n.active ? '' : 'inactive', where, autostartWord(n.autostart)].filter(Boolean).join(' · '),
    tooltip: [
      `**${md(n.name)}** — ${n.active ? 'active' : 'inactive'}`,
      `Forward: ${n.forward}${n.bridge ? `, bridge ${md(n.bridge)}` : ''}`,
      n.addresses.length ? `Addresses: ${n.addresses.join(', ')}${n.dhcp ? ' (DHCP)' : ''}` : 'No addresses',
      `${n.leases.length} DHCP lease${n.leases.length === 1 ? '' : 's'}`,
    ].join('\n\n'),
    contextValue: ['network', n.active ? 'state-active' : 'state-inactive', n.autostart ? 'autostart-on' : 'autostart-off'].join(' '),
    icon: n.active ? 'globe' : 'circle-slash',
    expands: n.leases.length > 0,
  };
}

export function leaseItemSpec(l: LeaseView): ObjectItemSpec {
  return {
    label: `${l.ip}/${l.prefix}`,
    description: [l.guest ?? l.hostname ?? '', l.mac ?? ''].filter(Boolean).join(' · '),
    tooltip: [
      `**${l.ip}**`,
      l.guest ? `Guest: ${md(l.guest)}` : '',
      l.hostname ? `Host name: ${md(l.hostname)}` : '',
      l.mac ? `MAC: ${l.mac}` : '',
      l.expiry ? `Expires ${new Date(l.expiry * 1000).toISOString()}` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
    contextValue: 'lease',
    icon: 'plug',
    expands: false,
  };
}
