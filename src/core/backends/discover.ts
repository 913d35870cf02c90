// What a host has: libvirt (and which of its drivers answer), lxc-tools, Docker/Podman engines.
// Each is asked the way its backend will ask it, through the Host, so a connection found here is
// one the backend can open. Absent things are left out; installed but unusable ones carry a problem.
import * as http from 'node:http';
import type { Host } from '../host/host';
import { HostRunError } from '../host/host';
import type { DiscoverConnections, DiscoveredConnection } from '../hosts';
import { LibvirtClient, LibvirtError } from '../libvirt/client';
import { connectUnix, resolveLibvirtUriOn } from '../libvirt/transport';
import type { BackendType } from '../model';
import { engineStartHint } from './docker';
import { engineAgent } from './engineClient';
import { hostUnreachable } from './reach';

/** Each probe gives up after this long (a hung daemon is a problem, not a hang of the whole host). */
const PROBE_TIMEOUT_MS = 5000;
/** libvirt's VIR_ERR_NO_CONNECT: the daemon has no driver for the URI (e.g. libvirt-daemon-driver-lxc not installed). */
const VIR_ERR_NO_CONNECT = 5;

const LIBVIRT_DRIVERS = [
  { kind: 'qemu', uri: 'qemu:///system', label: 'QEMU/KVM', driver: 'qemu', daemon: 'virtqemud' },
  { kind: 'libvirt-lxc', uri: 'lxc:///system', label: 'libvirt LXC', driver: 'lxc', daemon: 'virtlxcd' },
] as const;

const ENGINES = [
  { kind: 'podman', socket: '/run/podman/podman.sock', label: 'Podman', programs: ['/usr/bin/podman'] },
  { kind: 'docker', socket: '/var/run/docker.sock', label: 'Docker', programs: ['/usr/bin/dockerd', '/usr/sbin/dockerd'] },
] as const;

export const discoverConnections: DiscoverConnections = async (host, idPrefix) => {
  const entry = (kind: string, type: BackendType, label: string, more: Partial<DiscoveredConnection> = {}): DiscoveredConnection => ({
    id: `${idPrefix}${kind}`,
    type,
    label,
    ...more,
  });
  try {
    const found = await Promise.all([
      ...LIBVIRT_DRIVERS.map((d) => guarded(libvirtDriver(host, d, entry), (problem) => entry(d.kind, 'libvirt', d.label, { uri: d.uri, problem }))),
      guarded(lxcTools(host, entry), (problem) => entry('lxc', 'lxc', 'LXC', { problem })),
      ...ENGINES.map((e) => guarded(engine(host, e, entry), (problem) => entry(e.kind, 'docker', e.label, { socketPath: e.socket, problem }))),
      guarded(rootlessEngines(host, entry), () => []),
    ]);
    return await withoutAliases(
      host,
      found.flat().filter((c): c is DiscoveredConnection => c !== undefined),
    );
  } catch (e) {
    throw hostUnreachable(e) ?? e;
  }
};

/** A probe's own failure becomes its item's problem; an unreachable host ends the discovery. */
async function guarded<T>(probe: Promise<T>, onProblem: (problem: string) => T): Promise<T> {
  try {
    return await probe;
  } catch (e) {
    return onProblem(problemOf(e));
  }
}

/** podman-docker links Docker's socket to Podman's: one engine, listed once. */
async function withoutAliases(host: Host, found: DiscoveredConnection[]): Promise<DiscoveredConnection[]> {
  const engines = found.filter((c) => c.type === 'docker' && c.socketPath && !c.problem);
  if (engines.length < 2) return found;
  const realPath = async (p: string) => {
    const r = await host.run(['readlink', '-f', '--', p]).catch((e) => (hostUnreachable(e) ? Promise.reject(e) : undefined));
    return (r?.exitCode === 0 && r.stdout.trim()) || p;
  };
  const real = await Promise.all(engines.map((c) => realPath(c.socketPath!)));
  const seen = new Set<string>();
  const alias = new Set(engines.filter((_, i) => seen.size === seen.add(real[i]).size));
  return found.filter((c) => !alias.has(c));
}

type Entry = (kind: string, type: BackendType, label: string, more?: Partial<DiscoveredConnection>) => DiscoveredConnection;

/** An unreachable host ends the whole discovery; any other failure becomes the item's problem. */
function problemOf(e: unknown): string {
  if (hostUnreachable(e)) throw e;
  return e instanceof Error ? e.message : String(e);
}

/** Is there a unix socket at `p` on the host? */
async function socketAt(host: Host, p: string): Promise<boolean> {
  const st = await host.stat(p);
  return st !== undefined && (st.mode & 0o170000) === 0o140000;
}

async function anyExists(host: Host, paths: readonly string[]): Promise<boolean> {
  return (await Promise.all(paths.map((p) => host.exists(p)))).some(Boolean);
}

/** One libvirt driver: its daemon's socket, then CONNECT_OPEN and a domain list over it. */
async function libvirtDriver(host: Host, d: (typeof LIBVIRT_DRIVERS)[number], entry: Entry): Promise<DiscoveredConnection | undefined> {
  let found = entry(d.kind, 'libvirt', d.label, { uri: d.uri });
  const endpoint = await resolveLibvirtUriOn(host, d.uri);
  let socket = endpoint.socketPath;
  if (!(await socketAt(host, socket))) {
    // /var/run is /run almost everywhere; where it is not, the socket is named in the connection
    const run = socket.replace(/^\/var\/run\//, '/run/');
    if (run !== socket && (await socketAt(host, run))) {
      socket = run;
      found = { ...found, socketPath: run };
    } else if (!(await libvirtInstalled(host, d))) return undefined;
    else return { ...found, problem: `libvirt is installed but its daemon is not running (no socket at ${endpoint.candidates.join(' or ')})` };
  }
  let client: LibvirtClient | undefined;
  try {
    const stream = await connectUnix(socket, { host, timeoutMs: PROBE_TIMEOUT_MS });
    client = new LibvirtClient(stream, { callTimeoutMs: PROBE_TIMEOUT_MS, keepaliveIntervalMs: 0 });
    await client.authenticate();
    await client.connectOpen(endpoint.name, 0);
    await client.listAllDomains(0);
    return found;
  } catch (e) {
    if (e instanceof LibvirtError && e.code === VIR_ERR_NO_CONNECT) return undefined; // the daemon has no such driver
    const why = problemOf(e);
    const denied = await deniedSocket(host, socket, 'Add the user to the "libvirt" group, or connect as a user who may use libvirt.');
    return { ...found, problem: denied ?? `libvirt on ${host.label} did not open ${d.uri}: ${why}` };
  } finally {
    if (client) await client.connectClose({ timeoutMs: 1000 });
  }
}

/**
 * A daemon that could serve the driver, installed but not running: the modular daemon, or libvirtd
 * with the driver's module (Debian, Fedora and Arch keep them under .../libvirt/connection-driver/).
 */
async function libvirtInstalled(host: Host, d: (typeof LIBVIRT_DRIVERS)[number]): Promise<boolean> {
  if (await anyExists(host, [`/usr/sbin/${d.daemon}`])) return true;
  if (!(await anyExists(host, ['/usr/sbin/libvirtd']))) return false;
  const module = `libvirt_driver_${d.driver}.so`;
  const r = await host.run(['find', '/usr/lib', '/usr/lib64', '-maxdepth', '4', '-path', `*/libvirt/connection-driver/${module}`], {
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  // no module found anywhere: an old or unusual layout, where libvirtd carries qemu itself
  return r.stdout.includes(module) || (d.driver === 'qemu' && !r.stdout.trim());
}

/** lxc-tools: `lxc-ls --version` answers. */
async function lxcTools(host: Host, entry: Entry): Promise<DiscoveredConnection | undefined> {
  const found = entry('lxc', 'lxc', 'LXC');
  try {
    const r = await host.run(['lxc-ls', '--version'], { timeoutMs: PROBE_TIMEOUT_MS });
    if (r.exitCode === 0) return found;
    return { ...found, problem: `lxc-ls --version on ${host.label} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}` };
  } catch (e) {
    if (e instanceof HostRunError && e.notFound) return undefined;
    return { ...found, problem: problemOf(e) };
  }
}

/** A container engine's API socket: present and answering, present and silent, or installed without its service. */
async function engine(
  host: Host,
  e: { kind: string; socket: string; label: string; programs: readonly string[] },
  entry: Entry,
): Promise<DiscoveredConnection | undefined> {
  const found = entry(e.kind, 'docker', e.label, { socketPath: e.socket });
  if (!(await socketAt(host, e.socket))) {
    if (!(await anyExists(host, e.programs))) return undefined;
    return { ...found, problem: `${e.label} is installed but its API service is not running (no socket at ${e.socket}). ${engineStartHint(e.socket, {})}` };
  }
  try {
    // podman-docker serves Podman at Docker's path: name what answers
    const podman = (await ping(host, e.socket))['libpod-api-version'] !== undefined;
    return { ...found, label: podman ? 'Podman' : 'Docker' };
  } catch (err) {
    const why = problemOf(err);
    const denied = await deniedSocket(
      host,
      e.socket,
      "Rootful engines are root's (or the \"docker\" group's); a user's own engine has its own socket (systemctl --user start podman.socket).",
    );
    return { ...found, problem: denied ?? `the API at ${e.socket} on ${host.label} did not answer: ${why}. ${engineStartHint(e.socket, {})}` };
  }
}

/** A user's own engines (rootless Podman, rootless Docker), only when their sockets are there. */
async function rootlessEngines(host: Host, entry: Entry): Promise<DiscoveredConnection[]> {
  const r = await host.run(['id', '-u'], { timeoutMs: PROBE_TIMEOUT_MS });
  const uid = r.stdout.trim();
  if (r.exitCode !== 0 || !/^\d+$/.test(uid) || uid === '0') return [];
  const sockets = [
    { kind: 'podman-user', socket: `/run/user/${uid}/podman/podman.sock`, label: 'Podman (rootless)' },
    { kind: 'docker-user', socket: `/run/user/${uid}/docker.sock`, label: 'Docker (rootless)' },
  ];
  const found = await Promise.all(sockets.map(async (s) => ((await socketAt(host, s.socket)) ? engine(host, { ...s, programs: [] }, entry) : undefined)));
  return found.filter((c): c is DiscoveredConnection => c !== undefined);
}

/** The engine's /_ping (its /version takes Podman a second): its headers say which engine it is. */
function ping(host: Host, socketPath: string): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: '/_ping', agent: engineAgent(host), signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve(res.headers);
      else reject(new Error(`/_ping answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
    });
    req.on('error', (e) => reject(e.name === 'AbortError' ? new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`) : e));
  });
}

/**
 * A socket the user may not open: over SSH the forward only shows a stream that closes at once, so
 * the reason is asked for separately (connecting to a unix socket needs write permission).
 */
async function deniedSocket(host: Host, socket: string, hint: string): Promise<string | undefined> {
  const r = await host.run(['test', '-w', socket], { timeoutMs: PROBE_TIMEOUT_MS }).catch((e) => (hostUnreachable(e) ? Promise.reject(e) : undefined));
  if (r?.exitCode !== 1) return undefined;
  const who = (await host.run(['id', '-un'], { timeoutMs: PROBE_TIMEOUT_MS }).catch(() => undefined))?.stdout.trim() || 'the user';
  return `permission denied: ${who} on ${host.label} may not use ${socket}. ${hint}`;
}
