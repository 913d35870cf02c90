// lxc-tools' editable definitions: <lxcpath>/<name>/config, checked by liblxc (lxc-info on a
// scratch copy), written atomically with a backup (config.virtscope.bak), restored if liblxc then
// refuses it. Every file and program goes through the backend's Host.
import * as path from 'node:path';
import type { Definition, SaveResult } from '../capabilities';
import { checkBaseline, DefinitionRejectedError, GuestExistsError } from '../editing/errors';
import { ExecError, runOn } from '../exec';
import type { Host } from '../host/host';
import { BackendError } from '../model';
import type { LxcBackend } from './lxc';

export class LxcDefinitions implements Definition {
  readonly language = 'lxc-config' as const;
  private readonly host: Host;
  constructor(private readonly b: LxcBackend) {
    this.host = b.host;
  }

  private async configPath(name: string): Promise<string> {
    if (!name || name.includes('/') || name === '.' || name === '..') throw new BackendError(`"${name}" is not a container name`, 'EINVAL');
    return path.join(await this.b.containersPath(), name, 'config');
  }

  async read(name: string): Promise<string> {
    try {
      return await this.host.readFile(await this.configPath(name));
    } catch (e) {
      throw new BackendError(`Cannot read the config of container "${name}": ${(e as Error).message}`);
    }
  }

  /** liblxc's own parser on a scratch copy: what lxc-start would say about this config. */
  async check(name: string, text: string): Promise<void> {
    const dir = await this.host.mkdtemp('virtscope-lxc-');
    try {
      await this.host.mkdir(path.join(dir, name));
      await this.host.writeFile(path.join(dir, name, 'config'), text);
      await liblxcLoad(this.host, dir, name);
    } finally {
      await this.host.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async save(name: string, text: string, baseline: string | undefined, opts: { force?: boolean } = {}): Promise<SaveResult> {
    const file = await this.configPath(name);
    const current = await this.read(name);
    checkBaseline(`The config of "${name}"`, current, text, baseline, opts.force);
    await this.check(name, text);
    const backup = `${file}.virtscope.bak`;
    await this.host.copyFile(file, backup);
    await this.host.writeFile(file, text, { atomic: true });
    try {
      await liblxcLoad(this.host, path.dirname(path.dirname(file)), name);
    } catch (e) {
      // put the previous config back exactly as it was
      await this.host.writeFile(file, current, { atomic: true });
      throw e;
    }
    return { text: await this.read(name), guestId: name, name, backup };
  }

  async create(text: string, name: string | undefined, opts: { overwrite?: boolean } = {}): Promise<SaveResult> {
    if (!name) throw new BackendError('A new LXC container needs a name', 'EINVAL');
    const file = await this.configPath(name);
    const exists = await this.host.exists(path.dirname(file));
    if (exists && !opts.overwrite)
      throw new GuestExistsError(`A container "${name}" exists already in ${path.dirname(path.dirname(file))}: saving would replace its config`);
    if (exists) return this.save(name, text, undefined, { force: true });
    await this.check(name, text);
    await this.host.mkdir(path.join(path.dirname(file), 'rootfs'), { recursive: true, mode: 0o755 });
    await this.host.writeFile(file, text, { atomic: true });
    return { text: await this.read(name), guestId: name, name };
  }
}

/** Loads a container's config with liblxc (lxc-info); rejects with liblxc's own complaint. */
async function liblxcLoad(host: Host, lxcPath: string, name: string): Promise<void> {
  // liblxc logs to a file only (stderr is a socket here, which it cannot open as a log)
  const logDir = await host.mkdtemp('virtscope-lxclog-');
  const log = path.join(logDir, 'lxc.log');
  try {
    await runOn(host, ['lxc-info', '-P', lxcPath, '-n', name, '-c', 'lxc.uts.name', '-l', 'ERROR', '-o', log], { timeoutMs: 15_000 });
  } catch (e) {
    if (e instanceof ExecError && e.notFound)
      throw new BackendError(`lxc-info was not found on ${host.label}`, 'ENOENT', 'Install lxc-tools: sudo apt-get install lxc');
    const err = `${await host.readFile(log).catch(() => '')}\n${e instanceof ExecError ? e.stderr : String(e)}`;
    throw new DefinitionRejectedError(`liblxc refused the config: ${liblxcComplaint(err, lxcPath) || 'unknown error'}`);
  } finally {
    await host.rm(logDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** liblxc's log and stderr, one message per distinct complaint, without its prefixes. */
function liblxcComplaint(err: string, lxcPath: string): string {
  // "lxc-info NAME 20240101… ERROR confile - ../src/lxc/confile.c:set_config_…:164 - Invalid argument - Unsupported config key "x""
  const lines = err
    .split('\n')
    .map((l) =>
      l
        .replace(/^lxc-info\s+\S+\s+\S+\s+\w+\s+\S+ - \S+ - /, '')
        .replace(/^lxc-info: [^:]+: \S+\.c: \S+: \d+ /, '')
        .trim(),
    )
    .filter((l) => l && !/^Failure to retrieve information|^Failed to load config for/.test(l))
    .map((l) => l.split(lxcPath).join('<lxcpath>'));
  return [...new Set(lines)].join('; ');
}
