// A running QEMU guest as the trace engine needs it: guest exec, HMP monitor, domain XML.
import { LibvirtBackend } from '../backends/libvirt';
import { executorFor } from '../guest/exec';
import { Backend, BackendError, Guest } from '../model';
import type { TraceTarget } from './engine';

export function traceTargetFor(backend: Backend, guest: Guest): TraceTarget {
  if (guest.kind !== 'qemu' || !(backend instanceof LibvirtBackend))
    throw new BackendError(`"${guest.name}" is not a QEMU guest: the virtio-net TX trace needs QEMU's monitor and qemu-guest-agent`);
  if (guest.state !== 'running') throw new BackendError(`"${guest.name}" is ${guest.state}: start it first`);
  return {
    name: guest.name,
    exec: executorFor(backend, guest),
    hmp: (command) => backend.monitorCommand(guest.id, command, { timeoutMs: 30_000 }),
    domainXml: async () => (await backend.definition(guest.id)).text,
  };
}
