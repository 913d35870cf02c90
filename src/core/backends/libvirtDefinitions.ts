// libvirt's editable definitions: the inactive domain XML (VIR_DOMAIN_XML_INACTIVE|SECURE, as
// `virsh edit`), saved with virDomainDefineXMLFlags(VALIDATE): libvirt checks it against its
// RELAX NG schema, and a write it rejects changes nothing.
import type { Definition, SaveResult } from '../capabilities';
import { checkBaseline, DefinitionRejectedError, GuestExistsError } from '../editing/errors';
import { LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import type { LibvirtBackend } from './libvirt';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function decodeXmlText(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
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

export class LibvirtDefinitions implements Definition {
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
      for (const [how, key] of [
        ['name', name],
        ['UUID', uuid],
      ] as const) {
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
