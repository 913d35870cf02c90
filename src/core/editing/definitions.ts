// Guest definitions as editable text: read what the host stores, write it back the way the host
// itself validates it, and never lose either side. A write is refused when the host's definition
// changed since the text was read (no silent overwrite); a write the host rejects leaves the host's
// definition exactly as it was and carries the host's own message.
//   libvirt:   inactive XML (VIR_DOMAIN_XML_INACTIVE|SECURE, as `virsh edit`), saved with
//              virDomainDefineXMLFlags(VALIDATE) — libvirt checks it against its RELAX NG schema.
//   lxc-tools: <lxcpath>/<name>/config, checked by liblxc (lxc-info on a scratch copy), written
//              atomically with a backup (config.virtscope.bak), restored if liblxc then refuses it.
//   Docker/Podman: read-only (no editable definition).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../backends/libvirt';
import { LxcBackend } from '../backends/lxc';
import { ExecError, run } from '../exec';
import { LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { Backend, BackendError, DefinitionLanguage } from '../model';

/** The host rejected the definition; `message` is the host's own. Nothing on the host changed. */
export class DefinitionRejectedError extends BackendError {
  constructor(message: string, code?: number | string) {
    super(message, code);
    this.name = 'DefinitionRejectedError';
  }
}

/** The host's definition is no longer the text the document was opened from. */
export class DefinitionConflictError extends BackendError {
  constructor(
    message: string,
    /** What the host has now. */
    readonly current: string,
  ) {
    super(message, 'ECONFLICT');
    this.name = 'DefinitionConflictError';
  }
}

/** A guest with that name (or UUID) exists already; creating would replace it. */
export class GuestExistsError extends BackendError {
  constructor(message: string) {
    super(message, 'EEXIST');
    this.name = 'GuestExistsError';
  }
}

export interface SaveResult {
  /** The definition as the host stores it after the write (libvirt normalises XML). */
  readonly text: string;
  /** The guest's id after the write (a libvirt UUID; differs when the XML defined another domain). */
  readonly guestId: string;
  readonly name: string;
  /** Where the previous text was kept (lxc-tools). */
  readonly backup?: string;
}

export interface EditableDefinitions {
  readonly language: Exclude<DefinitionLanguage, 'json'>;
  /** The host's current definition text, for editing. */
  read(guestId: string): Promise<string>;
  /**
   * Writes `text` as the definition of `guestId`, provided the host still has `baseline` (without
   * one: provided the host has `text` already; `force` overwrites whatever is there).
   */
  save(guestId: string, text: string, baseline: string | undefined, opts?: { force?: boolean }): Promise<SaveResult>;
  /** Creates a new guest (`name` for lxc-tools; libvirt reads it from the XML). */
  create(text: string, name: string | undefined, opts?: { overwrite?: boolean }): Promise<SaveResult>;
}

/** The editable definitions of a backend, or undefined when its guests are read-only (Docker/Podman). */
export function editableDefinitions(backend: Backend): EditableDefinitions | undefined {
  if (backend instanceof LibvirtBackend) return new LibvirtDefinitions(backend);
  if (backend instanceof LxcBackend) return new LxcDefinitions(backend);
  return undefined;
}

/**
 * Refuses a write over a host text the document was not opened from. Without a baseline (an
 * editor restored after a reload) there is no knowing what the user saw: only a host text equal to
 * the one being saved goes without asking.
 */
function checkBaseline(what: string, current: string, text: string, baseline: string | undefined, force: boolean | undefined): void {
  if (force) return;
  if (baseline === undefined) {
    if (current !== text) throw new DefinitionConflictError(`${what} on the host differs from this document, and virtscope has no record of the version this document was opened from (restored after a reload?)`, current);
  } else if (current !== baseline) {
    throw new DefinitionConflictError(`${what} changed on the host since it was opened`, current);
  }
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function decodeXmlText(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** <name> and <uuid> directly under the root of a domain XML (first occurrences at depth 1). */
export function domainIdentity(xml: string): { name?: string; uuid?: string } {
  const body = xml.replace(/<!--[\s\S]*?-->/g, '');
  const pick = (tag: string) => {
    // depth-1 children only: count open/close tags before the match
    const re = new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g');
    for (let m = re.exec(body); m; m = re.exec(body)) {
      const before = body.slice(0, m.index);
      const opens = (before.match(/<[A-Za-z][^>]*[^/]>|<[A-Za-z]>/g) ?? []).length;
      const closes = (before.match(/<\/[^>]+>/g) ?? []).length;
      if (opens - closes === 1) return decodeXmlText(m[1].trim());
    }
    return undefined;
  };
  return { name: pick('name'), uuid: pick('uuid') };
}

class LibvirtDefinitions implements EditableDefinitions {
  readonly language = 'xml' as const;
  constructor(private readonly b: LibvirtBackend) {}

  private async lookup(guestId: string): Promise<P.RemoteDomain> {
    const c = await this.b.client();
    return UUID_RE.test(guestId) ? c.domainLookupByUUID(guestId) : c.domainLookupByName(guestId);
  }

  private async xml(dom: P.RemoteDomain): Promise<string> {
    const c = await this.b.client();
    const F = P.DomainXmlFlags;
    try {
      // SECURE keeps passwords (graphics, …) in the text, so saving does not drop them
      return await c.domainGetXMLDesc(dom, F.INACTIVE | F.SECURE);
    } catch (e) {
      if (e instanceof LibvirtError && /denied|read.?only|privilege/i.test(e.message)) {
        return c.domainGetXMLDesc(dom, F.INACTIVE);
      }
      throw e;
    }
  }

  async read(guestId: string): Promise<string> {
    return this.xml(await this.lookup(guestId));
  }

  async save(guestId: string, text: string, baseline: string | undefined, opts: { force?: boolean } = {}): Promise<SaveResult> {
    const dom = await this.lookup(guestId);
    const current = await this.xml(dom);
    checkBaseline(`The definition of "${dom.name}"`, current, text, baseline, opts.force);
    return this.define(text);
  }

  async create(text: string, _name: string | undefined, opts: { overwrite?: boolean } = {}): Promise<SaveResult> {
    if (!opts.overwrite) {
      const { name, uuid } = domainIdentity(text);
      const c = await this.b.client();
      for (const [how, key] of [['name', name], ['UUID', uuid]] as const) {
        if (!key) continue;
        try {
          const dom = how === 'name' ? await c.domainLookupByName(key) : await c.domainLookupByUUID(key);
          throw new GuestExistsError(`A domain with the ${how} "${key}" exists already ("${dom.name}"): saving would replace its definition`);
        } catch (e) {
          if (e instanceof GuestExistsError) throw e;
          if (!(e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN)) throw e;
        }
      }
    }
    return this.define(text);
  }

  private async define(text: string): Promise<SaveResult> {
    const c = await this.b.client();
    let dom: P.RemoteDomain;
    try {
      dom = await c.domainDefineXMLFlags(text, P.DefineFlags.VALIDATE);
    } catch (e) {
      if (e instanceof LibvirtError) throw new DefinitionRejectedError(e.message, e.code);
      throw e;
    }
    return { text: await this.xml(dom), guestId: P.uuidToString(dom.uuid), name: dom.name };
  }
}

class LxcDefinitions implements EditableDefinitions {
  readonly language = 'lxc-config' as const;
  constructor(private readonly b: LxcBackend) {}

  private async lxcPath(): Promise<string> {
    if (this.b.config.lxcPath) return this.b.config.lxcPath;
    try {
      return (await run('lxc-config', ['lxc.lxcpath'])).stdout.trim() || '/var/lib/lxc';
    } catch {
      return '/var/lib/lxc';
    }
  }

  private async configPath(name: string): Promise<string> {
    if (!name || name.includes('/') || name === '.' || name === '..') throw new BackendError(`"${name}" is not a container name`, 'EINVAL');
    return path.join(await this.lxcPath(), name, 'config');
  }

  async read(name: string): Promise<string> {
    try {
      return await fs.readFile(await this.configPath(name), 'utf8');
    } catch (e) {
      throw new BackendError(`Cannot read the config of container "${name}": ${(e as Error).message}`);
    }
  }

  /** liblxc's own parser on a scratch copy: what lxc-start would say about this config. */
  async check(name: string, text: string): Promise<void> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'virtscope-lxc-'));
    try {
      await fs.mkdir(path.join(dir, name));
      await fs.writeFile(path.join(dir, name, 'config'), text);
      await liblxcLoad(dir, name);
    } finally {
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async save(name: string, text: string, baseline: string | undefined, opts: { force?: boolean } = {}): Promise<SaveResult> {
    const file = await this.configPath(name);
    const current = await this.read(name);
    checkBaseline(`The config of "${name}"`, current, text, baseline, opts.force);
    await this.check(name, text);
    const backup = `${file}.virtscope.bak`;
    await fs.copyFile(file, backup);
    await writeAtomic(file, text);
    try {
      await liblxcLoad(path.dirname(path.dirname(file)), name);
    } catch (e) {
      // put the previous config back exactly as it was
      await writeAtomic(file, current);
      throw e;
    }
    return { text: await this.read(name), guestId: name, name, backup };
  }

  async create(text: string, name: string | undefined, opts: { overwrite?: boolean } = {}): Promise<SaveResult> {
    if (!name) throw new BackendError('A new LXC container needs a name', 'EINVAL');
    const file = await this.configPath(name);
    const exists = await fs.access(path.dirname(file)).then(() => true, () => false);
    if (exists && !opts.overwrite) throw new GuestExistsError(`A container "${name}" exists already in ${path.dirname(path.dirname(file))}: saving would replace its config`);
    if (exists) return this.save(name, text, undefined, { force: true });
    await this.check(name, text);
    await fs.mkdir(path.join(path.dirname(file), 'rootfs'), { recursive: true, mode: 0o755 });
    await writeAtomic(file, text);
    return { text: await this.read(name), guestId: name, name };
  }
}

/** Writes through a temp file and rename, keeping the old file's mode and owner. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.virtscope.new`;
  const st = await fs.stat(file).catch(() => undefined);
  await fs.writeFile(tmp, text, { mode: st ? st.mode & 0o7777 : 0o640 });
  if (st) await fs.chown(tmp, st.uid, st.gid).catch(() => undefined);
  await fs.rename(tmp, file);
}

/** Loads a container's config with liblxc (lxc-info); rejects with liblxc's own complaint. */
async function liblxcLoad(lxcPath: string, name: string): Promise<void> {
  // liblxc logs to a file only (stderr is a socket here, which it cannot open as a log)
  const logDir = await fs.mkdtemp(path.join(os.tmpdir(), 'virtscope-lxclog-'));
  const log = path.join(logDir, 'lxc.log');
  try {
    await run('lxc-info', ['-P', lxcPath, '-n', name, '-c', 'lxc.uts.name', '-l', 'ERROR', '-o', log], { timeoutMs: 15_000 });
  } catch (e) {
    if (e instanceof ExecError && e.notFound) throw new BackendError('lxc-info was not found', 'ENOENT', 'Install lxc-tools: sudo apt-get install lxc');
    const err = `${await fs.readFile(log, 'utf8').catch(() => '')}\n${e instanceof ExecError ? e.stderr : String(e)}`;
    // "lxc-info NAME 20240101… ERROR confile - ../src/lxc/confile.c:set_config_…:164 - Invalid argument - Unsupported config key "x""
    const lines = [
      ...new Set(
        err
          .split('\n')
          .map((l) => l.replace(/^lxc-info\s+\S+\s+\S+\s+\w+\s+\S+ - \S+ - /, '').replace(/^lxc-info: [^:]+: \S+\.c: \S+: \d+ /, '').trim())
          .filter((l) => l && !/^Failure to retrieve information|^Failed to load config for/.test(l))
          .map((l) => l.split(lxcPath).join('<lxcpath>')),
      ),
    ];
    throw new DefinitionRejectedError(`liblxc refused the config: ${lines.join('; ') || 'unknown error'}`);
  } finally {
    await fs.rm(logDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
