// The console of a libvirt domain: DOMAIN_OPEN_CONSOLE on the connection the backend already has
// (so a remote host works the same), "safe" unless the user chose to take it over.
import type { Duplex } from 'node:stream';
import { LibvirtClient, LibvirtError } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { consoleDevices } from './devices';
import { ConsoleBusyError, type ConsoleDevice, type ConsoleGuestState, type GuestConsole } from './types';

/** libvirt's words for a console another client holds. */
function isBusy(e: unknown): e is LibvirtError {
  return e instanceof LibvirtError && e.code === P.ErrorCode.OPERATION_FAILED && /active console session/i.test(e.message);
}

/** A driver that takes no console flags (libvirt-LXC accepts only 0). */
function flagsRefused(e: unknown): boolean {
  return e instanceof LibvirtError && (e.code === P.ErrorCode.INVALID_ARG || e.code === P.ErrorCode.ARGUMENT_UNSUPPORTED) && /flag/i.test(e.message);
}

export class LibvirtConsole implements GuestConsole {
  constructor(
    private readonly client: () => Promise<LibvirtClient>,
    private readonly lookup: (c: LibvirtClient) => Promise<P.RemoteDomain>,
    private readonly name: string,
  ) {}

  async devices(): Promise<ConsoleDevice[]> {
    const c = await this.client();
    return consoleDevices(await c.domainGetXMLDesc(await this.lookup(c), 0));
  }

  async open(device: string | null, opts: { force: boolean }): Promise<Duplex> {
    const c = await this.client();
    const dom = await this.lookup(c);
    const flags = opts.force ? P.ConsoleFlags.FORCE : P.ConsoleFlags.SAFE;
    try {
      return await c.domainOpenConsole(dom, device, flags);
    } catch (e) {
      if (isBusy(e)) throw new ConsoleBusyError(this.name, e.message);
      if (!flagsRefused(e)) throw e;
    }
    // this driver has no notion of a held console: plain open
    return c.domainOpenConsole(dom, device, 0);
  }

  async state(): Promise<ConsoleGuestState> {
    const c = await this.client();
    let st: { state: number; reason: number };
    try {
      st = await c.domainGetState(await this.lookup(c));
    } catch (e) {
      if (e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN) return 'gone';
      throw e;
    }
    switch (st.state) {
      case P.DomainState.RUNNING:
      case P.DomainState.BLOCKED:
        return 'running';
      case P.DomainState.PAUSED:
      case P.DomainState.PMSUSPENDED:
        return 'paused';
      case P.DomainState.SHUTOFF:
        return st.reason === P.DomainShutoffReason.DESTROYED ? 'destroyed' : 'stopped';
      default:
        return 'stopped';
    }
  }
}
