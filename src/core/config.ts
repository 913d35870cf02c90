// The connections virtscope opens by default, and validation of the user's `virtscope.connections` and
// `virtscope.hosts`.
import { BackendType, ConnectionConfig } from './model';
import { HostEntry, LOCAL_HOST_ID } from './hosts';

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

/** Host ids prefix their connections' ids: letters, digits and `._@-` only, so they read well in ids and URIs. */
const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

/**
 * Turns the raw `virtscope.hosts` value into host entries. Bad entries are reported, not fatal: the
 * rest still load. Nothing secret belongs here: keys and passwords stay with ssh.
 */
export function parseHosts(raw: unknown): { hosts: HostEntry[]; problems: string[] } {
  if (raw === undefined || raw === null) return { hosts: [], problems: [] };
  if (!Array.isArray(raw)) return { hosts: [], problems: ['virtscope.hosts must be an array'] };
  const problems: string[] = [];
  const seen = new Set<string>([LOCAL_HOST_ID]);
  const hosts: HostEntry[] = [];
  raw.forEach((e: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (!e || typeof e !== 'object') return problems.push(`${where} is not an object`);
    const o = e as Record<string, unknown>;
    const str = (k: string) => (typeof o[k] === 'string' && (o[k] as string).trim() ? (o[k] as string).trim() : undefined);
    const destination = str('destination');
    if (!destination) return problems.push(`${where}: a host needs a destination (an ~/.ssh/config alias or user@host)`);
    if (destination.startsWith('-') || /\s/.test(destination)) return problems.push(`${where}: "${destination}" is not a host (no leading "-", no spaces)`);
    let port: number | undefined;
    if (o.port !== undefined) {
      if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) return problems.push(`${where}: the port must be 1-65535`);
      port = o.port;
    }
    const id = str('id') ?? hostIdFor(destination, port);
    if (!HOST_ID.test(id)) return problems.push(`${where}: id "${id}" may hold only letters, digits and . _ @ -`);
    if (seen.has(id)) return problems.push(`${where}: ${id === LOCAL_HOST_ID ? `"${LOCAL_HOST_ID}" is this machine's id` : `duplicate id "${id}"`}`);
    seen.add(id);
    hosts.push({ id, destination, ...(port !== undefined ? { port } : {}), ...(str('label') ? { label: str('label') } : {}) });
  });
  return { hosts, problems };
}

/** A readable id for a destination: `root@kvm1:2222` → `root@kvm1-2222`. */
export function hostIdFor(destination: string, port?: number): string {
  const base = `${destination}${port ? `-${port}` : ''}`.replace(/[^A-Za-z0-9._@-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return base || 'host';
}

/** One entry of `virtscope.lxd`, as the user wrote it (Add LXD / Incus… writes it). */
export interface LxdEntry {
  readonly name: string;
  /** A unix socket: on this machine, or on `host` (an id of `virtscope.hosts`). */
  readonly socket?: string;
  readonly host?: string;
  /** HTTPS: https://host:8443, with the server certificate's SHA-256 `fingerprint` pinned. */
  readonly url?: string;
  readonly fingerprint?: string;
}

/** The connection id of an LXD entry (also the key of its client certificate in SecretStorage). */
export const lxdConnectionId = (name: string): string => `lxd/${name}`;

/**
 * Turns the raw `virtscope.lxd` value into cluster connections. Bad entries are reported, not fatal.
 * Nothing secret belongs here: the client key is kept by VS Code's SecretStorage.
 */
export function parseLxd(raw: unknown): { clusters: ConnectionConfig[]; problems: string[] } {
  if (raw === undefined || raw === null) return { clusters: [], problems: [] };
  if (!Array.isArray(raw)) return { clusters: [], problems: ['virtscope.lxd must be an array'] };
  const problems: string[] = [];
  const seen = new Set<string>();
  const clusters: ConnectionConfig[] = [];
  raw.forEach((e: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (!e || typeof e !== 'object') return problems.push(`${where} is not an object`);
    const o = e as Record<string, unknown>;
    const str = (k: string) => (typeof o[k] === 'string' && (o[k] as string).trim() ? (o[k] as string).trim() : undefined);
    const name = str('name');
    if (!name || !HOST_ID.test(name)) return problems.push(`${where}: a name of letters, digits and . _ @ - is needed`);
    if (seen.has(name)) return problems.push(`${where}: duplicate name "${name}"`);
    const socket = str('socket');
    const url = str('url');
    if (!socket === !url) return problems.push(`${where} ("${name}"): give either a socket path or an https:// url`);
    if (socket && !socket.startsWith('/')) return problems.push(`${where} ("${name}"): the socket must be an absolute path`);
    if (url && !/^https:\/\/[^\s/]+\/?$/.test(url)) return problems.push(`${where} ("${name}"): the url must be https://host[:port]`);
    const fingerprint = str('fingerprint')?.toLowerCase().replace(/:/g, '');
    if (url && !/^[0-9a-f]{64}$/.test(fingerprint ?? ''))
      return problems.push(`${where} ("${name}"): an https url needs the server certificate's SHA-256 fingerprint (64 hex digits)`);
    seen.add(name);
    clusters.push({
      id: lxdConnectionId(name),
      type: 'lxd',
      label: name,
      ...(socket ? { socketPath: socket } : {}),
      ...(url ? { url: url.replace(/\/$/, ''), fingerprint } : {}),
      ...(str('host') ? { hostId: str('host') } : {}),
    });
  });
  return { clusters, problems };
}
