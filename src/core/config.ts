// The connections virtscope opens by default, and validation of the user's `virtscope.connections`.
import { BackendType, ConnectionConfig } from './model';

export const DEFAULT_CONNECTIONS: readonly ConnectionConfig[] = [
  { id: 'qemu-system', label: 'QEMU/KVM (qemu:///system)', type: 'libvirt', uri: 'qemu:///system' },
  { id: 'lxc-system', label: 'libvirt-LXC (lxc:///system)', type: 'libvirt', uri: 'lxc:///system' },
  { id: 'lxc-tools', label: 'LXC (lxc-tools)', type: 'lxc' },
  { id: 'containers', label: 'Docker/Podman', type: 'docker' },
  { id: 'test', label: 'libvirt test driver (test+unix:///default)', type: 'libvirt', uri: 'test+unix:///default' },
];

const TYPES: readonly BackendType[] = ['libvirt', 'lxc', 'docker'];

/**
 * Turns the raw setting value into connection configs. Bad entries are reported, not fatal:
 * the rest still load.
 */
export function parseConnections(raw: unknown): { connections: ConnectionConfig[]; problems: string[] } {
  const problems: string[] = [];
  if (!Array.isArray(raw)) return { connections: [...DEFAULT_CONNECTIONS], problems: raw === undefined ? [] : ['virtscope.connections must be an array'] };
  const seen = new Set<string>();
  const connections: ConnectionConfig[] = [];
  raw.forEach((e: unknown, i) => {
    if (!e || typeof e !== 'object') return problems.push(`entry ${i + 1} is not an object`);
    const o = e as Record<string, unknown>;
    const type = o.type as BackendType;
    if (!TYPES.includes(type)) return problems.push(`entry ${i + 1}: type must be one of ${TYPES.join(', ')}`);
    const str = (k: string) => (typeof o[k] === 'string' && (o[k] as string).trim() ? (o[k] as string).trim() : undefined);
    const uri = str('uri');
    if (type === 'libvirt' && !uri) return problems.push(`entry ${i + 1}: a libvirt connection needs a uri (e.g. qemu:///system)`);
    const id = str('id') ?? (uri ? uri : `${type}-${i + 1}`);
    if (seen.has(id)) return problems.push(`entry ${i + 1}: duplicate id "${id}"`);
    seen.add(id);
    connections.push({ id, type, uri, label: str('label'), socketPath: str('socketPath'), lxcPath: str('lxcPath') });
  });
  return { connections, problems };
}
