// A remote host's own libvirt schemas, for validating its definitions: its libvirt may be older or
// newer than this machine's, and accept other elements. Copied once over the Host layer into a cache
// on this machine, one directory per host and libvirt version; a copy whose files no longer match the
// host's (same version, files changed) is fetched again.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Host } from '../host/host';
import { SCHEMA_DIRS } from './model';

export interface HostSchemas {
  /** The local copy: a directory with the host's *.rng. */
  readonly dir: string;
  /** Where they are on the host. */
  readonly remoteDir: string;
  /** The host's libvirt version ("9.0.0"), or "unknown". */
  readonly version: string;
  /** Copied now (false: the cached copy was still the host's). */
  readonly fetched: boolean;
}

const MANIFEST = '.virtscope-schemas';

/** The host's libvirt version, from the first of its programs that answers. */
export async function libvirtVersionOn(host: Host): Promise<string> {
  for (const argv of [
    ['virsh', '--version'],
    ['libvirtd', '--version'],
    ['virtqemud', '--version'],
  ]) {
    const r = await host.run(argv, { timeoutMs: 15_000 }).catch(() => undefined);
    const v = r?.exitCode === 0 ? /(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] : undefined;
    if (v) return v;
  }
  return 'unknown';
}

/** Where libvirt keeps its schemas on the host (the first directory of SCHEMA_DIRS with domain.rng). */
async function remoteSchemaDir(host: Host): Promise<string | undefined> {
  for (const d of SCHEMA_DIRS) if (await host.exists(`${d}/domain.rng`)) return d;
  return undefined;
}

/** "name size mtime" of each schema file on the host, in one call: what the copy is checked against. */
async function listing(host: Host, dir: string): Promise<{ files: string[]; manifest: string }> {
  const files = (await host.readdir(dir))
    .filter((e) => e.type !== 'directory' && e.name.endsWith('.rng'))
    .map((e) => e.name)
    .sort();
  if (!files.length) return { files, manifest: '' };
  const r = await host.run(['stat', '-L', '-c', '%n %s %Y', '--', ...files.map((f) => `${dir}/${f}`)], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`cannot list the libvirt schemas in ${dir} on ${host.label}: ${r.stderr.trim()}`);
  return { files, manifest: r.stdout };
}

/** A directory or file name from any text (host ids hold ":" and "@"). */
function safeName(s: string): string {
  return s.replace(/[^\w.-]/g, '_');
}

/**
 * The host's libvirt schemas as a local directory (`cacheRoot/<host>/<version>`), copied when not
 * cached or when the host's files changed; undefined when the host has none (libvirt not installed).
 */
export async function hostSchemas(host: Host, hostKey: string, cacheRoot: string): Promise<HostSchemas | undefined> {
  const remoteDir = await remoteSchemaDir(host);
  if (!remoteDir) return undefined;
  const version = await libvirtVersionOn(host);
  const dir = path.join(cacheRoot, safeName(hostKey), safeName(version));
  const { files, manifest } = await listing(host, remoteDir);
  const cached = await fs.readFile(path.join(dir, MANIFEST), 'utf8').catch(() => undefined);
  if (cached === manifest) return { dir, remoteDir, version, fetched: false };
  // into a fresh directory beside it, then renamed: a reader never sees half a set
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const tmp = await fs.mkdtemp(`${dir}.tmp-`);
  try {
    const texts = await Promise.all(files.map((f) => host.readFile(`${remoteDir}/${f}`)));
    await Promise.all(files.map((f, i) => fs.writeFile(path.join(tmp, f), texts[i])));
    await fs.writeFile(path.join(tmp, MANIFEST), manifest);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return { dir, remoteDir, version, fetched: true };
}
