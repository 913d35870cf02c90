// An LXD instance's own config as a YAML document, as `lxc config edit` shows it (architecture,
// config, devices, ephemeral, profiles, description). Saved with the ETag read with it, so a change
// made meanwhile (by lxc, another client, another member) is refused, never overwritten unasked.
import { parseDocument, stringify } from 'yaml';
import type { Definition, SaveResult } from '../capabilities';
import { BackendError } from '../model';
import { checkBaseline, DefinitionConflictError, DefinitionRejectedError } from '../editing/errors';
import type { LxdApi, LxdInstancePut } from './lxd/api';
import { LxdChangedError, LxdError } from './lxd/client';

const FIELDS = ['architecture', 'config', 'devices', 'ephemeral', 'profiles', 'stateful', 'description'] as const;

/** The writable part of an instance as YAML (keys in LXD's order, nothing else). */
export function instanceYaml(put: LxdInstancePut): string {
  const o: Record<string, unknown> = {};
  for (const k of FIELDS) if (put[k] !== undefined) o[k] = put[k];
  return stringify(o);
}

/** A YAML document as the writable part of an instance; a clear message for what LXD would not take. */
export function parseInstanceYaml(text: string): LxdInstancePut {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new DefinitionRejectedError(`not valid YAML: ${doc.errors[0].message}`);
  const o = doc.toJS() as unknown;
  if (!o || typeof o !== 'object' || Array.isArray(o))
    throw new DefinitionRejectedError('the document must be a mapping (architecture, config, devices, profiles…)');
  const rec = o as Record<string, unknown>;
  const unknown = Object.keys(rec).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length) throw new DefinitionRejectedError(`${unknown.map((k) => `"${k}"`).join(', ')} cannot be edited here (only ${FIELDS.join(', ')})`);
  const strMap = (k: string) => {
    const v = rec[k] ?? {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new DefinitionRejectedError(`"${k}" must be a mapping`);
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([kk, vv]) => [kk, String(vv)]));
  };
  const devices = rec.devices ?? {};
  if (typeof devices !== 'object' || Array.isArray(devices)) throw new DefinitionRejectedError('"devices" must be a mapping of device names to their keys');
  if (rec.profiles !== undefined && !Array.isArray(rec.profiles)) throw new DefinitionRejectedError('"profiles" must be a list');
  return {
    architecture: String(rec.architecture ?? ''),
    config: strMap('config'),
    devices: Object.fromEntries(Object.entries(devices as Record<string, unknown>).map(([n, d]) => [n, strMapOf(n, d)])),
    ephemeral: rec.ephemeral === true,
    profiles: ((rec.profiles as unknown[]) ?? []).map(String),
    ...(rec.stateful !== undefined ? { stateful: rec.stateful === true } : {}),
    ...(rec.description !== undefined ? { description: String(rec.description ?? '') } : {}),
  };
}

function strMapOf(name: string, v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DefinitionRejectedError(`device "${name}" must be a mapping of keys to values`);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

export class LxdDefinitions implements Definition {
  readonly language = 'yaml' as const;

  constructor(
    private readonly api: () => LxdApi,
    private readonly nameOf: (guestId: string) => { name: string; project: string },
  ) {}

  async read(guestId: string): Promise<string> {
    const { name, project } = this.nameOf(guestId);
    return instanceYaml((await this.api().instanceConfig(name, { project })).config);
  }

  async save(guestId: string, text: string, baseline: string | undefined, opts: { force?: boolean } = {}): Promise<SaveResult> {
    const { name, project } = this.nameOf(guestId);
    const put = parseInstanceYaml(text);
    const now = await this.api().instanceConfig(name, { project });
    // only keys the text adds are judged: what the server holds already (image.*, volatile.*) stands
    const added = Object.fromEntries(Object.entries(put.config).filter(([k]) => !(k in now.config.config)));
    const unknown = (await this.api().configKeys())?.problems(added) ?? [];
    if (unknown.length) throw new DefinitionRejectedError(`${unknown.join('; ')}. Nothing was written.`);
    const current = instanceYaml(now.config);
    checkBaseline(`The config of "${name}"`, current, text, baseline, opts.force);
    try {
      // the ETag closes the window between reading `current` and this write
      await this.api().putInstanceConfig(name, put, opts.force ? undefined : now.etag, { project });
    } catch (e) {
      if (e instanceof LxdChangedError) {
        const again = instanceYaml((await this.api().instanceConfig(name, { project })).config);
        throw new DefinitionConflictError(`The config of "${name}" changed on the server since it was opened`, again);
      }
      if (e instanceof LxdError && e.status < 500) throw new DefinitionRejectedError(e.lxdMessage || e.message, e.status);
      throw e;
    }
    return { text: await this.read(guestId), guestId, name };
  }

  async create(): Promise<SaveResult> {
    throw new BackendError('LXD instances are launched from an image: use Launch Instance…');
  }
}
