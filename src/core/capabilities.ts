// What a backend can do for a guest, as small interfaces features ask for, instead of testing the
// backend's class. A backend returns the ones it has (CapabilityProvider), running a program
// inside a guest (its own executor) among them.
import type { DomainStats, StatsOptions } from './backends/libvirt';
import type { GuestExecutor } from './guest/exec';
import type { Snapshots } from './snapshots/snapshots';
import type { Networks, Storage } from './backends/libvirtStorage';
import type { GuestClone } from './backends/libvirtClone';
import type { GuestConsole, GuestLog, GuestShell } from './console/types';
import type { GuestGraphics } from './console/graphics';
import type { Host } from './host/host';
import { Backend, BackendError, DefinitionLanguage, Guest, Verb } from './model';

/** Run an argv inside the guest (the backend's executor for the guest's kind). */
export type GuestExec = GuestExecutor;

/** Counters of every guest of the connection in one call (libvirt bulk-stats naming). */
export interface Stats {
  all(options?: StatsOptions): Promise<DomainStats[]>;
}

/** A container's counters as the engine reports them (Docker/Podman `stats?stream=false`; the fields read). */
export interface EngineStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; online_cpus?: number; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number; rx_packets?: number; tx_packets?: number }>;
  blkio_stats?: {
    io_service_bytes_recursive?: Array<{ op: string; value: number }> | null;
    io_serviced_recursive?: Array<{ op: string; value: number }> | null;
  };
  pids_stats?: { current?: number };
}

/** One container's counters as its engine reports them (Docker/Podman stats API, one shot). */
export interface EngineStatsSource {
  of(containerId: string): Promise<EngineStats>;
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

/** Long work on a cluster: cancellable, reporting the operation's progress in the server's words. */
export interface OperationOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (text: string) => void;
}

/** An image a cluster can launch instances from. */
export interface ClusterImage {
  /** What launch takes: an alias, else the fingerprint. */
  readonly ref: string;
  readonly label: string;
  readonly description: string;
  readonly type: 'container' | 'virtual-machine';
}

/** A cluster's own verbs (LXD): placement, moves, members in and out of service. */
export interface Cluster {
  images(project?: string): Promise<ClusterImage[]>;
  /** Creates and starts an instance; `target` a member, or the cluster places it. */
  launch(
    spec: { name: string; image: string; type?: 'container' | 'virtual-machine'; target?: string; project?: string },
    opts?: OperationOptions,
  ): Promise<void>;
  /** A lifecycle verb through the operation (cancellable, with progress). */
  run(guestId: string, verb: Verb, opts?: OperationOptions): Promise<void>;
  /** Moves a (stopped) instance to another member. */
  move(guestId: string, member: string, opts?: OperationOptions): Promise<void>;
  /** Moves or stops the member's instances so it can be serviced. */
  evacuate(member: string, opts?: OperationOptions): Promise<void>;
  /** Brings an evacuated member back into service (its instances come back). */
  restore(member: string, opts?: OperationOptions): Promise<void>;
  /** A member's overview as Markdown (its load, its instances' CPU, memory, I/O); no member: a standalone server. */
  overview(member?: string, opts?: OperationOptions): Promise<string>;
}

export interface Capabilities {
  /** The cluster's own verbs (LXD), for the connection. */
  cluster?: Cluster;
  exec?: GuestExec;
  stats?: Stats;
  engineStats?: EngineStatsSource;
  hostProcess?: HostProcess;
  monitor?: Monitor;
  definition?: Definition;
  /** The guest's snapshots: list, create, revert, delete, each checked for safety first. */
  snapshots?: Snapshots;
  /** A copy of a stopped guest with its disks (new name, UUID, MACs). */
  clone?: GuestClone;
  /** The connection's storage pools and volumes. */
  storage?: Storage;
  /** The connection's virtual networks. */
  networks?: Networks;
  /** The guest's text console (libvirt's console stream). */
  console?: GuestConsole;
  /** A login shell with a terminal inside the guest. */
  shell?: GuestShell;
  /** The guest's log, followed. */
  log?: GuestLog;
  /** The guest's screen (VNC), as a byte stream for the graphical console. */
  graphics?: GuestGraphics;
}

export type CapabilityName = keyof Capabilities;

/** A backend that says what it can do; for `guest` undefined, what it can do for the whole connection (stats, definition). */
export interface CapabilityProvider {
  capabilities(guest?: Guest): Capabilities;
}

function isProvider(b: Backend): b is Backend & CapabilityProvider {
  return typeof (b as Partial<CapabilityProvider>).capabilities === 'function';
}

/** Everything `backend` can do for `guest` (or for the connection when no guest is given); nothing for a backend that does not say. */
export function capabilitiesOf(backend: Backend, guest?: Guest): Capabilities {
  return isProvider(backend) ? { ...backend.capabilities(guest) } : {};
}

/** One capability, or undefined when the backend does not have it for this guest. */
export function capability<K extends CapabilityName>(backend: Backend, guest: Guest | undefined, name: K): Capabilities[K] {
  return capabilitiesOf(backend, guest)[name];
}

const WHAT: Record<CapabilityName, string> = {
  cluster: 'cluster members',
  exec: 'way to run programs inside it',
  stats: 'bulk statistics',
  engineStats: 'container engine statistics',
  hostProcess: 'process on a host virtscope can read',
  monitor: 'hypervisor monitor',
  definition: 'editable definition',
  snapshots: 'snapshots',
  clone: 'way to clone it',
  storage: 'storage pools',
  networks: 'virtual networks',
  console: 'text console',
  shell: 'way to open a shell inside it',
  log: 'log virtscope can read',
  graphics: 'graphical console',
};

/** One capability; throws a BackendError saying what is missing when the backend does not have it. */
export function requireCapability<K extends CapabilityName>(backend: Backend, guest: Guest | undefined, name: K): NonNullable<Capabilities[K]> {
  const c = capability(backend, guest, name);
  if (c === undefined) throw new BackendError(`${guest ? `"${guest.name}"` : `connection "${backend.config.id}"`} has no ${WHAT[name]}`, 'ENOTSUP');
  return c as NonNullable<Capabilities[K]>;
}
