// Snapshots of one libvirt domain over RPC, each verb checked by the safety rules (snapshots/safety)
// before libvirt is called: a refusal throws a BackendError with the reason and changes nothing.
import { LibvirtClient, LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { BackendError } from '../model';
import { descendants, guestFacts, parseSnapshotXml, SnapshotInfo } from '../snapshots/model';
import { CreateRequest, planCreate, planDelete, planRevert, SnapshotContext } from '../snapshots/safety';
import type { Snapshots } from '../snapshots/snapshots';

const LONG_CALL = { timeoutMs: 10 * 60_000 };

function isNoSnapshot(e: unknown): boolean {
  return e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN_SNAPSHOT;
}

export class LibvirtSnapshots implements Snapshots {
  readonly naming = 'user' as const;

  constructor(
    private readonly client: () => Promise<LibvirtClient>,
    private readonly lookup: (c: LibvirtClient) => Promise<P.RemoteDomain>,
  ) {}

  private async dom(): Promise<{ c: LibvirtClient; dom: P.RemoteDomain }> {
    const c = await this.client();
    return { c, dom: await this.lookup(c) };
  }

  async list(): Promise<SnapshotInfo[]> {
    const { c, dom } = await this.dom();
    return this.listOn(c, dom);
  }

  private async listOn(c: LibvirtClient, dom: P.RemoteDomain): Promise<SnapshotInfo[]> {
    const snaps = await c.domainListAllSnapshots(dom, P.SnapshotListFlags.TOPOLOGICAL);
    const [infos, current] = await Promise.all([
      Promise.all(snaps.map(async (s) => parseSnapshotXml(await c.snapshotGetXMLDesc(s, 0)))),
      c.snapshotCurrent(dom).then(
        (s) => s.name,
        (e) => {
          if (isNoSnapshot(e)) return undefined;
          throw e;
        },
      ),
    ]);
    for (const i of infos) i.current = i.name === current;
    return infos;
  }

  async inspect(name: string): Promise<{ language: string; text: string }> {
    const { c, dom } = await this.dom();
    return { language: 'xml', text: await c.snapshotGetXMLDesc(await this.find(c, dom, name), 0) };
  }

  private async find(c: LibvirtClient, dom: P.RemoteDomain, name: string): Promise<P.RemoteSnapshot> {
    try {
      return await c.snapshotLookupByName(dom, name);
    } catch (e) {
      if (isNoSnapshot(e)) throw new BackendError(`snapshot "${name}" of "${dom.name}" no longer exists`, 'ENOENT');
      throw e;
    }
  }

  private async context(c: LibvirtClient, dom: P.RemoteDomain): Promise<SnapshotContext> {
    const [libVersion, st, xml, existing] = await Promise.all([c.getLibVersion(), c.domainGetState(dom), c.domainGetXMLDesc(dom, 0), this.listOn(c, dom)]);
    const running = st.state === P.DomainState.RUNNING || st.state === P.DomainState.PAUSED || st.state === P.DomainState.BLOCKED;
    return { libVersion, running, facts: guestFacts(xml), existing };
  }

  async planCreate(req: CreateRequest) {
    const { c, dom } = await this.dom();
    return planCreate(req, await this.context(c, dom));
  }

  async create(req: CreateRequest, opts: { acceptRisks?: boolean } = {}): Promise<SnapshotInfo> {
    const { c, dom } = await this.dom();
    const plan = planCreate(req, await this.context(c, dom));
    if (!plan.ok) throw new BackendError(`cannot snapshot "${dom.name}": ${plan.reason}`, 'EREFUSED');
    if (plan.risks.length && !opts.acceptRisks) throw new BackendError(`snapshot of "${dom.name}" not taken: ${plan.risks.join(' ')}`, 'ERISK');
    const snap = await c.domainSnapshotCreateXML(dom, plan.xml, plan.flags, LONG_CALL);
    const info = parseSnapshotXml(await c.snapshotGetXMLDesc(snap, 0));
    info.current = true;
    return info;
  }

  private async target(c: LibvirtClient, dom: P.RemoteDomain, name: string) {
    const ctx = await this.context(c, dom);
    const info = ctx.existing.find((s) => s.name === name);
    if (!info) throw new BackendError(`snapshot "${name}" of "${dom.name}" no longer exists`, 'ENOENT');
    return { ctx, info };
  }

  async planRevert(name: string) {
    const { c, dom } = await this.dom();
    const { ctx, info } = await this.target(c, dom, name);
    return planRevert(info, ctx);
  }

  async revert(name: string): Promise<void> {
    const { c, dom } = await this.dom();
    const { ctx, info } = await this.target(c, dom, name);
    const plan = planRevert(info, ctx);
    if (!plan.ok) throw new BackendError(`cannot revert "${dom.name}": ${plan.reason}`, 'EREFUSED');
    await c.revertToSnapshot(await this.find(c, dom, name), plan.flags, LONG_CALL);
  }

  async planDelete(name: string, withChildren: boolean) {
    const { c, dom } = await this.dom();
    const { ctx, info } = await this.target(c, dom, name);
    return planDelete(info, descendants(ctx.existing, name), withChildren, ctx);
  }

  async delete(name: string, withChildren: boolean): Promise<void> {
    const { c, dom } = await this.dom();
    const { ctx, info } = await this.target(c, dom, name);
    const snap = await this.find(c, dom, name);
    // libvirt's own view of the descendants, not only what the XML said a moment ago
    const below = withChildren ? await c.snapshotListAllChildren(snap, P.SnapshotListFlags.DESCENDANTS) : [];
    const known = descendants(ctx.existing, name);
    const all = [
      ...known,
      ...below.filter((b) => !known.some((k) => k.name === b.name)).map((b) => ctx.existing.find((s) => s.name === b.name) ?? { ...info, name: b.name }),
    ];
    const plan = planDelete(info, all, withChildren, ctx);
    if (!plan.ok) throw new BackendError(`cannot delete snapshot "${name}": ${plan.reason}`, 'EREFUSED');
    await c.snapshotDelete(snap, plan.flags, LONG_CALL);
  }
}
