// What a backend can do for a guest, as small interfaces features ask for, instead of testing the
// backend's class. A backend returns the ones it has (CapabilityProvider); running a program
// inside a guest comes from the guest executors for every backend.
import type { DomainStats, StatsOptions } from './backends/libvirt';
import type { GuestConsole, GuestLog, GuestShell } from './console/types';
import { executorFor, type GuestExecutor } from './guest/exec';
import type { Host } from './host/host';
import { localHost } from './host/local';
import { Backend, BackendError, DefinitionLanguage, Guest } from './model';

/** Run an argv inside the guest. */
export type GuestExec = GuestExecutor;

/** Counters of every guest of the connection in one call (libvirt bulk-stats naming). */
export interface Stats {
  all(options?: StatsOptions): Promise<DomainStats[]>;
}

/** The guest's process on its host: its cgroup is the guest's. */
export interface HostProcess {
  /** The host the process runs on (where /proc/PID and the cgroup files are). */
  readonly host: Host;
  /** The pid (QEMU, libvirt_lxc controller, container init); undefined when not running there. */
  pid(): Promise<number | undefined>;
}

/** The hypervisor's monitor of the guest (QEMU: HMP text by default, QMP JSON with hmp: false). */
export interface Monitor {
  command(command: string, opts?: { hmp?: boolean; timeoutMs?: number }): Promise<string>;
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

/** The editable definition of the connection's guests: read, validate and write them the host's way. */
export interface Definition {
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

export interface Capabilities {
  exec?: GuestExec;
  stats?: Stats;
  hostProcess?: HostProcess;
  monitor?: Monitor;
  definition?: Definition;
  /** The guest's text console (libvirt's console stream). */
  console?: GuestConsole;
  /** A login shell with a terminal inside the guest. */
  shell?: GuestShell;
  /** The guest's log, followed. */
  log?: GuestLog;
}

export type CapabilityName = keyof Capabilities;

/** A backend that says what it can do; for `guest` undefined, what it can do for the whole connection (stats, definition). */
export interface CapabilityProvider {
  capabilities(guest?: Guest): Omit<Capabilities, 'exec'>;
}

function isProvider(b: Backend): b is Backend & CapabilityProvider {
  return typeof (b as Partial<CapabilityProvider>).capabilities === 'function';
}

/** Everything `backend` can do for `guest` (or for the connection when no guest is given). */
export function capabilitiesOf(backend: Backend, guest?: Guest): Capabilities {
  if (!guest) return isProvider(backend) ? { ...backend.capabilities() } : {};
  const own = isProvider(backend) ? backend.capabilities(guest) : engineCapabilities(guest);
  // made on first use: an executor may open a client (the engine's) that most callers never need
  let exec: GuestExec | undefined | null = null;
  return Object.defineProperty({ ...own } as Capabilities, 'exec', {
    enumerable: true,
    get: () => (exec === null ? (exec = execOf(backend, guest)) : exec),
  });
}

/**
 * Backends that do not say yet (the container engines): the pid the engine reports is the
 * container's init on this machine.
 */
function engineCapabilities(guest: Guest): Omit<Capabilities, 'exec'> {
  const pid = guest.runtimeId;
  return pid ? { hostProcess: { host: localHost, pid: async () => pid } } : {};
}

function execOf(backend: Backend, guest: Guest): GuestExec | undefined {
  try {
    return executorFor(backend, guest);
  } catch {
    return undefined; // this backend cannot run programs in this guest
  }
}

/** One capability, or undefined when the backend does not have it for this guest. */
export function capability<K extends CapabilityName>(backend: Backend, guest: Guest | undefined, name: K): Capabilities[K] {
  return capabilitiesOf(backend, guest)[name];
}

const WHAT: Record<CapabilityName, string> = {
  exec: 'way to run programs inside it',
  stats: 'bulk statistics',
  hostProcess: 'process on a host virtscope can read',
  monitor: 'hypervisor monitor',
  definition: 'editable definition',
  console: 'text console',
  shell: 'way to open a shell inside it',
  log: 'log virtscope can read',
};

/** One capability; throws a BackendError saying what is missing when the backend does not have it. */
export function requireCapability<K extends CapabilityName>(backend: Backend, guest: Guest | undefined, name: K): NonNullable<Capabilities[K]> {
  const c = capability(backend, guest, name);
  if (c === undefined) throw new BackendError(`${guest ? `"${guest.name}"` : `connection "${backend.config.id}"`} has no ${WHAT[name]}`, 'ENOTSUP');
  return c as NonNullable<Capabilities[K]>;
}
