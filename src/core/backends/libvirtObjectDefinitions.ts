// Storage pools' and networks' definitions as editable XML, the way domains have theirs
// (libvirtDefinitions.ts): read the inactive XML, refuse a save over a host text that changed since
// it was read (checkBaseline), define with STORAGE_POOL_DEFINE_XML (VALIDATE: libvirt checks its
// RELAX NG schema) or NETWORK_DEFINE_XML. A definition libvirt rejects changes nothing on the host.
// The "id" of a pool or network is its name.
import type { Definition, SaveResult } from '../capabilities';
import { checkBaseline, DefinitionRejectedError, GuestExistsError } from '../editing/errors';
import { LibvirtClient, LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { BackendError } from '../model';
import { domainIdentity } from './libvirtDefinitions';

export type ObjectDefinitionKind = 'pool' | 'network';

/** VIR_STORAGE_XML_INACTIVE and VIR_NETWORK_XML_INACTIVE: the persistent definition, not the running state. */
const XML_INACTIVE = 1;
/** VIR_STORAGE_POOL_DEFINE_VALIDATE (libvirt 7.8) */
const POOL_DEFINE_VALIDATE = 1;

const WORDS: Record<ObjectDefinitionKind, { what: string; missing: number }> = {
  pool: { what: 'storage pool', missing: P.ErrorCode.NO_STORAGE_POOL },
  network: { what: 'network', missing: P.ErrorCode.NO_NETWORK },
};

export class LibvirtObjectDefinitions implements Definition {
  readonly language = 'xml' as const;
  constructor(
    private readonly client: () => Promise<LibvirtClient>,
    readonly kind: ObjectDefinitionKind,
  ) {}

  private async lookup(name: string): Promise<P.RemoteNamed> {
    const c = await this.client();
    return this.kind === 'pool' ? c.storagePoolLookupByName(name) : c.networkLookupByName(name);
  }

  /**
   * The persistent definition. A driver without the INACTIVE flag (libvirt's test driver) gives the
   * same text without it while the object is inactive; an active one's text would be its running
   * state, so editing it is refused with the reason.
   */
  private async xml(o: P.RemoteNamed): Promise<string> {
    const c = await this.client();
    const get = (flags: number) => (this.kind === 'pool' ? c.storagePoolGetXMLDesc(o, flags) : c.networkGetXMLDesc(o, flags));
    try {
      return await get(XML_INACTIVE);
    } catch (e) {
      if (!isUnsupportedFlags(e)) throw e;
      const active = this.kind === 'pool' ? [2, 3].includes((await c.storagePoolGetInfo(o)).state) : await c.networkIsActive(o);
      if (!active) return get(0);
      const what = WORDS[this.kind].what;
      throw new BackendError(
        `This host's libvirt cannot give the definition of an active ${what} apart from its running state (it rejects the INACTIVE flag): stop "${o.name}" to edit its definition.`,
        'ENOTSUP',
      );
    }
  }

  async read(name: string): Promise<string> {
    return this.xml(await this.lookup(name));
  }

  async save(name: string, text: string, baseline: string | undefined, opts: { force?: boolean } = {}): Promise<SaveResult> {
    const current = await this.read(name);
    checkBaseline(`The definition of the ${WORDS[this.kind].what} "${name}"`, current, text, baseline, opts.force);
    return this.define(text);
  }

  /** Refused when a pool or network of that name exists already, unless `overwrite`. */
  async create(text: string, _name: string | undefined, opts: { overwrite?: boolean } = {}): Promise<SaveResult> {
    const { name } = domainIdentity(text);
    if (!opts.overwrite && name) {
      try {
        await this.lookup(name);
        throw new GuestExistsError(`A ${WORDS[this.kind].what} named "${name}" exists already: saving would replace its definition`);
      } catch (e) {
        if (!(e instanceof LibvirtError && e.code === WORDS[this.kind].missing)) throw e;
      }
    }
    return this.define(text);
  }

  private async define(text: string): Promise<SaveResult> {
    const c = await this.client();
    let o: P.RemoteNamed;
    try {
      o = this.kind === 'pool' ? await definePool(c, text) : await c.networkDefineXML(text);
    } catch (e) {
      if (e instanceof LibvirtError) throw new DefinitionRejectedError(e.message, e.code);
      throw e;
    }
    return { text: await this.xml(o), guestId: o.name, name: o.name };
  }
}

/** libvirt's answer to a flag the driver does not know. */
function isUnsupportedFlags(e: unknown): boolean {
  return e instanceof LibvirtError && e.code === P.ErrorCode.INVALID_ARG && /unsupported flags/i.test(e.message);
}

/** With libvirt's schema check where the daemon has it (7.8 and later), without on older ones. */
async function definePool(c: LibvirtClient, text: string): Promise<P.RemotePool> {
  try {
    return await c.storagePoolDefineXML(text, POOL_DEFINE_VALIDATE);
  } catch (e) {
    if (isUnsupportedFlags(e)) return c.storagePoolDefineXML(text, 0);
    throw e;
  }
}
