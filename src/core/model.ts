// The one guest model shared by every backend. No vscode import: core is plain Node.

/** What kind of guest this is; decides which verbs fit and how a definition looks. */
export type GuestKind = 'qemu' | 'libvirt-lxc' | 'lxc' | 'container' | 'lxd-container' | 'lxd-vm';

/** The kinds that share the host's kernel (the container side of a container-vs-VM comparison). */
export const CONTAINER_KINDS: ReadonlySet<GuestKind> = new Set<GuestKind>(['lxc', 'libvirt-lxc', 'container', 'lxd-container']);
export const isContainerKind = (k: string): boolean => CONTAINER_KINDS.has(k as GuestKind);

/** Normalised lifecycle state. `rawState` on the guest keeps the backend's own word. */
export type GuestState =
  | 'running'
  | 'paused' // libvirt paused, LXC frozen, Docker paused
  | 'pmsuspended'
  | 'stopped'
  | 'starting'
  | 'stopping'
  | 'crashed'
  | 'unknown';

export type Verb = 'start' | 'shutdown' | 'reboot' | 'suspend' | 'resume' | 'forceOff' | 'delete';

export const ALL_VERBS: readonly Verb[] = ['start', 'shutdown', 'reboot', 'suspend', 'resume', 'forceOff', 'delete'];

export interface Guest {
  /** Stable id within its connection: libvirt UUID, lxc-tools name, container id. */
  readonly id: string;
  readonly name: string;
  readonly kind: GuestKind;
  readonly state: GuestState;
  /** The backend's own state word (libvirt state name, lxc-info State, engine status). */
  readonly rawState: string;
  readonly vcpus?: number;
  /** Current memory in bytes (libvirt: current allocation; container: limit when set). */
  readonly memoryBytes?: number;
  readonly maxMemoryBytes?: number;
  /** Container image, where the kind has one. */
  readonly image?: string;
  /** libvirt domain id (>0 while running), container pid, … */
  readonly runtimeId?: number;
  /** Is the guest persistent (defined) or transient? libvirt only. */
  readonly persistent?: boolean;
  /** The cluster member the guest is placed on (LXD's `location`). */
  readonly location?: string;
  /** The project the guest belongs to (LXD). */
  readonly project?: string;
  /** Verbs of its kind that are absent here, each with why (shown in its tooltip). */
  readonly absentVerbs?: readonly string[];
}

/** A member of a cluster (LXD): where its guests run, and whether it answers. */
export interface ClusterMember {
  readonly name: string;
  /** online, offline, evacuated, blocked, … (normalised lower case); rawStatus keeps LXD's word. */
  readonly status: 'online' | 'offline' | 'evacuated' | 'blocked' | 'unknown';
  readonly rawStatus: string;
  /** LXD's message ("Fully operational", "No heartbeat for 30s (…)"). */
  readonly message: string;
  readonly roles: readonly string[];
  readonly failureDomain?: string;
  readonly description?: string;
  readonly url?: string;
  readonly architecture?: string;
  /** "load 0.12 0.10 0.05 · 1.2 of 3.8 GiB RAM used", or "2 CPUs · …" (LXD 5.0: resources only), when read. */
  readonly load?: string;
}

export type DefinitionLanguage = 'xml' | 'lxc-config' | 'json' | 'yaml';

export interface Definition {
  readonly language: DefinitionLanguage;
  readonly text: string;
}

/** A change pushed by a backend: a guest appeared, changed or vanished, or "relist everything". */
export type BackendEvent =
  | {
      readonly type: 'changed';
      readonly guestId?: string;
      readonly name?: string;
      readonly reason: string;
      /** Only `guestId` changed (or appeared, or vanished): re-reading that one guest is enough (LXD: hundreds of instances). */
      readonly only?: boolean;
    }
  /** Only the members' own figures changed (a load line): re-read members(), not the guests. */
  | { readonly type: 'members' }
  | { readonly type: 'disconnected'; readonly error: Error };

export type BackendType = 'libvirt' | 'lxc' | 'docker' | 'lxd';

export interface ConnectionConfig {
  /** Unique id, also shown in the tree when no label is given. */
  readonly id: string;
  readonly label?: string;
  readonly type: BackendType;
  /** libvirt: connection URI (qemu:///system, lxc:///system, test+unix:///default). */
  readonly uri?: string;
  /** libvirt/docker: explicit socket path (otherwise derived from the URI / environment). */
  readonly socketPath?: string;
  /** lxc-tools: lxcpath (-P); default is lxc's own. */
  readonly lxcPath?: string;
  /** LXD/Incus over HTTPS: https://host:8443 (the server certificate pinned by `fingerprint`). */
  readonly url?: string;
  /** LXD/Incus over HTTPS: the SHA-256 fingerprint of the server certificate, pinned when it was added. */
  readonly fingerprint?: string;
  /** LXD/Incus: the `virtscope.hosts` entry whose machine has the unix socket (reached over SSH). */
  readonly hostId?: string;
}

/** An error a backend raises that the user should read: the daemon's/engine's own message. */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly code?: number | string,
    /** How to fix it, e.g. "start libvirtd: sudo systemctl start libvirtd". */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

/**
 * A backend speaks to one host API. Implementations: LibvirtBackend (RPC protocol),
 * LxcBackend (lxc-* programs), DockerBackend (dockerode).
 */
export interface Backend {
  readonly config: ConnectionConfig;
  /** Connect (or reconnect). Rejects with a BackendError whose hint says how to fix it. */
  connect(): Promise<void>;
  close(): Promise<void>;
  list(): Promise<Guest[]>;
  /** Re-read one guest; undefined when it no longer exists. */
  get(guestId: string): Promise<Guest | undefined>;
  perform(guestId: string, verb: Verb): Promise<void>;
  definition(guestId: string): Promise<Definition>;
  /** Push-based changes. Backends without events (lxc-tools) return false and are polled. */
  subscribe(listener: (ev: BackendEvent) => void): boolean;
  /** A cluster's members as of the last list() (LXD); absent for single-host backends. */
  members?(): readonly ClusterMember[];
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function formatBytes(n: number): string {
  if (n >= GIB && n % (GIB / 4) === 0) return `${+(n / GIB).toFixed(2)} GiB`;
  if (n >= GIB) return `${(n / GIB).toFixed(1)} GiB`;
  return `${Math.round(n / MIB)} MiB`;
}

/** "running · 2 vCPU · 512 MiB" */
export function describeGuest(g: Guest): string {
  const parts: string[] = [g.state === 'unknown' ? g.rawState || 'unknown' : g.state];
  if (g.vcpus) parts.push(`${g.vcpus} vCPU`);
  // The allocation (libvirt-LXC reports current *usage* as memory, so prefer the maximum).
  const mem = g.maxMemoryBytes ?? g.memoryBytes;
  if (mem) parts.push(formatBytes(mem));
  if (g.kind === 'container' && g.image) parts.push(g.image);
  return parts.join(' · ');
}

/** Which verbs fit this guest's kind and state (menus show only these). */
export function verbsFor(g: Pick<Guest, 'kind' | 'state'>): Verb[] {
  const s = g.state;
  const v: Verb[] = [];
  if (s === 'stopped' || s === 'crashed') v.push('start');
  if (s === 'running') v.push('shutdown', 'reboot', 'suspend');
  if (s === 'paused' || s === 'pmsuspended') v.push('resume');
  if (s === 'running' || s === 'paused' || s === 'starting' || s === 'stopping' || s === 'pmsuspended') v.push('forceOff');
  if (s === 'stopped' || s === 'crashed') v.push('delete');
  if (s === 'unknown') v.push('start', 'forceOff');
  return v;
}

export const KIND_LABEL: Record<GuestKind, string> = {
  qemu: 'QEMU/KVM domains',
  'libvirt-lxc': 'libvirt-LXC domains',
  lxc: 'LXC containers',
  container: 'Containers',
  'lxd-container': 'LXD containers',
  'lxd-vm': 'LXD virtual machines',
};

const isLxd = (k: GuestKind) => k === 'lxd-container' || k === 'lxd-vm';

/** What the suspend verb is called for each kind (freeze for LXC, pause for Docker). */
export function verbLabel(verb: Verb, kind: GuestKind): string {
  // LXD's own words (lxc stop / restart / freeze)
  if (isLxd(kind))
    return { start: 'Start', shutdown: 'Stop', reboot: 'Restart', suspend: 'Freeze', resume: 'Unfreeze', forceOff: 'Force Stop', delete: 'Delete' }[verb];
  if (verb === 'suspend') return kind === 'lxc' ? 'Freeze' : kind === 'container' ? 'Pause' : 'Suspend';
  if (verb === 'resume') return kind === 'lxc' ? 'Unfreeze' : kind === 'container' ? 'Unpause' : 'Resume';
  return { start: 'Start', shutdown: 'Shut Down', reboot: 'Reboot', forceOff: 'Force Off', delete: 'Delete' }[verb];
}

/** What a delete loses, for the modal confirmation. */
export function deleteWarning(g: Guest): string {
  switch (g.kind) {
    case 'qemu':
    case 'libvirt-lxc':
      return `The definition of "${g.name}" (domain XML, snapshots metadata, NVRAM) is removed from libvirt. Disk images are kept on disk.`;
    case 'lxc':
      return `The container "${g.name}" is destroyed: its configuration and its whole root filesystem are deleted.`;
    case 'container':
      return `The container "${g.name}" and its writable layer are removed. The image and named volumes are kept.`;
    case 'lxd-container':
    case 'lxd-vm':
      return `The instance "${g.name}"${g.location ? ` on ${g.location}` : ''} is deleted with its root disk and its snapshots.`;
  }
}
