// A running QEMU guest as the trace engine needs it: guest exec, HMP monitor, domain XML.
import { capabilitiesOf } from '../capabilities';
import { Backend, BackendError, Guest } from '../model';
import type { TraceTarget } from './engine';

export function traceTargetFor(backend: Backend, guest: Guest): TraceTarget {
  const { exec, monitor, hostProcess } = capabilitiesOf(backend, guest);
  if (guest.kind !== 'qemu' || !monitor || !exec)
    throw new BackendError(`"${guest.name}" is not a QEMU guest: the virtio-net TX trace needs QEMU's monitor and qemu-guest-agent`);
  if (guest.state !== 'running') throw new BackendError(`"${guest.name}" is ${guest.state}: start it first`);
  return {
    name: guest.name,
    exec,
    hmp: (command) => monitor.command(command, { timeoutMs: 30_000 }),
    domainXml: async () => (await backend.definition(guest.id)).text,
    host: hostProcess?.host,
  };
}
