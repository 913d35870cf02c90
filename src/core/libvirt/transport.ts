// Where to reach libvirt for a connection URI, and the unix-socket transport.
// Mirrors libvirt's remote driver (remote_driver.c / remote_sockets.c): the URI scheme is
// driver[+transport]; the name sent in CONNECT_OPEN is the URI without the transport and
// without the parameters the client itself consumes (socket, mode, …).

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { hostUnreachable, isThisMachine } from '../backends/reach';
import type { Host } from '../host/host';
import { BackendError } from '../model';

export const LIBVIRT_RUN_DIR = '/var/run/libvirt';

/** URI query parameters the client consumes (never sent to the daemon). */
const CLIENT_PARAMS = new Set([
  'name',
  'command',
  'socket',
  'auth',
  'sshauth',
  'netcat',
  'keyfile',
  'pkipath',
  'known_hosts',
  'known_hosts_verify',
  'tls_priority',
  'mode',
  'proxy',
  'no_sanity',
  'no_verify',
  'no_tty',
  'authfile',
]);

export interface ParsedLibvirtUri {
  /** qemu, lxc, test, … */
  readonly driver: string;
  /** unix, ssh, tls, tcp, libssh, libssh2, ext */
  readonly transport: string;
  readonly user?: string;
  readonly server?: string;
  readonly port?: number;
  readonly path: string;
  /** Parameters in order, values decoded. */
  readonly params: readonly (readonly [string, string])[];
  readonly fragment?: string;
}

export interface LibvirtEndpoint {
  readonly uri: string;
  readonly driver: string;
  readonly transport: 'unix';
  /** The unix socket to connect to. */
  readonly socketPath: string;
  /** Every socket considered, in order of preference (for error messages). */
  readonly candidates: readonly string[];
  /** The name sent in CONNECT_OPEN, e.g. test+unix:///default → test:///default. */
  readonly name: string;
  /** Which daemon serves it: libvirtd (legacy) or virtqemud/virtlxcd (modular). */
  readonly daemon: string;
}

export interface ResolveOptions {
  /** Explicit socket (ConnectionConfig.socketPath); wins over everything but ?socket=. */
  socketPath?: string;
  readOnly?: boolean;
  /** For tests: file existence and effective uid. */
  exists?: (p: string) => boolean;
  euid?: number;
  env?: NodeJS.ProcessEnv;
  /** The home directory (a session's sockets without XDG_RUNTIME_DIR); default this process's. */
  homedir?: string;
}

const URI_RE = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export function parseLibvirtUri(uri: string): ParsedLibvirtUri {
  const m = URI_RE.exec(uri.trim());
  if (!m)
    throw new BackendError(
      `not a libvirt connection URI: ${JSON.stringify(uri)}`,
      'EINVAL',
      'Use a URI such as qemu:///system, lxc:///system or test+unix:///default.',
    );
  const [, scheme, authority, p, query, fragment] = m;
  const plus = scheme.indexOf('+');
  const driver = (plus < 0 ? scheme : scheme.slice(0, plus)).toLowerCase();
  let transport = plus < 0 ? '' : scheme.slice(plus + 1).toLowerCase();
  let user: string | undefined;
  let server: string | undefined;
  let port: number | undefined;
  if (authority) {
    const at = authority.lastIndexOf('@');
    if (at >= 0) user = decode(authority.slice(0, at));
    const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
    const pm = /^(.*?)(?::(\d+))?$/.exec(hostPort);
    server = pm?.[1] || undefined;
    port = pm?.[2] ? Number(pm[2]) : undefined;
  }
  if (!transport) transport = server ? 'tls' : 'unix';
  const params: [string, string][] = [];
  for (const part of (query ?? '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    params.push(eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
  }
  return { driver, transport, user, server, port, path: p, params, fragment };
}

/** The name libvirt's client sends in CONNECT_OPEN for this URI. */
export function connectOpenName(u: ParsedLibvirtUri): string {
  const explicit = u.params.find(([k]) => k.toLowerCase() === 'name');
  if (explicit) return explicit[1];
  if (u.driver === 'remote') return '';
  const rest = u.params
    .filter(([k]) => !CLIENT_PARAMS.has(k.toLowerCase()))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${u.driver}://${u.path}${rest ? `?${rest}` : ''}${u.fragment !== undefined ? `#${u.fragment}` : ''}`;
}

function param(u: ParsedLibvirtUri, name: string): string | undefined {
  return u.params.find(([k]) => k.toLowerCase() === name)?.[1];
}

/**
 * URI → socket path and CONNECT_OPEN name. Unix transport only (ssh comes later over the
 * same client). Socket choice: ?socket= or the configured socketPath; else the user session
 * socket for /session (and test+…) when not root; else the system libvirt-sock when it
 * exists, otherwise the modular daemon's socket (virtqemud-sock, virtlxcd-sock) when that
 * exists, otherwise libvirt-sock (so the error names the classic daemon).
 */
export function resolveLibvirtUri(uri: string, options: ResolveOptions = {}): LibvirtEndpoint {
  const u = parseLibvirtUri(uri);
  if (u.transport === 'ssh') {
    // +ssh is a stream over the host's SSH (sshTransport.ts); here only its socket on the host is resolved
    throw new BackendError(
      `${uri} is reached over SSH, not as a socket on this machine`,
      'EINVAL',
      'Open it with openSshLibvirtStream (libvirt/sshTransport.ts).',
    );
  }
  if (u.transport !== 'unix') {
    throw new BackendError(
      `libvirt transport "${u.transport}" (${uri}) is not supported yet; only local unix-socket and +ssh connections are`,
      'ENOTSUP',
      'Use a local URI such as qemu:///system, or qemu+ssh://user@host/system for another host.',
    );
  }
  if (u.server) {
    throw new BackendError(`using a unix socket with a remote server (${u.server}) is not supported: ${uri}`, 'EINVAL');
  }
  const name = connectOpenName(u);
  const exists = options.exists ?? ((p: string) => fs.existsSync(p));
  const euid = options.euid ?? (typeof process.geteuid === 'function' ? process.geteuid() : 0);
  const env = options.env ?? process.env;
  const suffix = options.readOnly ? 'sock-ro' : 'sock';
  const modular = `virt${u.driver}d`;

  const explicit = param(u, 'socket') ?? options.socketPath;
  if (explicit) {
    return { uri, driver: u.driver, transport: 'unix', socketPath: explicit, candidates: [explicit], name, daemon: 'libvirtd' };
  }

  if (isSessionUri(u, uri) && euid > 0) {
    const runtime = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'libvirt') : path.join(options.homedir ?? os.homedir(), '.cache', 'libvirt');
    const direct = path.join(runtime, `${modular}-sock`);
    const legacy = path.join(runtime, 'libvirt-sock');
    const socketPath = pickSocket(param(u, 'mode'), legacy, direct, exists);
    return { uri, driver: u.driver, transport: 'unix', socketPath, candidates: [legacy, direct], name, daemon: socketPath === direct ? modular : 'libvirtd' };
  }

  const legacy = path.join(LIBVIRT_RUN_DIR, `libvirt-${suffix}`);
  const direct = path.join(LIBVIRT_RUN_DIR, `${modular}-${suffix}`);
  const socketPath = pickSocket(param(u, 'mode'), legacy, direct, exists);
  return { uri, driver: u.driver, transport: 'unix', socketPath, candidates: [legacy, direct], name, daemon: socketPath === direct ? modular : 'libvirtd' };
}

function isSessionUri(u: ParsedLibvirtUri, uri: string): boolean {
  return u.path === '/session' || /^test\+/i.test(uri.trim());
}

/**
 * resolveLibvirtUri for a URI served on `host`: which sockets exist (and, for a session, the user and
 * runtime directory) are the host's. This machine takes the synchronous path.
 */
export async function resolveLibvirtUriOn(host: Host | undefined, uri: string, options: ResolveOptions = {}): Promise<LibvirtEndpoint> {
  if (isThisMachine(host)) return resolveLibvirtUri(uri, options);
  const u = parseLibvirtUri(uri);
  const explicit = param(u, 'socket') ?? options.socketPath;
  let who: Pick<ResolveOptions, 'euid' | 'env' | 'homedir'> = { euid: 0, env: {} };
  if (!explicit && isSessionUri(u, uri)) {
    // a fixed script: the remote user's uid, runtime directory and home, one line each
    const r = await host!.run(['sh', '-c', 'id -u; printf "%s\\n" "$XDG_RUNTIME_DIR" "$HOME"']);
    const [uid, runtime, home] = r.stdout.split('\n');
    who = { euid: Number(uid) || 0, env: runtime ? { XDG_RUNTIME_DIR: runtime } : {}, homedir: home || '/' };
  }
  const first = resolveLibvirtUri(uri, { ...options, ...who, exists: () => false });
  if (first.candidates.length < 2) return first;
  const present = new Set(await Promise.all(first.candidates.map(async (p) => ((await host!.exists(p)) ? p : ''))));
  return resolveLibvirtUri(uri, { ...options, ...who, exists: (p) => present.has(p) });
}

function pickSocket(mode: string | undefined, legacy: string, direct: string, exists: (p: string) => boolean): string {
  if (mode === 'direct') return direct;
  if (mode === 'legacy') return legacy;
  if (mode && mode !== 'auto') throw new BackendError(`unknown libvirt remote mode "${mode}" (use auto, legacy or direct)`, 'EINVAL');
  if (exists(legacy)) return legacy;
  if (exists(direct)) return direct;
  return legacy;
}

export function daemonStartHint(endpoint: Pick<LibvirtEndpoint, 'daemon' | 'socketPath'>): string {
  if (endpoint.daemon !== 'libvirtd') {
    return `Start the modular daemon: sudo systemctl start ${endpoint.daemon}.socket (or run ${endpoint.daemon} -d as root).`;
  }
  return 'Start the libvirt daemon: sudo systemctl start libvirtd (or run libvirtd -d as root).';
}

/**
 * Connect to a unix socket; resolves with the connected stream. `host`: the machine the socket is on
 * (this machine opens it directly; another is asked for a stream to it, e.g. an SSH forward).
 */
export function connectUnix(socketPath: string, options: { timeoutMs?: number; hint?: string; host?: Host } = {}): Promise<Duplex> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const startHint = options.hint ?? daemonStartHint({ daemon: 'libvirtd', socketPath });
  if (!isThisMachine(options.host)) return connectOnHost(options.host!, socketPath, timeoutMs, startHint);
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: socketPath });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new BackendError(`timed out after ${timeoutMs} ms connecting to libvirt socket ${socketPath}`, 'ETIMEDOUT', startHint));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      switch (err.code) {
        case 'ENOENT':
          reject(new BackendError(`libvirt socket ${socketPath} does not exist: the libvirt daemon is not running`, 'ENOENT', startHint));
          break;
        case 'ECONNREFUSED':
          reject(new BackendError(`connection refused on libvirt socket ${socketPath}: no daemon is listening (stale socket)`, 'ECONNREFUSED', startHint));
          break;
        case 'EACCES':
        case 'EPERM':
          reject(
            new BackendError(
              `permission denied on libvirt socket ${socketPath}`,
              err.code,
              'Add your user to the "libvirt" group (sudo usermod -aG libvirt $USER, then log in again), or use the read-only socket.',
            ),
          );
          break;
        default:
          reject(new BackendError(`cannot connect to libvirt socket ${socketPath}: ${err.message}`, err.code ?? 'EIO', startHint));
      }
    });
  });
}

/** The socket on another host: its reachability in SSH's words, a missing daemon as for this machine. */
async function connectOnHost(host: Host, socketPath: string, timeoutMs: number, startHint: string): Promise<Duplex> {
  try {
    return await host.connectUnix(socketPath, { timeoutMs });
  } catch (e) {
    const unreachable = hostUnreachable(e);
    if (unreachable) throw unreachable;
    const why = e instanceof Error ? e.message : String(e);
    const where = `libvirt socket ${socketPath} on ${host.label}`;
    if (/no such socket/.test(why)) throw new BackendError(`${where} does not exist: the libvirt daemon is not running`, 'ENOENT', startHint);
    if (/nothing is listening/.test(why))
      throw new BackendError(`connection refused on ${where}: no daemon is listening (stale socket)`, 'ECONNREFUSED', startHint);
    throw new BackendError(`cannot connect to ${where}: ${why}`, (e as NodeJS.ErrnoException).code ?? 'EIO', startHint);
  }
}
