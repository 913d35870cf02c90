// libvirt's qemu+ssh:// as libvirt's own remote driver does it (remote_sockets.c): the RPC stream is a
// program on the host, `virt-ssh-helper <remote URI>` (proxy=native) or `nc -U <socket>`
// (proxy=netcat); proxy=auto tries the helper first. Every argument is argv, quoted by quote.ts
// inside SshHost only.
import type { Duplex } from 'node:stream';
import type { Host } from '../host/host';
import { SshHost, type SshHostOptions } from '../host/ssh';
import { parseQemuSshUri, type LibvirtSshUri } from '../host/sshConfig';
import { processStream } from '../host/stream';
import { BackendError } from '../model';
import { connectOpenName, connectUnix, parseLibvirtUri, resolveLibvirtUriOn, type LibvirtEndpoint } from './transport';

export const SSH_HELPER = 'virt-ssh-helper';

/** One way to the daemon: a program whose stdin/stdout is the RPC stream, or an OpenSSH streamlocal forward. */
export type SshRoute = { readonly via: 'helper' | 'netcat'; readonly argv: readonly string[] } | { readonly via: 'forward'; readonly socket: string };

/** Is `uri` a libvirt URI over SSH (qemu+ssh://, lxc+ssh://, test+ssh://)? */
export function isSshLibvirtUri(uri: string): boolean {
  return /^[a-z0-9]+\+ssh:\/\//i.test(uri.trim());
}

/**
 * The routes in the order they are tried. `present`: which programs the host has. proxy=auto: the
 * helper, then nc; where neither exists the streamlocal forward (needs no program on the host, only
 * sshd's AllowStreamLocalForwarding). proxy=native: the helper only; proxy=netcat: nc only.
 */
export function sshRoutes(u: LibvirtSshUri, socket: string, present: ReadonlySet<string>): SshRoute[] {
  const proxy = u.params.proxy ?? 'auto';
  const helper: SshRoute = { via: 'helper', argv: [SSH_HELPER, remoteName(u)] };
  const netcat: SshRoute = { via: 'netcat', argv: [netcatOf(u), '-U', socket] };
  if (proxy === 'native') return [helper];
  if (proxy === 'netcat') return [netcat];
  const out: SshRoute[] = [];
  if (present.has(SSH_HELPER)) out.push(helper);
  if (present.has(netcatOf(u))) out.push(netcat);
  if (!out.length) out.push({ via: 'forward', socket });
  return out;
}

/** libvirt's `netcat=` names the nc program on the host. */
const netcatOf = (u: LibvirtSshUri): string => u.params.netcat || 'nc';

/** The URI virt-ssh-helper is given: the URI without +ssh, the host and the client's own parameters. */
export function remoteName(u: LibvirtSshUri): string {
  return connectOpenName(parseLibvirtUri(u.uri));
}

/** The local-style URI whose socket the host serves: `socket=` and `mode=` kept, as libvirt picks them. */
export function socketUri(u: LibvirtSshUri): string {
  const keep = (['socket', 'mode'] as const).filter((k) => u.params[k] !== undefined).map((k) => `${k}=${encodeURIComponent(u.params[k])}`);
  return `${u.driver}://${u.path}${keep.length ? `?${keep.join('&')}` : ''}`;
}

/** SshHost options for the URI's destination: `keyfile=` as an identity, `no_verify=1` as the user's explicit choice. */
export function sshHostOptionsFor(u: LibvirtSshUri, base: Partial<SshHostOptions> = {}): SshHostOptions {
  const extraArgs = [...(base.extraArgs ?? [])];
  if (u.params.keyfile) extraArgs.push('-i', u.params.keyfile);
  const noVerify = u.params.no_verify === '1';
  return {
    ...base,
    destination: u.destination,
    ...(u.port ? { port: u.port } : {}),
    label: base.label ?? (u.port ? `${u.destination}:${u.port}` : u.destination),
    extraArgs,
    ...(noVerify ? { noVerifyHostKey: true } : {}),
  };
}

/** A new SshHost for a typed qemu+ssh:// URI. */
export function sshHostForLibvirtUri(uri: string, base: Partial<SshHostOptions> = {}): SshHost {
  return new SshHost(sshHostOptionsFor(parseQemuSshUri(uri), base));
}

/** Fixed script: prints each of "$@" the host can run, one a line. */
const WHICH = 'for p do command -v -- "$p" >/dev/null 2>&1 && echo "$p"; done; exit 0';

async function programsOn(host: Host, u: LibvirtSshUri): Promise<Set<string>> {
  if ((u.params.proxy ?? 'auto') !== 'auto') return new Set();
  const r = await host.run(['sh', '-c', WHICH, 'sh', SSH_HELPER, netcatOf(u)], { timeoutMs: 15_000 });
  return new Set(r.stdout.split('\n').filter(Boolean));
}

export interface SshStream {
  readonly stream: Duplex;
  readonly route: SshRoute;
  readonly endpoint: LibvirtEndpoint;
}

/** The RPC stream to the libvirt of `uri` on `host` (the URI's destination), by the first route that exists. */
export async function openSshLibvirtStream(host: Host, uri: string, options: { timeoutMs?: number; socketPath?: string } = {}): Promise<SshStream> {
  const u = parseQemuSshUri(uri);
  const resolved = await resolveLibvirtUriOn(host, socketUri(u), { socketPath: options.socketPath });
  const endpoint: LibvirtEndpoint = { ...resolved, uri, name: remoteName(u) };
  const present = await programsOn(host, u);
  const route = sshRoutes(u, endpoint.socketPath, present)[0];
  if (route.via === 'forward') return { stream: await connectUnix(route.socket, { host, timeoutMs: options.timeoutMs }), route, endpoint };
  return { stream: processStream(host, route.argv), route, endpoint };
}

/** A parse error of a typed +ssh URI as the backend says it. */
export function sshUriProblem(uri: string): BackendError | undefined {
  try {
    parseQemuSshUri(uri);
    return undefined;
  } catch (e) {
    return new BackendError(
      (e as Error).message,
      'EINVAL',
      'Write it as qemu+ssh://user@host[:port]/system[?proxy=auto|native|netcat&mode=auto|legacy|direct].',
    );
  }
}
