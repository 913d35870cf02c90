// What a user types or already has, read into what SshHost needs: host entries of ~/.ssh/config (for
// the Add Host… quick pick), user@host[:port], and libvirt's qemu+ssh:// URIs.

/** Concrete names of `Host` lines (no `*`, `?` or `!` patterns), in file order, each once. */
export function parseSshConfigHosts(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const m = /^host(?:\s*=\s*|\s+)(.+)$/i.exec(line);
    if (!m) continue;
    for (const name of splitPatterns(m[1])) {
      if (/[*?!]/.test(name) || out.includes(name)) continue;
      out.push(name);
    }
  }
  return out;
}

/** ssh_config arguments: words separated by blanks, "double quotes" keep blanks. */
function splitPatterns(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) if ((m[1] ?? m[2]) !== '') out.push(m[1] ?? m[2]);
  return out;
}

export interface SshDestination {
  /** What goes after `--` on ssh's command line: an alias, host or user@host. */
  readonly destination: string;
  readonly port?: number;
}

/** `alias`, `user@host`, `user@host:port`, `user@[v6]:port`, `ssh://user@host:port`, a pasted `qemu+ssh://user@host/system`. */
export function parseDestination(text: string): SshDestination {
  let s = text.trim();
  if (!s) throw new Error('the host is empty');
  if (/^[a-z0-9]+\+ssh:\/\//i.test(s)) {
    const u = parseQemuSshUri(s);
    if (u.destination.startsWith('-')) throw new Error(`"${s}": a host cannot start with "-"`);
    return u.port ? { destination: u.destination, port: u.port } : { destination: u.destination };
  }
  if (s.startsWith('-')) throw new Error(`"${s}": a host cannot start with "-"`);
  if (/\s/.test(s)) throw new Error(`"${s}": a host has no space in it`);
  s = s.replace(/^ssh:\/\//i, '').replace(/\/$/, '');
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at + 1) : '';
  let rest = at >= 0 ? s.slice(at + 1) : s;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    rest = v6[1];
    if (v6[2] !== undefined) port = checkPort(v6[2], text);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1];
      port = checkPort(m[2], text);
    }
  }
  if (!rest) throw new Error(`"${text.trim()}": no host after the user`);
  return port === undefined ? { destination: user + rest } : { destination: user + rest, port };
}

function checkPort(p: string, text: string): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`"${text.trim()}": the port must be 1-65535`);
  return n;
}

export interface LibvirtSshUri {
  /** As typed (trimmed). */
  readonly uri: string;
  readonly driver: string;
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
  readonly path: string;
  /** For SshHost. */
  readonly destination: string;
  /** The URI on the remote side: what virt-ssh-helper is given (`qemu:///system`). */
  readonly remoteUri: string;
  /** socket, mode (auto|legacy|direct), proxy (auto|netcat|native), keyfile, no_verify, command, … */
  readonly params: Record<string, string>;
}

/** `qemu+ssh://[user@]host[:port]/system[?socket=…&mode=…]` and the same for lxc/test/… drivers. */
export function parseQemuSshUri(uri: string): LibvirtSshUri {
  const m = /^([a-z0-9]+)\+ssh:\/\//i.exec(uri.trim());
  if (!m) throw new Error(`"${uri}" is not a libvirt +ssh URI (driver+ssh://user@host/path)`);
  const u = new URL(uri.trim());
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`"${uri}" names no host`);
  const user = u.username ? decodeURIComponent(u.username) : undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of u.searchParams) params[k] = v;
  if (params.mode && !['auto', 'legacy', 'direct'].includes(params.mode)) throw new Error(`"${uri}": mode must be auto, legacy or direct`);
  if (params.proxy && !['auto', 'netcat', 'native'].includes(params.proxy)) throw new Error(`"${uri}": proxy must be auto, netcat or native`);
  const path = u.pathname || '/system';
  if (params.no_verify && !['0', '1'].includes(params.no_verify)) throw new Error(`"${uri}": no_verify must be 0 or 1`);
  return {
    uri: uri.trim(),
    driver: m[1].toLowerCase(),
    user,
    host,
    port: u.port ? Number(u.port) : undefined,
    path,
    destination: user ? `${user}@${host}` : host,
    remoteUri: `${m[1].toLowerCase()}://${path}`,
    params,
  };
}
