// Guest definitions as editable text: read what the host stores, write it back the way the host
// itself validates it, and never lose either side. A write is refused when the host's definition
// changed since the text was read (no silent overwrite); a write the host rejects leaves the host's
// definition exactly as it was and carries the host's own message.
//   libvirt:   backends/libvirtDefinitions.ts (inactive XML, defined with VALIDATE)
//   lxc-tools: backends/lxcDefinitions.ts (config checked by liblxc, written atomically with a backup)
//   Docker/Podman: read-only (no editable definition).
import { capability, Definition } from '../capabilities';
import { Backend } from '../model';

export type { SaveResult } from '../capabilities';
export { domainIdentity } from '../backends/libvirtDefinitions';
export { DefinitionConflictError, DefinitionRejectedError, GuestExistsError } from './errors';

/** The editable definitions of a connection (the Definition capability). */
export type EditableDefinitions = Definition;

/** The editable definitions of a backend, or undefined when its guests are read-only (Docker/Podman). */
export function editableDefinitions(backend: Backend): EditableDefinitions | undefined {
  return capability(backend, undefined, 'definition');
}
