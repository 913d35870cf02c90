// libvirt RPC protocol: program/procedure numbers, constants and the wire structures
// virtscope uses. Numbers and layouts follow libvirt's src/rpc/virnetprotocol.x,
// src/rpc/virkeepaliveprotocol.x, src/remote/remote_protocol.x and qemu_protocol.x,
// plus the public enums of libvirt-domain.h / virterror.h they refer to.

import { StringCache, XdrReader, XdrWriter, XdrError } from './xdr';

// ---- virnetprotocol.x ---------------------------------------------------------------

/** Initial message buffer size; larger messages grow up to VIR_NET_MESSAGE_MAX. */
export const VIR_NET_MESSAGE_INITIAL = 65536;
/** Maximum total serialised message (header + payload), not counting the length word. */
export const VIR_NET_MESSAGE_MAX = 16777216;
export const VIR_NET_MESSAGE_HEADER_MAX = 24;
export const VIR_NET_MESSAGE_PAYLOAD_MAX = 16777192;
/** Size of the length word that precedes every message; it counts itself. */
export const VIR_NET_MESSAGE_LEN_MAX = 4;
export const VIR_NET_MESSAGE_STRING_MAX = 4194304;

export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
} as const;

export const MessageStatus = {
  OK: 0,
  ERROR: 1,
  CONTINUE: 2,
} as const;

export interface MessageHeader {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export function encodeHeader(w: XdrWriter, h: MessageHeader): void {
  w.uint(h.prog).uint(h.vers).int(h.proc).int(h.type).uint(h.serial).int(h.status);
}

export function decodeHeader(r: XdrReader): MessageHeader {
  return {
    prog: r.uint('header prog'),
    vers: r.uint('header vers'),
    proc: r.int('header proc'),
    type: r.int('header type'),
    serial: r.uint('header serial'),
    status: r.int('header status'),
  };
}

// ---- programs -----------------------------------------------------------------------

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
export const QEMU_PROGRAM = 0x20008087;
export const QEMU_PROTOCOL_VERSION = 1;
export const LXC_PROGRAM = 0x00068000;
export const LXC_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;

export const KeepaliveProc = { PING: 1, PONG: 2 } as const;

export const QemuProc = {
  DOMAIN_MONITOR_COMMAND: 1,
  DOMAIN_ATTACH: 2,
  DOMAIN_AGENT_COMMAND: 3,
} as const;

/** virDomainQemuMonitorCommandFlags (libvirt-qemu.h): HMP = the command is human monitor text, not QMP JSON. */
export const QemuMonitorCommandFlags = { DEFAULT: 0, HMP: 1 } as const;

/** remote_procedure: the subset virtscope calls or receives. */
export const Proc = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  CONNECT_GET_TYPE: 3,
  CONNECT_GET_VERSION: 4,
  DOMAIN_CREATE: 9,
  DOMAIN_DEFINE_XML: 11,
  DOMAIN_DESTROY: 12,
  DOMAIN_GET_XML_DESC: 14,
  DOMAIN_GET_INFO: 16,
  DOMAIN_LOOKUP_BY_NAME: 23,
  DOMAIN_LOOKUP_BY_UUID: 24,
  DOMAIN_REBOOT: 27,
  DOMAIN_RESUME: 28,
  DOMAIN_SHUTDOWN: 33,
  DOMAIN_SUSPEND: 34,
  DOMAIN_UNDEFINE: 35,
  CONNECT_GET_HOSTNAME: 59,
  CONNECT_SUPPORTS_FEATURE: 60,
  DOMAIN_BLOCK_STATS: 64,
  DOMAIN_INTERFACE_STATS: 65,
  AUTH_LIST: 66,
  AUTH_SASL_INIT: 67,
  AUTH_POLKIT: 70,
  DOMAIN_EVENT_LIFECYCLE: 107,
  CONNECT_GET_URI: 110,
  DOMAIN_IS_ACTIVE: 150,
  DOMAIN_IS_PERSISTENT: 151,
  CONNECT_GET_LIB_VERSION: 157,
  DOMAIN_MEMORY_STATS: 159,
  DOMAIN_OPEN_CONSOLE: 201,
  DOMAIN_GET_STATE: 212,
  DOMAIN_UNDEFINE_FLAGS: 231,
  DOMAIN_PM_WAKEUP: 267,
  CONNECT_LIST_ALL_DOMAINS: 273,
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: 317,
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: 318,
  DOMAIN_EVENT_CALLBACK_REBOOT: 319,
  CONNECT_GET_ALL_DOMAIN_STATS: 344,
  DOMAIN_DEFINE_XML_FLAGS: 350,
  CONNECT_EVENT_CONNECTION_CLOSED: 362,
  // storage-pool and network events
  CONNECT_NETWORK_EVENT_REGISTER_ANY: 313,
  CONNECT_NETWORK_EVENT_DEREGISTER_ANY: 314,
  NETWORK_EVENT_LIFECYCLE: 315,
  CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY: 368,
  CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY: 369,
  STORAGE_POOL_EVENT_LIFECYCLE: 370,
  STORAGE_POOL_EVENT_REFRESH: 373,
  // networks
  NETWORK_CREATE: 39,
  NETWORK_CREATE_XML: 40,
  NETWORK_DEFINE_XML: 41,
  NETWORK_DESTROY: 42,
  NETWORK_GET_XML_DESC: 43,
  NETWORK_GET_AUTOSTART: 44,
  NETWORK_GET_BRIDGE_NAME: 45,
  NETWORK_LOOKUP_BY_NAME: 46,
  NETWORK_SET_AUTOSTART: 48,
  NETWORK_UNDEFINE: 49,
  NETWORK_IS_ACTIVE: 152,
  CONNECT_LIST_ALL_NETWORKS: 283,
  NETWORK_GET_DHCP_LEASES: 341,
  // storage
  STORAGE_POOL_DEFINE_XML: 77,
  STORAGE_POOL_CREATE: 78,
  STORAGE_POOL_BUILD: 79,
  STORAGE_POOL_DESTROY: 80,
  STORAGE_POOL_DELETE: 81,
  STORAGE_POOL_UNDEFINE: 82,
  STORAGE_POOL_REFRESH: 83,
  STORAGE_POOL_LOOKUP_BY_NAME: 84,
  STORAGE_POOL_GET_INFO: 87,
  STORAGE_POOL_GET_XML_DESC: 88,
  STORAGE_POOL_GET_AUTOSTART: 89,
  STORAGE_POOL_SET_AUTOSTART: 90,
  STORAGE_VOL_CREATE_XML: 93,
  STORAGE_VOL_DELETE: 94,
  STORAGE_VOL_LOOKUP_BY_NAME: 95,
  STORAGE_VOL_LOOKUP_BY_PATH: 97,
  STORAGE_VOL_GET_INFO: 98,
  STORAGE_VOL_GET_XML_DESC: 99,
  STORAGE_VOL_GET_PATH: 100,
  STORAGE_VOL_CREATE_XML_FROM: 125,
  STORAGE_POOL_IS_ACTIVE: 154,
  CONNECT_LIST_ALL_STORAGE_POOLS: 281,
  STORAGE_POOL_LIST_ALL_VOLUMES: 282,
  /** Stream procedures: the volume's bytes flow as VIR_NET_STREAM packets (writestream / readstream). */
  STORAGE_VOL_UPLOAD: 208,
  STORAGE_VOL_DOWNLOAD: 209,
  // snapshots
  DOMAIN_SNAPSHOT_CREATE_XML: 185,
  DOMAIN_SNAPSHOT_GET_XML_DESC: 186,
  DOMAIN_SNAPSHOT_LOOKUP_BY_NAME: 189,
  DOMAIN_HAS_CURRENT_SNAPSHOT: 190,
  DOMAIN_SNAPSHOT_CURRENT: 191,
  DOMAIN_REVERT_TO_SNAPSHOT: 192,
  DOMAIN_SNAPSHOT_DELETE: 193,
  DOMAIN_SNAPSHOT_GET_PARENT: 244,
  DOMAIN_LIST_ALL_SNAPSHOTS: 274,
  DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN: 275,
} as const;

const PROC_NAMES = new Map<number, string>(Object.entries(Proc).map(([k, v]) => [v, k]));
const QEMU_PROC_NAMES = new Map<number, string>(Object.entries(QemuProc).map(([k, v]) => [v, k]));

/** "CONNECT_LIST_ALL_DOMAINS (273)" for error messages. */
export function procName(prog: number, proc: number): string {
  if (prog === REMOTE_PROGRAM) return `${PROC_NAMES.get(proc) ?? 'remote proc'} (${proc})`;
  if (prog === QEMU_PROGRAM) return `QEMU_${QEMU_PROC_NAMES.get(proc) ?? 'PROC'} (${proc})`;
  if (prog === KEEPALIVE_PROGRAM)
    return proc === KeepaliveProc.PING ? 'KEEPALIVE_PING' : proc === KeepaliveProc.PONG ? 'KEEPALIVE_PONG' : `keepalive proc ${proc}`;
  return `program 0x${prog.toString(16)} proc ${proc}`;
}

// ---- limits from remote_protocol.x --------------------------------------------------

export const REMOTE_STRING_MAX = 4194304;
export const REMOTE_DOMAIN_LIST_MAX = 16384;
export const REMOTE_AUTH_TYPE_LIST_MAX = 20;
export const REMOTE_DOMAIN_MEMORY_STATS_MAX = 1024;
export const REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX = 4096;
export const VIR_UUID_BUFLEN = 16;
export const REMOTE_DOMAIN_SNAPSHOT_LIST_MAX = 1024;
export const REMOTE_NETWORK_LIST_MAX = 16384;
export const REMOTE_STORAGE_POOL_LIST_MAX = 4096;
export const REMOTE_STORAGE_VOL_LIST_MAX = 16384;
export const REMOTE_NETWORK_DHCP_LEASES_MAX = 65536;

// ---- enums --------------------------------------------------------------------------

export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;

/** virDomainState */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** The words virsh prints for each virDomainState. */
export const DOMAIN_STATE_NAMES = ['no state', 'running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended'];

export const DomainPausedReason = {
  UNKNOWN: 0,
  USER: 1,
  MIGRATION: 2,
  SAVE: 3,
  DUMP: 4,
  IOERROR: 5,
  WATCHDOG: 6,
  FROM_SNAPSHOT: 7,
  SHUTTING_DOWN: 8,
  SNAPSHOT: 9,
  CRASHED: 10,
  STARTING_UP: 11,
  POSTCOPY: 12,
  POSTCOPY_FAILED: 13,
  API_ERROR: 14,
} as const;

export const DomainShutoffReason = {
  UNKNOWN: 0,
  SHUTDOWN: 1,
  DESTROYED: 2,
  CRASHED: 3,
  MIGRATED: 4,
  SAVED: 5,
  FAILED: 6,
  FROM_SNAPSHOT: 7,
  DAEMON: 8,
} as const;

/** virDomainEventID */
export const DomainEventId = {
  LIFECYCLE: 0,
  REBOOT: 1,
  RTC_CHANGE: 2,
  WATCHDOG: 3,
  IO_ERROR: 4,
  GRAPHICS: 5,
  IO_ERROR_REASON: 6,
  CONTROL_ERROR: 7,
  BLOCK_JOB: 8,
  DISK_CHANGE: 9,
  TRAY_CHANGE: 10,
  PMWAKEUP: 11,
  PMSUSPEND: 12,
  BALLOON_CHANGE: 13,
  PMSUSPEND_DISK: 14,
  DEVICE_REMOVED: 15,
  BLOCK_JOB_2: 16,
  TUNABLE: 17,
  AGENT_LIFECYCLE: 18,
  DEVICE_ADDED: 19,
} as const;

/** virNetworkEventID and virStoragePoolEventID: lifecycle is 0 for both. */
export const ObjectEventId = { LIFECYCLE: 0 } as const;

/** virStoragePoolEventLifecycleType; virNetworkEventLifecycleType is its first four. */
export const OBJECT_EVENT_NAMES = ['defined', 'undefined', 'started', 'stopped', 'created', 'deleted'];

/** virDomainEventType (lifecycle) */
export const LifecycleEvent = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

export const LIFECYCLE_EVENT_NAMES = ['defined', 'undefined', 'started', 'suspended', 'resumed', 'stopped', 'shutdown', 'pmsuspended', 'crashed'];

/** virTypedParameterType */
export const TypedParamType = {
  INT: 1,
  UINT: 2,
  LLONG: 3,
  ULLONG: 4,
  DOUBLE: 5,
  BOOLEAN: 6,
  STRING: 7,
} as const;

/** virDomainStatsTypes */
export const DomainStatsType = {
  STATE: 1 << 0,
  CPU_TOTAL: 1 << 1,
  BALLOON: 1 << 2,
  VCPU: 1 << 3,
  INTERFACE: 1 << 4,
  BLOCK: 1 << 5,
  PERF: 1 << 6,
  IOTHREAD: 1 << 7,
  MEMORY: 1 << 8,
  DIRTYRATE: 1 << 9,
  VM: 1 << 10,
} as const;

/** virConnectGetAllDomainStatsFlags */
export const GetAllDomainStatsFlags = {
  ACTIVE: 1 << 0,
  INACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  RUNNING: 1 << 4,
  PAUSED: 1 << 5,
  SHUTOFF: 1 << 6,
  OTHER: 1 << 7,
  NOWAIT: 1 << 29,
  BACKING: 1 << 30,
  // 1 << 31 does not fit a JS int32 bit operation; keep it unsigned.
  ENFORCE_STATS: 0x80000000,
} as const;

/** virConnectListAllDomainsFlags */
export const ListAllDomainsFlags = {
  ACTIVE: 1 << 0,
  INACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  RUNNING: 1 << 4,
  PAUSED: 1 << 5,
  SHUTOFF: 1 << 6,
  OTHER: 1 << 7,
} as const;

/** virDomainUndefineFlagsValues */
export const UndefineFlags = {
  MANAGED_SAVE: 1 << 0,
  SNAPSHOTS_METADATA: 1 << 1,
  NVRAM: 1 << 2,
  KEEP_NVRAM: 1 << 3,
  CHECKPOINTS_METADATA: 1 << 4,
  TPM: 1 << 5,
  KEEP_TPM: 1 << 6,
} as const;

/** virDomainConsoleFlags: FORCE takes the console over from another client; SAFE refuses when it is held. */
export const ConsoleFlags = { FORCE: 1, SAFE: 2 } as const;

/**
 * Largest data payload of one stream packet: what libvirt's own client and daemon put in one
 * (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX), which every daemon version accepts.
 */
export const STREAM_DATA_MAX = 262144;

/** virDomainXMLFlags */
export const DomainXmlFlags = { SECURE: 1, INACTIVE: 2, UPDATE_CPU: 4, MIGRATABLE: 8 } as const;

/** virDomainDefineFlags */
export const DefineFlags = { VALIDATE: 1 } as const;

/** virDomainMemoryStatTags, named as the bulk-stats "balloon.*" fields. */
export const MEMORY_STAT_NAMES = [
  'swap_in',
  'swap_out',
  'major_fault',
  'minor_fault',
  'unused',
  'available',
  'current', // ACTUAL_BALLOON
  'rss',
  'usable',
  'last-update',
  'disk_caches',
  'hugetlb_pgalloc',
  'hugetlb_pgfail',
];
export const VIR_DOMAIN_MEMORY_STAT_NR = MEMORY_STAT_NAMES.length;

/** virErrorNumber values virtscope reacts to. */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  NO_NETWORK: 43,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  NO_DOMAIN_SNAPSHOT: 72,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
} as const;

// ---- structures ---------------------------------------------------------------------

/** remote_nonnull_domain */
export interface RemoteDomain {
  readonly name: string;
  /** 16 raw bytes. */
  readonly uuid: Buffer;
  /** >0 while running, -1 when inactive. */
  readonly id: number;
}

/** Smallest encoding of a remote_nonnull_domain: empty name + uuid + id. */
export const MIN_DOMAIN_BYTES = 4 + VIR_UUID_BUFLEN + 4;
/** Smallest encoding of a remote_typed_param: empty field + type + 4-byte value. */
export const MIN_TYPED_PARAM_BYTES = 4 + 4 + 4;

export function encodeDomain(w: XdrWriter, d: RemoteDomain): void {
  w.string(d.name, REMOTE_STRING_MAX).fixedOpaque(d.uuid, VIR_UUID_BUFLEN).int(d.id);
}

export function decodeDomain(r: XdrReader): RemoteDomain {
  const name = r.string(REMOTE_STRING_MAX, 'domain name');
  const uuid = r.fixedOpaque(VIR_UUID_BUFLEN, 'domain uuid');
  const id = r.int('domain id');
  return { name, uuid, id };
}

/**
 * Domains by position in a reply, like StringCache: the object decoded last time at `slot` when its
 * encoding (name, uuid, id) is byte for byte the same. Bulk stats name the same domains in the same
 * order every tick; this keeps one name string, uuid buffer and object per domain instead of three
 * new ones per domain per tick. The objects are shared: callers must not change them (they are frozen).
 */
export class DomainCache {
  private readonly bytes: Buffer[] = [];
  private readonly doms: RemoteDomain[] = [];

  decode(r: XdrReader, slot: number): RemoteDomain {
    const nameLen = r.peekUint();
    if (nameLen === undefined || nameLen > REMOTE_STRING_MAX) return decodeDomain(r); // its errors
    const n = 4 + nameLen + ((4 - (nameLen & 3)) & 3) + VIR_UUID_BUFLEN + 4;
    const known = this.bytes[slot];
    if (known !== undefined && known.length === n && r.startsWith(known)) {
      r.skip(n);
      return this.doms[slot];
    }
    if (n > r.remaining) return decodeDomain(r);
    const raw = r.peekCopy(n);
    const dom = Object.freeze(decodeDomain(r));
    this.bytes[slot] = raw;
    this.doms[slot] = dom;
    return dom;
  }
}

const HEX_DIGIT = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));
/** Where each byte's two hex digits go in the 36-character form; the rest stays '-'. */
const UUID_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const uuidChars = new Array<number>(36).fill('-'.charCodeAt(0));

/** 8-4-4-4-12 lower-case hex, made as one string (not ~20 partial ones: it runs per domain per tick). */
export function uuidToString(u: Uint8Array): string {
  if (u.length !== VIR_UUID_BUFLEN) throw new XdrError(`a UUID has ${VIR_UUID_BUFLEN} bytes, not ${u.length}`);
  for (let i = 0; i < VIR_UUID_BUFLEN; i++) {
    uuidChars[UUID_AT[i]] = HEX_DIGIT[u[i] >> 4];
    uuidChars[UUID_AT[i] + 1] = HEX_DIGIT[u[i] & 15];
  }
  return String.fromCharCode.apply(null, uuidChars);
}

export function uuidFromString(s: string): Buffer {
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new XdrError(`not a UUID: ${JSON.stringify(s)}`);
  return Buffer.from(hex, 'hex');
}

export type TypedParamValue = number | boolean | string;

export interface TypedParam {
  readonly field: string;
  readonly type: number;
  /** LLONG/ULLONG are numbers: exact up to 2^53. */
  readonly value: TypedParamValue;
}

interface TypedParamCodec {
  write(w: XdrWriter, v: TypedParamValue): void;
  /** `field` only names the value in an error message. */
  read(r: XdrReader, field: string): TypedParamValue;
}

const VALUE_OF = 'value of typed parameter';

/** remote_typed_param_value: one codec per union arm. */
const TYPED_PARAM_CODECS: Record<number, TypedParamCodec> = {
  [TypedParamType.INT]: { write: (w, v) => w.int(v as number), read: (r, f) => r.int(VALUE_OF, f) },
  [TypedParamType.UINT]: { write: (w, v) => w.uint(v as number), read: (r, f) => r.uint(VALUE_OF, f) },
  [TypedParamType.LLONG]: { write: (w, v) => w.hyper(v as number), read: (r, f) => r.hyperNumber(VALUE_OF, f) },
  [TypedParamType.ULLONG]: { write: (w, v) => w.uhyper(v as number), read: (r, f) => r.uhyperNumber(VALUE_OF, f) },
  [TypedParamType.DOUBLE]: { write: (w, v) => w.double(v as number), read: (r, f) => r.double(VALUE_OF, f) },
  [TypedParamType.BOOLEAN]: { write: (w, v) => w.int(v ? 1 : 0), read: (r, f) => r.int(VALUE_OF, f) !== 0 },
  [TypedParamType.STRING]: { write: (w, v) => w.string(String(v), REMOTE_STRING_MAX), read: (r, f) => r.string(REMOTE_STRING_MAX, VALUE_OF, f) },
};

export function encodeTypedParam(w: XdrWriter, p: TypedParam): void {
  const codec = TYPED_PARAM_CODECS[p.type];
  if (!codec) throw new XdrError(`unknown typed parameter type ${p.type} for ${p.field}`);
  w.string(p.field, REMOTE_STRING_MAX).int(p.type);
  codec.write(w, p.value);
}

/** The codec of a typed parameter's type (read at `at`), or an error naming the field. */
function typedParamCodec(type: number, field: string, at: number): TypedParamCodec {
  const codec = TYPED_PARAM_CODECS[type];
  if (!codec) throw new XdrError(`unknown typed parameter type ${type} for ${field} at offset ${at}`);
  return codec;
}

export function decodeTypedParam(r: XdrReader): TypedParam {
  const field = r.string(REMOTE_STRING_MAX, 'typed parameter field');
  const at = r.offset;
  const type = r.int('type of typed parameter', field);
  return { field, type, value: typedParamCodec(type, field, at).read(r, field) };
}

export function decodeTypedParams(r: XdrReader, max: number, what = 'typed parameters'): TypedParam[] {
  return r.array((x) => decodeTypedParam(x), max, MIN_TYPED_PARAM_BYTES, what);
}

/** Typed parameters as a plain record: field → value. */
export type TypedParams = Record<string, TypedParamValue>;

/** Names of bulk-stats parameters, by position in a record (see StringCache). */
const STATS_FIELDS = new StringCache();

/**
 * typedParamsToRecord(decodeTypedParams(…)) in one pass, without the intermediate objects, and
 * with the field names from `names` (the same strings record after record). Same checks and errors.
 */
export function decodeTypedParamsRecord(r: XdrReader, max: number, what: string, subject?: string, names = STATS_FIELDS): TypedParams {
  const n = r.count(what, max, MIN_TYPED_PARAM_BYTES, subject);
  const out: TypedParams = {};
  for (let i = 0; i < n; i++) {
    const field = r.cachedString(REMOTE_STRING_MAX, names, i, 'typed parameter field');
    const at = r.offset;
    const type = r.int('type of typed parameter', field);
    out[field] = typedParamCodec(type, field, at).read(r, field);
  }
  return out;
}

export function typedParamsToRecord(params: readonly TypedParam[]): TypedParams {
  const out: TypedParams = {};
  for (const p of params) out[p.field] = p.value;
  return out;
}

/** remote_error, as the daemon sent it. */
export interface RemoteError {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  dom: RemoteDomain | null;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
}

export function decodeRemoteError(r: XdrReader): RemoteError {
  const optStr = (what: string) => r.optional((x) => x.string(REMOTE_STRING_MAX, what), what);
  const code = r.int('error code');
  const domain = r.int('error domain');
  const message = optStr('error message');
  const level = r.int('error level');
  const dom = r.optional((x) => decodeDomain(x), 'error domain object');
  const str1 = optStr('error str1');
  const str2 = optStr('error str2');
  const str3 = optStr('error str3');
  const int1 = r.int('error int1');
  const int2 = r.int('error int2');
  // remote_network net (unused): name + uuid
  r.optional((x) => {
    x.string(REMOTE_STRING_MAX, 'error network name');
    x.fixedOpaque(VIR_UUID_BUFLEN, 'error network uuid');
    return true;
  }, 'error network');
  return { code, domain, message, level, dom, str1, str2, str3, int1, int2 };
}

export function encodeRemoteError(w: XdrWriter, e: Partial<RemoteError> & { code: number; message: string | null }): void {
  const optStr = (s: string | null | undefined) => w.optional(s, (x, v) => x.string(v, REMOTE_STRING_MAX));
  w.int(e.code).int(e.domain ?? 0);
  optStr(e.message);
  w.int(e.level ?? 2);
  w.optional(e.dom, (x, d) => encodeDomain(x, d));
  optStr(e.str1);
  optStr(e.str2);
  optStr(e.str3);
  w.int(e.int1 ?? 0).int(e.int2 ?? 0);
  w.uint(0); // net
}

/** remote_domain_get_info_ret */
export interface DomainInfo {
  state: number;
  /** KiB */
  maxMem: number;
  /** KiB */
  memory: number;
  nrVirtCpu: number;
  /** nanoseconds */
  cpuTime: number;
}

/** remote_domain_open_console_args: the domain, the device alias (null: the first console), flags. */
export interface OpenConsoleArgs {
  readonly dom: RemoteDomain;
  readonly devName: string | null;
  readonly flags: number;
}

export function encodeOpenConsoleArgs(w: XdrWriter, a: OpenConsoleArgs): void {
  encodeDomain(w, a.dom);
  w.optional(a.devName, (x, v) => x.string(v, REMOTE_STRING_MAX));
  w.uint(a.flags);
}

export function decodeOpenConsoleArgs(r: XdrReader): OpenConsoleArgs {
  const dom = decodeDomain(r);
  const devName = r.optional((x) => x.string(REMOTE_STRING_MAX, 'dev_name'), 'dev_name');
  return { dom, devName, flags: r.uint('flags') };
}

export function decodeDomainInfo(r: XdrReader): DomainInfo {
  return {
    state: r.uint('info state'),
    maxMem: r.uhyperNumber('info maxMem'),
    memory: r.uhyperNumber('info memory'),
    nrVirtCpu: r.uint('info nrVirtCpu'),
    cpuTime: r.uhyperNumber('info cpuTime'),
  };
}

export function encodeDomainInfo(w: XdrWriter, i: DomainInfo): void {
  w.uint(i.state).uhyper(i.maxMem).uhyper(i.memory).uint(i.nrVirtCpu).uhyper(i.cpuTime);
}

/** remote_connect_list_all_domains_ret */
export function decodeListAllDomains(r: XdrReader): RemoteDomain[] {
  const doms = r.array((x) => decodeDomain(x), REMOTE_DOMAIN_LIST_MAX, MIN_DOMAIN_BYTES, 'domain list');
  r.uint('domain count');
  return doms;
}

export function encodeListAllDomains(w: XdrWriter, doms: readonly RemoteDomain[]): void {
  w.array(doms, (x, d) => encodeDomain(x, d), REMOTE_DOMAIN_LIST_MAX).uint(doms.length);
}

/** remote_domain_stats_record */
export interface DomainStatsRecord {
  readonly dom: RemoteDomain;
  readonly params: TypedParams;
}

/** `domains`: the caller's DomainCache (a client's own), so replies of other connections do not evict its domains. */
export function decodeAllDomainStats(r: XdrReader, domains?: DomainCache): DomainStatsRecord[] {
  return r.array(
    (x, i) => {
      const dom = domains ? domains.decode(x, i) : decodeDomain(x);
      const params = decodeTypedParamsRecord(x, REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX, 'stats of', dom.name);
      return { dom, params };
    },
    REMOTE_DOMAIN_LIST_MAX,
    MIN_DOMAIN_BYTES + 4,
    'domain stats records',
  );
}

export function encodeAllDomainStats(w: XdrWriter, records: readonly { dom: RemoteDomain; params: readonly TypedParam[] }[]): void {
  w.array(
    records,
    (x, rec) => {
      encodeDomain(x, rec.dom);
      x.array(rec.params, (y, p) => encodeTypedParam(y, p), REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX);
    },
    REMOTE_DOMAIN_LIST_MAX,
  );
}

export interface MemoryStat {
  tag: number;
  val: number;
}

export function decodeMemoryStats(r: XdrReader): MemoryStat[] {
  return r.array((x) => ({ tag: x.int('memory stat tag'), val: x.uhyperNumber('memory stat value') }), REMOTE_DOMAIN_MEMORY_STATS_MAX, 12, 'memory stats');
}

export interface BlockStats {
  rdReq: number;
  rdBytes: number;
  wrReq: number;
  wrBytes: number;
  errs: number;
}

export function decodeBlockStats(r: XdrReader): BlockStats {
  return {
    rdReq: r.hyperNumber('rd_req'),
    rdBytes: r.hyperNumber('rd_bytes'),
    wrReq: r.hyperNumber('wr_req'),
    wrBytes: r.hyperNumber('wr_bytes'),
    errs: r.hyperNumber('errs'),
  };
}

export interface InterfaceStats {
  rxBytes: number;
  rxPackets: number;
  rxErrs: number;
  rxDrop: number;
  txBytes: number;
  txPackets: number;
  txErrs: number;
  txDrop: number;
}

export function decodeInterfaceStats(r: XdrReader): InterfaceStats {
  return {
    rxBytes: r.hyperNumber('rx_bytes'),
    rxPackets: r.hyperNumber('rx_packets'),
    rxErrs: r.hyperNumber('rx_errs'),
    rxDrop: r.hyperNumber('rx_drop'),
    txBytes: r.hyperNumber('tx_bytes'),
    txPackets: r.hyperNumber('tx_packets'),
    txErrs: r.hyperNumber('tx_errs'),
    txDrop: r.hyperNumber('tx_drop'),
  };
}

/** remote_domain_event_callback_lifecycle_msg */
export interface LifecycleEventMsg {
  readonly callbackID: number;
  readonly dom: RemoteDomain;
  /** LifecycleEvent.* */
  readonly event: number;
  readonly detail: number;
}

export function decodeLifecycleEventMsg(r: XdrReader): LifecycleEventMsg {
  const callbackID = r.int('callbackID');
  const dom = decodeDomain(r);
  const event = r.int('lifecycle event');
  const detail = r.int('lifecycle detail');
  return { callbackID, dom, event, detail };
}

export function encodeLifecycleEventMsg(w: XdrWriter, m: LifecycleEventMsg): void {
  w.int(m.callbackID);
  encodeDomain(w, m.dom);
  w.int(m.event).int(m.detail);
}

/** remote_network_event_lifecycle_msg and remote_storage_pool_event_lifecycle_msg: the same layout. */
export interface ObjectLifecycleMsg {
  readonly callbackID: number;
  /** remote_nonnull_network or remote_nonnull_storage_pool */
  readonly object: RemoteNamed;
  /** OBJECT_EVENT_NAMES index */
  readonly event: number;
  readonly detail: number;
}

export function decodeObjectLifecycleMsg(r: XdrReader, what: string): ObjectLifecycleMsg {
  const callbackID = r.int('callbackID');
  const object = decodeNamed(r, what);
  const event = r.int(`${what} event`);
  return { callbackID, object, event, detail: r.int(`${what} event detail`) };
}

export function encodeObjectLifecycleMsg(w: XdrWriter, m: ObjectLifecycleMsg): void {
  w.int(m.callbackID);
  encodeNamed(w, m.object);
  w.int(m.event).int(m.detail);
}

export function decodeAuthList(r: XdrReader): number[] {
  return r.array((x) => x.int('auth type'), REMOTE_AUTH_TYPE_LIST_MAX, 4, 'auth type list');
}

/** Lifecycle event detail words, for readable change reasons. */
const LIFECYCLE_DETAIL_NAMES: readonly (readonly string[])[] = [
  ['added', 'updated', 'renamed', 'from snapshot'],
  ['removed', 'renamed'],
  ['booted', 'migrated', 'restored', 'from snapshot', 'wakeup', 'recreated'],
  ['paused', 'migrated', 'I/O error', 'watchdog', 'restored', 'from snapshot', 'API error', 'postcopy', 'postcopy failed'],
  ['unpaused', 'migrated', 'from snapshot', 'postcopy', 'postcopy failed'],
  ['shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot', 'daemon'],
  ['finished', 'guest', 'host'],
  ['memory', 'disk'],
  ['panicked', 'crashloaded'],
];

/** "stopped (destroyed)" */
export function describeLifecycleEvent(event: number, detail: number): string {
  const name = LIFECYCLE_EVENT_NAMES[event] ?? `event ${event}`;
  const d = LIFECYCLE_DETAIL_NAMES[event]?.[detail];
  return d ? `${name} (${d})` : name;
}

// ---- snapshots (libvirt-domain-snapshot.h, remote_protocol.x) ------------------------

/** virDomainSnapshotCreateFlags */
export const SnapshotCreateFlags = {
  REDEFINE: 1 << 0,
  CURRENT: 1 << 1,
  NO_METADATA: 1 << 2,
  HALT: 1 << 3,
  DISK_ONLY: 1 << 4,
  REUSE_EXT: 1 << 5,
  QUIESCE: 1 << 6,
  ATOMIC: 1 << 7,
  LIVE: 1 << 8,
  VALIDATE: 1 << 9,
} as const;

/** virDomainSnapshotListFlags (ROOTS and DESCENDANTS share bit 0: which one depends on the call). */
export const SnapshotListFlags = {
  ROOTS: 1 << 0,
  DESCENDANTS: 1 << 0,
  METADATA: 1 << 1,
  LEAVES: 1 << 2,
  NO_LEAVES: 1 << 3,
  NO_METADATA: 1 << 4,
  INACTIVE: 1 << 5,
  ACTIVE: 1 << 6,
  DISK_ONLY: 1 << 7,
  INTERNAL: 1 << 8,
  EXTERNAL: 1 << 9,
  TOPOLOGICAL: 1 << 10,
} as const;

/** virDomainSnapshotXMLFlags */
export const SnapshotXmlFlags = { SECURE: 1 << 0 } as const;

/** virDomainSnapshotRevertFlags */
export const SnapshotRevertFlags = { RUNNING: 1 << 0, PAUSED: 1 << 1, FORCE: 1 << 2, RESET_NVRAM: 1 << 3 } as const;

/** virDomainSnapshotDeleteFlags */
export const SnapshotDeleteFlags = { CHILDREN: 1 << 0, METADATA_ONLY: 1 << 1, CHILDREN_ONLY: 1 << 2 } as const;

/** remote_nonnull_domain_snapshot: the snapshot's name and its domain. */
export interface RemoteSnapshot {
  readonly name: string;
  readonly dom: RemoteDomain;
}

export function encodeSnapshot(w: XdrWriter, s: RemoteSnapshot): void {
  w.string(s.name, REMOTE_STRING_MAX);
  encodeDomain(w, s.dom);
}

export function decodeSnapshot(r: XdrReader): RemoteSnapshot {
  const name = r.string(REMOTE_STRING_MAX, 'snapshot name');
  return { name, dom: decodeDomain(r) };
}

/** remote_domain_list_all_snapshots_ret / remote_domain_snapshot_list_all_children_ret: snapshots<>, int ret. */
export function decodeSnapshotList(r: XdrReader): RemoteSnapshot[] {
  const snaps = r.array((x) => decodeSnapshot(x), REMOTE_DOMAIN_SNAPSHOT_LIST_MAX, 4 + MIN_DOMAIN_BYTES, 'snapshot list');
  r.int('snapshot count');
  return snaps;
}

export function encodeSnapshotList(w: XdrWriter, snaps: readonly RemoteSnapshot[]): void {
  w.array(snaps, (x, s) => encodeSnapshot(x, s), REMOTE_DOMAIN_SNAPSHOT_LIST_MAX).int(snaps.length);
}

// ---- networks and storage (remote_protocol.x) ---------------------------------------

/** remote_nonnull_network and remote_nonnull_storage_pool: a name and a UUID. */
export interface RemoteNamed {
  readonly name: string;
  readonly uuid: Buffer;
}
export type RemoteNetwork = RemoteNamed;
export type RemotePool = RemoteNamed;

/** remote_nonnull_storage_vol */
export interface RemoteVolume {
  readonly pool: string;
  readonly name: string;
  /** Unique on the host (a file's path for directory pools). */
  readonly key: string;
}

export function encodeNamed(w: XdrWriter, n: RemoteNamed): void {
  w.string(n.name, REMOTE_STRING_MAX).fixedOpaque(n.uuid, VIR_UUID_BUFLEN);
}

export function decodeNamed(r: XdrReader, what: string): RemoteNamed {
  const name = r.string(REMOTE_STRING_MAX, `${what} name`);
  return { name, uuid: r.fixedOpaque(VIR_UUID_BUFLEN, `${what} uuid`) };
}

export function encodeVolume(w: XdrWriter, v: RemoteVolume): void {
  w.string(v.pool, REMOTE_STRING_MAX).string(v.name, REMOTE_STRING_MAX).string(v.key, REMOTE_STRING_MAX);
}

export function decodeVolume(r: XdrReader): RemoteVolume {
  const pool = r.string(REMOTE_STRING_MAX, 'volume pool');
  const name = r.string(REMOTE_STRING_MAX, 'volume name');
  return { pool, name, key: r.string(REMOTE_STRING_MAX, 'volume key') };
}

/** The *_list_all_*_ret shape: items<max>, unsigned int ret. */
export function decodeNamedList(r: XdrReader, max: number, what: string): RemoteNamed[] {
  const out = r.array((x) => decodeNamed(x, what), max, 4 + VIR_UUID_BUFLEN, `${what} list`);
  r.uint(`${what} count`);
  return out;
}

export function encodeNamedList(w: XdrWriter, items: readonly RemoteNamed[], max: number): void {
  w.array(items, (x, n) => encodeNamed(x, n), max).uint(items.length);
}

export function decodeVolumeList(r: XdrReader): RemoteVolume[] {
  const out = r.array((x) => decodeVolume(x), REMOTE_STORAGE_VOL_LIST_MAX, 12, 'volume list');
  r.uint('volume count');
  return out;
}

export function encodeVolumeList(w: XdrWriter, vols: readonly RemoteVolume[]): void {
  w.array(vols, (x, v) => encodeVolume(x, v), REMOTE_STORAGE_VOL_LIST_MAX).uint(vols.length);
}

/** virStoragePoolState */
export const POOL_STATE_NAMES = ['inactive', 'building', 'running', 'degraded', 'inaccessible'];

/** remote_storage_pool_get_info_ret (state is an unsigned char: one XDR word). */
export interface PoolInfo {
  state: number;
  capacity: number;
  allocation: number;
  available: number;
}

export function decodePoolInfo(r: XdrReader): PoolInfo {
  return {
    state: r.uint('pool state'),
    capacity: r.uhyperNumber('pool capacity'),
    allocation: r.uhyperNumber('pool allocation'),
    available: r.uhyperNumber('pool available'),
  };
}

export function encodePoolInfo(w: XdrWriter, i: PoolInfo): void {
  w.uint(i.state).uhyper(i.capacity).uhyper(i.allocation).uhyper(i.available);
}

/** virStorageVolType */
export const VOL_TYPE_NAMES = ['file', 'block', 'dir', 'network', 'netdir', 'ploop'];

/** remote_storage_vol_get_info_ret (type is a char: one XDR word). */
export interface VolumeInfo {
  type: number;
  capacity: number;
  allocation: number;
}

export function decodeVolumeInfo(r: XdrReader): VolumeInfo {
  return { type: r.int('volume type'), capacity: r.uhyperNumber('volume capacity'), allocation: r.uhyperNumber('volume allocation') };
}

export function encodeVolumeInfo(w: XdrWriter, i: VolumeInfo): void {
  w.int(i.type).uhyper(i.capacity).uhyper(i.allocation);
}

/** virStorageVolDeleteFlags / virStoragePoolDeleteFlags */
export const VolDeleteFlags = { NORMAL: 0, ZEROED: 1 << 0, WITH_SNAPSHOTS: 1 << 1 } as const;

/** remote_network_dhcp_lease */
export interface DhcpLease {
  iface: string;
  /** seconds since the epoch */
  expirytime: number;
  /** virIPAddrType: 0 IPv4, 1 IPv6 */
  type: number;
  mac: string | null;
  iaid: string | null;
  ipaddr: string;
  prefix: number;
  hostname: string | null;
  clientid: string | null;
}

export function decodeDhcpLeases(r: XdrReader): DhcpLease[] {
  const opt = (x: XdrReader, what: string) => x.optional((y) => y.string(REMOTE_STRING_MAX, what), what);
  const leases = r.array(
    (x) => ({
      iface: x.string(REMOTE_STRING_MAX, 'lease iface'),
      expirytime: x.hyperNumber('lease expiry'),
      type: x.int('lease type'),
      mac: opt(x, 'lease mac'),
      iaid: opt(x, 'lease iaid'),
      ipaddr: x.string(REMOTE_STRING_MAX, 'lease address'),
      prefix: x.uint('lease prefix'),
      hostname: opt(x, 'lease hostname'),
      clientid: opt(x, 'lease clientid'),
    }),
    REMOTE_NETWORK_DHCP_LEASES_MAX,
    40,
    'DHCP leases',
  );
  r.uint('lease count');
  return leases;
}

export function encodeDhcpLeases(w: XdrWriter, leases: readonly DhcpLease[]): void {
  const opt = (x: XdrWriter, s: string | null) => x.optional(s, (y, v) => y.string(v, REMOTE_STRING_MAX));
  w.array(
    leases,
    (x, l) => {
      x.string(l.iface, REMOTE_STRING_MAX).hyper(l.expirytime).int(l.type);
      opt(x, l.mac);
      opt(x, l.iaid);
      x.string(l.ipaddr, REMOTE_STRING_MAX).uint(l.prefix);
      opt(x, l.hostname);
      opt(x, l.clientid);
    },
    REMOTE_NETWORK_DHCP_LEASES_MAX,
  ).uint(leases.length);
}
