// The shared subset of LXD's and Incus's `/1.0` REST API that virtscope reads, typed as both servers
// answer it (checked against recorded answers in test/unit/fixtures/lxd/). Fields a newer server adds
// stay reachable through the index signatures; a feature asks `api_extensions`, never the product name.

/** Every answer has this envelope: sync (the result), async (an operation was started) or error. */
export interface LxdResponse<T> {
  type: 'sync' | 'async' | 'error';
  status?: string;
  status_code: number;
  /** For async: the operation's URL, "/1.0/operations/<uuid>". */
  operation?: string;
  error?: string;
  error_code?: number;
  metadata: T;
}

/** GET /1.0 */
export interface LxdServer {
  api_extensions: string[];
  api_status: string;
  api_version: string;
  /** "trusted" once the client certificate is trusted; "untrusted" otherwise (then most fields are missing). */
  auth: 'trusted' | 'untrusted' | string;
  auth_methods?: string[];
  public: boolean;
  config?: Record<string, string>;
  environment?: LxdServerEnvironment;
  [key: string]: unknown;
}

export interface LxdServerEnvironment {
  addresses?: string[];
  architectures?: string[];
  certificate?: string;
  certificate_fingerprint?: string;
  driver?: string;
  driver_version?: string;
  kernel?: string;
  kernel_version?: string;
  os_name?: string;
  os_version?: string;
  project?: string;
  /** "lxd" or "incus": for messages only, never to decide behaviour. */
  server?: string;
  server_name?: string;
  server_pid?: number;
  server_version?: string;
  server_clustered?: boolean;
  storage?: string;
  storage_version?: string;
  [key: string]: unknown;
}

/** GET /1.0/cluster/members/NAME */
export interface LxdClusterMember {
  server_name: string;
  url: string;
  database: boolean;
  /** "Online", "Offline", "Evacuated", "Blocked"... */
  status: string;
  /** LXD's own words about the status: "Fully operational", "No heartbeat since ...". */
  message: string;
  architecture: string;
  roles?: string[];
  failure_domain?: string;
  description?: string;
  config?: Record<string, string>;
  groups?: string[];
  [key: string]: unknown;
}

/** The part of GET /1.0/resources (per member with `?target=`) a member's load line uses. */
export interface LxdResources {
  cpu?: { total?: number };
  memory?: { used?: number; total?: number };
  [key: string]: unknown;
}

/** GET /1.0/cluster/members/NAME/state (API extension `cluster_member_state`). */
export interface LxdMemberState {
  sysinfo?: { load_averages?: number[]; total_ram?: number; free_ram?: number; processes?: number; uptime?: number };
  [key: string]: unknown;
}

export type LxdInstanceType = 'container' | 'virtual-machine';

/** GET /1.0/instances/NAME (recursion=2 adds `state`, `snapshots`, `backups`) */
export interface LxdInstance {
  name: string;
  /** "Running", "Stopped", "Frozen", "Error"... */
  status: string;
  status_code: number;
  type: LxdInstanceType | string;
  architecture: string;
  /** The cluster member it lives on (the server's name when not clustered). */
  location: string;
  project?: string;
  description?: string;
  ephemeral: boolean;
  stateful?: boolean;
  profiles: string[];
  created_at: string;
  last_used_at: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
  expanded_config?: Record<string, string>;
  expanded_devices?: Record<string, Record<string, string>>;
  state?: LxdInstanceState;
  snapshots?: LxdSnapshot[] | null;
  [key: string]: unknown;
}

/** GET /1.0/instances/NAME/state */
export interface LxdInstanceState {
  status: string;
  status_code: number;
  /** Top-level process id; 0 or -1 when stopped. */
  pid: number;
  /** -1 when LXD cannot count them (no cgroup access). */
  processes: number;
  cpu: { usage: number; [key: string]: unknown };
  memory: { usage: number; usage_peak: number; swap_usage: number; swap_usage_peak: number; total?: number; [key: string]: unknown };
  disk: Record<string, { usage: number; total?: number; [key: string]: unknown }> | null;
  network: Record<string, LxdNetworkState> | null;
  [key: string]: unknown;
}

export interface LxdNetworkState {
  addresses: { family: string; address: string; netmask: string; scope: string }[];
  counters: {
    bytes_received: number;
    bytes_sent: number;
    packets_received: number;
    packets_sent: number;
    [key: string]: number;
  };
  hwaddr: string;
  host_name: string;
  mtu: number;
  state: string;
  type: string;
}

export interface LxdSnapshot {
  name: string;
  created_at: string;
  expires_at?: string;
  stateful: boolean;
  ephemeral?: boolean;
  architecture?: string;
  config?: Record<string, string>;
  devices?: Record<string, Record<string, string>>;
  profiles?: string[];
  size?: number;
  [key: string]: unknown;
}

/** GET /1.0/operations/UUID: the background work behind an async answer. */
export interface LxdOperation {
  id: string;
  /** "task", "websocket" or "token". */
  class: string;
  description: string;
  created_at: string;
  updated_at: string;
  /** "Pending", "Running", "Success", "Failure", "Cancelled"... */
  status: string;
  status_code: number;
  /** Objects it touches, by kind: { instances: ["/1.0/instances/c1"] }. */
  resources: Record<string, string[]> | null;
  /** Progress and results: e.g. { create_instance_from_image_unpack_progress: "Unpack: 50%" }. */
  metadata: Record<string, unknown> | null;
  may_cancel: boolean;
  /** The failure, in LXD's words, when status is "Failure". */
  err: string;
  /** The member that runs it. */
  location: string;
}

/** One message of the /1.0/events websocket. */
export interface LxdEvent {
  /** "lifecycle", "operation", "logging" (and "ovn", "cluster" on newer servers). */
  type: string;
  timestamp: string;
  /** The member that emitted it. */
  location?: string;
  project?: string;
  metadata: LxdLifecycleEvent | LxdOperation | Record<string, unknown>;
}

/** The metadata of a "lifecycle" event. */
export interface LxdLifecycleEvent {
  /** "instance-started", "instance-created", "cluster-member-evacuated"... */
  action: string;
  /** The object's URL: "/1.0/instances/c1". */
  source: string;
  context?: Record<string, unknown>;
  requestor?: { username?: string; protocol?: string; address?: string };
}

export interface LxdImage {
  fingerprint: string;
  filename?: string;
  size: number;
  architecture: string;
  type: LxdInstanceType | string;
  public: boolean;
  aliases: { name: string; description: string; type?: string }[];
  properties: Record<string, string>;
  created_at: string;
  uploaded_at: string;
  last_used_at?: string;
  expires_at?: string;
  auto_update: boolean;
  cached: boolean;
  [key: string]: unknown;
}

export interface LxdProject {
  name: string;
  description: string;
  config: Record<string, string>;
  /** URLs of what uses it: "/1.0/instances/c1?project=x". */
  used_by?: string[];
  [key: string]: unknown;
}

/** What an instance can be asked to do with PUT /1.0/instances/NAME/state. */
export type LxdStateAction = 'start' | 'stop' | 'restart' | 'freeze' | 'unfreeze';
