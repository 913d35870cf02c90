// The virtio-net TX trace: kprobe hit counts in the guest (through the guest executor), QEMU's own
// trace events (through the monitor), host kvm events when the guest runs under KVM; a workload
// meanwhile (iperf3 from the guest to the host, or the user's own traffic). Everything that is
// switched on is switched off again in `finally`, also on cancel and failure.
import * as path from 'node:path';
import { domainVirtType } from '../domainXml';
import { runOn } from '../exec';
import type { GuestExecutor } from '../guest/exec';
import { runGuestScript, type ScriptOutput } from '../guest/script';
import type { Host, HostChild } from '../host/host';
import { localHost } from '../host/local';
import { hostIPv4s } from '../host/net';
import { libvirtDomainPid } from '../host/pids';
import { startIperfServer, type HostServer } from '../host/server';
import {
  interfaceBridges,
  iperfSentBps,
  KvmEventCounts,
  parseInfoTraceEvents,
  parseInterrupts,
  parseKickHist,
  parseKprobeProfile,
  parseKvmEvents,
  netDevByInterface,
  parseQemuTraceLog,
} from './parse';
import { GUEST_PROBES, GUEST_PROBES_KICK_PATH, INLINE_FUNCTIONS } from './steps';

/** The kprobe group the trace creates in the guest (events/virtscope/…). */
export const KPROBE_GROUP = 'virtscope';
/** QEMU trace events of a full trace, when the build has them. */
export const QEMU_EVENTS = ['virtio_queue_notify', 'virtio_notify', 'virtio_notify_irqfd'];

/**
 * How much a trace counts. 'kick-path' (the default) probes the kick alone (vp_notify, counted per
 * virtqueue: 4 % of the hits of 'full' on the recorded run) and takes packets and interrupts per
 * virtqueue from the guest's own counters; QEMU is not traced (its log line per kick is written by the
 * vCPU thread). 'full' counts every function of the diagram the guest kernel has, and QEMU's kicks and
 * interrupts too.
 */
export type TraceDetail = 'kick-path' | 'full';
export const TRACE_DETAIL: Record<TraceDetail, { readonly guestProbes: readonly string[]; readonly qemuEvents: readonly string[] }> = {
  'kick-path': { guestProbes: GUEST_PROBES_KICK_PATH, qemuEvents: [] },
  full: { guestProbes: GUEST_PROBES, qemuEvents: QEMU_EVENTS },
};
/** Host kvm events counted when the guest runs under KVM. */
export const KVM_EVENTS = ['kvm_exit', 'kvm_pio', 'kvm_mmio', 'kvm_fast_mmio', 'kvm_userspace_exit', 'kvm_inj_virq', 'kvm_msi_set_irq', 'kvm_set_irq'];

export type Workload = { kind: 'iperf3'; hostIp?: string; port?: number } | { kind: 'external' };

export interface TraceTarget {
  /** Domain name (for messages and the QEMU pid file). */
  readonly name: string;
  readonly exec: GuestExecutor;
  /** HMP command on the guest's QEMU monitor. */
  readonly hmp: (command: string) => Promise<string>;
  readonly domainXml: () => Promise<string>;
  /** The machine QEMU runs on (its monitor log file, kvm events, the iperf3 server); default this machine. */
  readonly host?: Host;
}

export interface TraceOptions {
  durationSec: number;
  workload: Workload;
  /** Host network namespace (name under /run/netns) where host-side endpoints run. */
  hostNetns?: string;
  /** Guest interface whose counters give packets and bytes (default: eth0, else the first non-lo). */
  guestInterface?: string;
  signal?: AbortSignal;
  progress?: (message: string) => void;
  /** Count nothing: no kprobe, no QEMU event (the overhead benchmark's baseline runs the same code path). */
  noTrace?: boolean;
  /** What to count (default 'kick-path'); guestProbes and qemuEvents override its sources (to measure what each costs). */
  detail?: TraceDetail;
  /** Guest functions to probe (default: those of `detail`). */
  guestProbes?: readonly string[];
  /** QEMU trace events to switch on (default: those of `detail`). */
  qemuEvents?: readonly string[];
  /** Where the libvirt QEMU pid files are (default /run/libvirt/qemu). */
  qemuRunDir?: string;
}

export interface TraceSourceStatus {
  readonly used: boolean;
  /** Why it was not used, or what limits it. */
  readonly note?: string;
}

export interface TraceResult {
  readonly guest: string;
  /** The host the guest's QEMU runs on, as virtscope names it ("this machine", a `virtscope.hosts` label). */
  readonly host?: string;
  readonly startedAt: string;
  readonly durationSec: number;
  readonly detail: TraceDetail;
  readonly virtType: string;
  readonly workload: { kind: Workload['kind']; hostIp?: string; port?: number; hostNetns?: string; sentBitsPerSecond?: number };
  readonly iface: string;
  readonly txPackets: number;
  readonly txBytes: number;
  /** kprobe hits by guest function. */
  readonly guestHits: Record<string, number>;
  /** vp_notify hits by virtqueue name ("output.0" = virtio-net TX queue 0), where the guest kernel allows it. */
  readonly guestKicksByQueue?: Record<string, number>;
  /**
   * The guest's virtio interrupts during the workload, from /proc/interrupts (no probe needed): by
   * interrupt name ("virtio0-output.0"); nicDevice is the traced interface's device ("virtio0").
   */
  readonly guestInterrupts?: { readonly nicDevice?: string; readonly byName: Record<string, number> };
  readonly guestMissing: string[];
  readonly guestNotProbeable: Record<string, string>;
  readonly qemu: {
    readonly events: string[];
    readonly byEvent: Record<string, number>;
    /** virtio_queue_notify per "vdev queue". */
    readonly notifyByQueue: Record<string, number>;
    /** The queue with the most kicks during the workload (the virtio-net TX queue for a TX workload). */
    readonly txQueue?: string;
    readonly txQueueNotifies: number;
  };
  /** Host kvm event counts (maps as objects, largest first); only under KVM. */
  readonly kvm?: KvmCountsJson;
  readonly sources: { guest: TraceSourceStatus; qemu: TraceSourceStatus; kvm: TraceSourceStatus };
  readonly cleanup: string[];
  readonly warnings: string[];
}

export class TraceCancelled extends Error {
  constructor() {
    super('trace cancelled');
    this.name = 'TraceCancelled';
  }
}

export type KvmCountsJson = { readonly [K in keyof KvmEventCounts]: KvmEventCounts[K] extends Map<string, number> ? Record<string, number> : number };

export function kvmCountsJson(k: KvmEventCounts): KvmCountsJson {
  return Object.fromEntries(Object.entries(k).map(([key, v]) => [key, v instanceof Map ? obj(v) : v])) as KvmCountsJson;
}

const obj = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));

export { domainVirtType };

/** The trace ran on another host than this machine (its reports name that host). */
export const tracedElsewhere = (r: Pick<TraceResult, 'host'>): boolean => r.host !== undefined && r.host !== localHost.label;

/** The host's address on the guest's bridge, read inside `netns`. */
export async function hostAddressForGuest(xml: string, netns?: string, host: Host = localHost): Promise<{ ip?: string; bridge?: string; why?: string }> {
  const ifs = interfaceBridges(xml);
  const br = ifs.find((i) => i.bridge)?.bridge;
  if (!br)
    return {
      why: ifs.length
        ? "the guest's interface has no bridge on the host (user-mode or direct networking)"
        : 'the guest has no bridged or libvirt-network interface',
    };
  // a remote guest's bridge is on its own host: say which
  const where = `${host === localHost ? '' : ` on ${host.label}`}${netns ? ` in network namespace ${netns}` : ''}`;
  try {
    const ip = (await hostIPv4s(host, { netns, dev: br }))[0]?.address;
    return ip ? { ip, bridge: br } : { bridge: br, why: `bridge ${br} has no IPv4 address${where}` };
  } catch (e) {
    return { bridge: br, why: `cannot read bridge ${br}${where}: ${(e as Error).message}` };
  }
}

/** The guest script: kprobes on, counters, workload, counters, kprobes off, profile. Args: group iface dur ip port funcs… */
export const GUEST_SCRIPT = String.raw`
G=$1; IF=$2; DUR=$3; IP=$4; PORT=$5; shift 5
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null || { T=/sys/kernel/debug/tracing; [ -d $T/events ] || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null; }
cd $T 2>/dev/null || { echo "notracefs"; exit 3; }
if [ "$G" != - ]; then
  [ -w kprobe_events ] || { echo "nokprobes"; }
  have=$(awk -v L="$*" 'BEGIN{n=split(L,a," ");for(i=1;i<=n;i++)w[a[i]]=1} ($1 in w)&&!s[$1]++{print $1}' available_filter_functions 2>/dev/null)
  # vp_notify(struct virtqueue *vq) also fetches vq->name (the third member, at offset 24 since 2.6.x:
  # "output.0" is virtio-net's TX queue 0), so its kicks can be counted per queue by a hist trigger
  case $(uname -m) in x86_64) VQ='%di' ;; aarch64) VQ='%x0' ;; *) VQ= ;; esac
  KQ=
  for f in "$@"; do
    case " $(echo $have) " in *" $f "*)
      if [ "$f" = vp_notify ] && [ -n "$VQ" ] && echo "p:$G/vs_$f $f vq=+0(+24($VQ)):string" >> kprobe_events 2>/dev/null; then echo "probed $f"; KQ=1
      elif echo "p:$G/vs_$f $f" >> kprobe_events 2>/dev/null; then echo "probed $f"; else echo "failed $f"; fi ;;
    *) echo "missing $f" ;; esac
  done
  # count only: kprobe_profile counts every hit; the events are enabled in a tracefs instance of our
  # own whose buffer is off, so a hit records nothing (cheaper, and the guest's own trace buffer is untouched)
  if [ -d events/$G ]; then
    if mkdir instances/$G 2>/dev/null || [ -d instances/$G ]; then
      echo 0 > instances/$G/tracing_on
      # triggers run with the buffer off: kicks per virtqueue, counted in the kernel
      [ -n "$KQ" ] && echo 'hist:keys=vq' > instances/$G/events/$G/vs_vp_notify/trigger 2>/dev/null && echo "kicks by queue"
      echo 1 > instances/$G/events/$G/enable; echo "counting in instance"
    else echo 1 > events/$G/enable; fi
  fi
fi
# the NIC's virtio device (virtio0), and the guest's virtio interrupt counters: interrupts per queue at no probe cost
echo "nicdev $(basename "$(readlink /sys/class/net/$IF/device 2>/dev/null)")"
echo "@@irq-before"; grep virtio /proc/interrupts
echo "@@netdev-before"; cat /proc/net/dev
echo "@@workload"
if [ "$IP" != - ]; then iperf3 -c "$IP" -p "$PORT" -t "$DUR" -J; rc=$?; echo "@@iperf3-exit"; echo "$rc"; else sleep "$DUR"; fi
echo "@@netdev-after"; cat /proc/net/dev
echo "@@irq-after"; grep virtio /proc/interrupts
if [ "$G" != - ] && [ -d events/$G ]; then
  echo 0 > events/$G/enable; [ -d instances/$G ] && echo 0 > instances/$G/events/$G/enable
  echo "@@profile"; grep "^ *vs_" kprobe_profile
  H=instances/$G/events/$G/vs_vp_notify
  grep -q '^hist:keys=vq' $H/trigger 2>/dev/null && { echo "@@kicks"; cat $H/hist; }
fi
# the trigger, the instance and the probes are removed by GUEST_CLEANUP, which always runs next
echo "@@end"
`;

/** One trace per guest at a time: a lock file with an owner token and an expiry (a crashed trace's lock runs out). Args: token ttl. */
export const GUEST_LOCK = String.raw`
L=/run/virtscope-trace.lock; [ -d /run ] || L=/tmp/virtscope-trace.lock
now=$(date +%s)
if [ -f "$L" ]; then read -r t e < "$L"; if [ "$e" -gt "$now" ] 2>/dev/null; then echo "busy $t $((e - now))"; exit 0; fi; fi
echo "$1 $((now + $2))" > "$L"
read -r t e < "$L"; [ "$t" = "$1" ] && echo locked || echo "busy $t"
`;

/** Guest cleanup (idempotent): events off, this group's kprobes removed, the lock released if ours. Args: group token. */
export const GUEST_CLEANUP = String.raw`
G=$1
for T in /sys/kernel/tracing /sys/kernel/debug/tracing; do
  [ -d $T/instances/$G ] && { echo '!hist:keys=vq' > $T/instances/$G/events/$G/vs_vp_notify/trigger 2>/dev/null; echo 0 > $T/instances/$G/events/$G/enable 2>/dev/null; rmdir $T/instances/$G; }
  [ -d $T/events/$G ] || continue
  echo 0 > $T/events/$G/enable
  sed -n "s/^[pr]:$G\/\([^ ]*\) .*/\1/p" $T/kprobe_events | while read -r f; do echo "-:$G/$f" >> $T/kprobe_events; done
done
T=/sys/kernel/tracing; [ -r $T/kprobe_events ] && echo "left $(grep -c "^[pr]:$G/" $T/kprobe_events)"
L=/run/virtscope-trace.lock; [ -d /run ] || L=/tmp/virtscope-trace.lock
[ -f "$L" ] && read -r t e < "$L" && [ "$t" = "$2" ] && rm -f "$L"
true
`;

/** Runs the trace. Throws TraceCancelled when `signal` aborts; cleanup has run by then. */
/** What a trace switched on, so `finally` switches exactly that off again. */
class TraceRun {
  readonly warnings: string[] = [];
  readonly cleanup: string[] = [];
  readonly token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  readonly host: Host;
  readonly group: string;
  hostIp?: string;
  port?: number;
  server?: HostServer;
  readonly qemuOn: string[] = [];
  qemuEvents: string[] = [];
  logDir?: string;
  logFile?: string;
  logfileSet = false;
  guestTouched = false;
  kvm?: HostKvmTracer;
  guestOut: ScriptOutput = { preamble: '', sections: {}, complete: false };
  qemuLog = '';

  constructor(
    readonly target: TraceTarget,
    readonly opts: TraceOptions,
  ) {
    this.host = target.host ?? localHost;
    this.group = opts.noTrace ? '-' : KPROBE_GROUP;
  }

  progress(message: string): void {
    this.opts.progress?.(message);
  }

  check(): void {
    if (this.opts.signal?.aborted) throw new TraceCancelled();
  }
}

// ---- guest side

/** One trace per guest: take its lock (refused with the holder's token while another trace runs). */
async function lockGuest(run: TraceRun, dur: number): Promise<void> {
  const { target, token } = run;
  const lock = await target.exec.exec(['/bin/sh', '-c', GUEST_LOCK, 'sh', token, String(dur + 300)], { timeoutMs: 60_000, signal: run.opts.signal });
  const busy = /^busy (\S+)(?: (\d+))?/m.exec(lock.stdout);
  if (busy) throw new Error(`another virtio-net trace is running in ${target.name} (${busy[1]}${busy[2] ? `; its lock runs out in ${busy[2]} s` : ''})`);
  if (!/^locked$/m.test(lock.stdout)) throw new Error(`cannot take the trace lock in ${target.name}: ${(lock.stderr || lock.stdout).trim().slice(0, 300)}`);
  run.guestTouched = true;
}

/** The guest: kprobes, counters, workload, counters, profile — one script so nothing else runs in between. */
async function traceGuest(run: TraceRun, dur: number, probes: readonly string[]): Promise<void> {
  const { target, opts } = run;
  run.progress(`tracing for ${dur} s${opts.workload.kind === 'iperf3' ? ` (iperf3 → ${run.hostIp}:${run.port})` : ' (your traffic)'}`);
  const r = await runGuestScript(target.exec, GUEST_SCRIPT, {
    args: [run.group, opts.guestInterface ?? 'eth0', String(dur), run.hostIp ?? '-', String(run.port ?? 0), ...probes],
    timeoutMs: (dur + 90) * 1000,
    signal: opts.signal,
    what: 'the trace',
    guest: target.name,
  });
  run.guestOut = r;
  if (r.stderr.trim()) run.warnings.push(`guest: ${r.stderr.trim().slice(0, 500)}`);
}

async function cleanGuest(run: TraceRun): Promise<void> {
  if (!run.guestTouched) return;
  const { group } = run;
  try {
    const c = await run.target.exec.exec(['/bin/sh', '-c', GUEST_CLEANUP, 'sh', group, run.token], { timeoutMs: 60_000 });
    run.cleanup.push(group === '-' ? 'guest trace lock released' : `guest kprobes of group ${group} removed, lock released (${c.stdout.trim() || 'ok'})`);
  } catch (e) {
    run.cleanup.push(`guest kprobe cleanup FAILED: ${(e as Error).message}`);
  }
}

// ---- host side

/** The iperf3 server the guest sends to, on the host's address on the guest's bridge (or the one given). */
async function startWorkload(run: TraceRun, xml: string): Promise<void> {
  const { opts, host } = run;
  if (opts.workload.kind !== 'iperf3') return;
  let hostIp = opts.workload.hostIp;
  if (!hostIp) {
    const a = await hostAddressForGuest(xml, opts.hostNetns, host);
    if (!a.ip) throw new Error(`cannot find the host's address for the guest to send to: ${a.why}. Give the host address, or trace your own traffic.`);
    hostIp = a.ip;
  }
  run.hostIp = hostIp;
  run.progress(`starting iperf3 server on ${hostIp}${opts.hostNetns ? ` (netns ${opts.hostNetns})` : ''}`);
  const firstPort = opts.workload.port ?? 5211 + Math.floor(Math.random() * 40);
  ({ server: run.server, port: run.port } = await startIperfServer(host, { bind: hostIp, netns: opts.hostNetns, firstPort, signal: opts.signal }));
  run.check();
}

/** QEMU: log to a private file, switch on the events this build has. */
async function startQemuEvents(run: TraceRun, wanted: readonly string[]): Promise<void> {
  if (!wanted.length) return;
  const { target, host } = run;
  run.progress('enabling QEMU trace events');
  const avail = parseInfoTraceEvents(await target.hmp('info trace-events'));
  run.qemuEvents = [...wanted, ...[...avail.keys()].filter((e) => /^virtio_net_.*(tx|flush)/.test(e))].filter((e) => avail.has(e));
  const already = run.qemuEvents.filter((e) => avail.get(e));
  if (already.length) run.warnings.push(`QEMU trace events already on before the trace (left on afterwards): ${already.join(', ')}`);
  run.logDir = await host.mkdtemp('virtscope-trace-');
  await host.chmod(run.logDir, 0o777); // QEMU may run as another user (libvirt-qemu)
  run.logFile = path.join(run.logDir, 'qemu-trace.log');
  await target.hmp(`logfile ${run.logFile}`);
  run.logfileSet = true;
  for (const e of run.qemuEvents) {
    if (avail.get(e)) continue;
    const r = await target.hmp(`trace-event ${e} on`);
    if (r.trim()) run.warnings.push(`trace-event ${e}: ${r.trim()}`);
    run.qemuOn.push(e);
  }
  run.check();
}

/** QEMU events off and its logfile back to stderr, then the log read and removed. */
async function stopQemuEvents(run: TraceRun): Promise<void> {
  const { target, cleanup } = run;
  for (const e of run.qemuOn) {
    try {
      await target.hmp(`trace-event ${e} off`);
    } catch (err) {
      cleanup.push(`QEMU trace-event ${e} off FAILED: ${(err as Error).message}`);
    }
  }
  if (run.qemuOn.length) cleanup.push(`QEMU trace events off: ${run.qemuOn.join(', ')}`);
  if (run.logfileSet) {
    // QEMU logs to stderr (the domain log) unless told otherwise: point it back there, which closes our file
    try {
      await target.hmp('logfile /dev/stderr');
      cleanup.push('QEMU logfile reset to stderr');
    } catch (err) {
      cleanup.push(`QEMU logfile reset FAILED: ${(err as Error).message}`);
    }
  }
}

async function readQemuLog(run: TraceRun): Promise<void> {
  if (run.logFile) run.qemuLog = await readSettled(run.host, run.logFile);
  if (run.logDir) await run.host.rm(run.logDir, { recursive: true, force: true }).catch(() => {});
}

/** Host kvm events of the guest's QEMU; why not, in `status`, when they cannot be counted. */
async function startKvm(run: TraceRun, status: TraceSourceStatus): Promise<void> {
  const kvm = new HostKvmTracer(undefined, run.host);
  const st = await kvm.start(run.target.name, run.opts.qemuRunDir).catch((e: Error) => ({ used: false, note: e.message }));
  Object.assign(status, st);
  if (st.used) run.kvm = kvm;
  run.check();
}

/** What the trace needs of the domain before anything is switched on; all that is missing, with the guest's host named. */
export function refuseUntraceable(name: string, host: Host, xml: string): void {
  const missing: string[] = [];
  if (!/<interface\b/.test(xml)) missing.push('no network interface (there is no virtio-net TX path to trace)');
  if (!/<channel\b[^>]*>(?:(?!<\/channel>)[\s\S])*org\.qemu\.guest_agent\.0/.test(xml))
    missing.push('no qemu-guest-agent channel (the probes and the workload run inside the guest through the agent)');
  if (missing.length) throw new Error(`cannot trace ${name} on ${host.label}: it has ${missing.join(' and ')}`);
}

/** Runs the trace. Throws TraceCancelled when `signal` aborts; cleanup has run by then. */
export async function runTrace(target: TraceTarget, opts: TraceOptions): Promise<TraceResult> {
  const run = new TraceRun(target, opts);
  const startedAt = new Date().toISOString();
  const dur = Math.max(1, Math.round(opts.durationSec));
  const detail = opts.detail ?? 'kick-path';
  const level = TRACE_DETAIL[detail];
  const wantGuest = opts.noTrace ? [] : (opts.guestProbes ?? level.guestProbes);
  const wantQemu = opts.noTrace ? [] : (opts.qemuEvents ?? level.qemuEvents);

  run.progress('reading the domain');
  const xml = await target.domainXml();
  refuseUntraceable(target.name, run.host, xml);
  const virtType = domainVirtType(xml) ?? 'unknown';
  run.check();
  const kvmStatus: TraceSourceStatus =
    virtType === 'kvm'
      ? { used: false }
      : {
          used: false,
          note: `no KVM exits: the guest runs under ${virtType === 'qemu' ? 'TCG emulation' : virtType} (domain type '${virtType}'), so there are no VM exits to count`,
        };
  try {
    await lockGuest(run, dur);
    await startWorkload(run, xml);
    await startQemuEvents(run, wantQemu);
    if (!opts.noTrace && virtType === 'kvm') await startKvm(run, kvmStatus);
    await traceGuest(run, dur, wantGuest);
  } catch (e) {
    if (opts.signal?.aborted) throw new TraceCancelled();
    throw e;
  } finally {
    run.progress('cleaning up');
    // order: workload, QEMU events and logfile (before the guest cleanup's agent traffic, so both sides
    // count the same window), guest probes and lock, host kvm
    if (await run.server?.stop()) run.cleanup.push('host iperf3 server stopped');
    await stopQemuEvents(run);
    await cleanGuest(run);
    if (run.kvm) run.cleanup.push(await run.kvm.stop());
    await readQemuLog(run);
  }
  return traceResult(run, { startedAt, dur, detail, virtType, wantQemu, kvmStatus });
}

interface RunFacts {
  startedAt: string;
  dur: number;
  detail: TraceDetail;
  virtType: string;
  wantQemu: readonly string[];
  kvmStatus: TraceSourceStatus;
}

/** The guest script's output: what was probed, hits, packets, interrupts, the workload's rate. */
function guestCounts(run: TraceRun) {
  const { opts, warnings } = run;
  const { preamble: guestOut, sections } = run.guestOut;
  const section = (name: string) => sections[name] ?? '';
  const probed: string[] = [];
  const missing: string[] = [];
  for (const line of guestOut.split('\n')) {
    const m = /^(probed|missing|failed) (\S+)$/.exec(line);
    if (m) (m[1] === 'probed' ? probed : missing).push(m[2]);
  }
  if (/^nokprobes$/m.test(guestOut)) warnings.push('the guest kernel has no kprobe events (CONFIG_KPROBE_EVENTS): no guest counts');
  const profile = parseKprobeProfile(section('profile'));
  const kicksByQueue = parseKickHist(section('kicks'));
  const guestHits: Record<string, number> = {};
  // a "missed" hit is a call during which the handler could not run (a probe hit inside another
  // probe's handler, e.g. an interrupt): the function was still called, so it counts
  for (const fn of probed) guestHits[fn] = (profile.get(`vs_${fn}`)?.hits ?? 0) + (profile.get(`vs_${fn}`)?.misses ?? 0);
  const missed = [...profile]
    .filter(([k]) => k.startsWith('vs_'))
    .map(([, v]) => v)
    .reduce((s, v) => s + v.misses, 0);
  if (missed)
    warnings.push(
      `${missed} of the counted calls hit a probe while another probe's handler ran (nested, e.g. in an interrupt); they are counted from kprobe_profile's "missed" column`,
    );
  const before = netDevByInterface(section('netdev-before'));
  const after = netDevByInterface(section('netdev-after'));
  const iface = opts.guestInterface ?? (after.has('eth0') ? 'eth0' : ([...after.keys()].find((k) => k !== 'lo') ?? 'eth0'));
  const b = before.get(iface);
  const a = after.get(iface);
  if (!a || !b) warnings.push(`the guest has no interface ${iface}: packets and bytes unknown`);
  const irqBefore = parseInterrupts(section('irq-before'));
  const irqAfter = parseInterrupts(section('irq-after'));
  const irqs = new Map<string, number>();
  for (const [name, n] of irqAfter) if (irqBefore.has(name)) irqs.set(name, n - irqBefore.get(name)!);
  const nicDevice = /^nicdev (virtio\d+)$/m.exec(guestOut)?.[1];
  const iperfJson = section('workload');
  const sent = opts.workload.kind === 'iperf3' ? iperfSentBps(iperfJson) : undefined;
  if (opts.workload.kind === 'iperf3' && sent === undefined) warnings.push(`iperf3 in the guest gave no result: ${iperfJson.trim().slice(0, 300)}`);
  const tx = { txPackets: a && b ? a.txPackets - b.txPackets : 0, txBytes: a && b ? a.txBytes - b.txBytes : 0 };
  return { probed, missing, guestHits, kicksByQueue, iface, tx, irqAfter, irqs, nicDevice, sent };
}

/** The guest's output, QEMU's log and the kvm counts, read into the result. */
function traceResult(run: TraceRun, f: RunFacts): TraceResult {
  const { opts, warnings, qemuEvents, hostIp, port } = run;
  const { startedAt, dur, detail, virtType, wantQemu, kvmStatus } = f;
  const { probed, missing, guestHits, kicksByQueue, iface, tx, irqAfter, irqs, nicDevice, sent } = guestCounts(run);
  const q = parseQemuTraceLog(run.qemuLog, new Set(qemuEvents));
  let txQueue: string | undefined;
  let txQueueNotifies = 0;
  for (const [k, v] of q.notifyByQueue) {
    if (v > txQueueNotifies) {
      txQueue = k;
      txQueueNotifies = v;
    }
  }
  const kc: KvmEventCounts | undefined = run.kvm?.counts;

  return {
    guest: run.target.name,
    host: run.host.label,
    startedAt,
    durationSec: dur,
    detail,
    virtType,
    workload: { kind: opts.workload.kind, hostIp, port, hostNetns: opts.hostNetns, sentBitsPerSecond: sent },
    iface,
    ...tx,
    guestHits,
    ...(Object.keys(kicksByQueue).length ? { guestKicksByQueue: kicksByQueue } : {}),
    ...(irqAfter.size ? { guestInterrupts: { nicDevice, byName: obj(irqs) } } : {}),
    guestMissing: missing,
    guestNotProbeable: INLINE_FUNCTIONS,
    qemu: { events: qemuEvents, byEvent: obj(q.byEvent), notifyByQueue: obj(q.notifyByQueue), txQueue, txQueueNotifies },
    kvm: kc && kvmCountsJson(kc),
    sources: {
      guest: opts.noTrace
        ? { used: false, note: 'not traced (baseline run)' }
        : probed.length
          ? { used: true, note: missing.length ? `not in this kernel: ${missing.join(', ')}` : undefined }
          : { used: false, note: 'no probe could be placed in the guest' },
      qemu:
        opts.noTrace || opts.qemuEvents?.length === 0
          ? { used: false, note: 'not traced in this run' }
          : !wantQemu.length
            ? {
                used: false,
                note: `not used at detail ${detail}: the guest counts its kicks per virtqueue itself; set virtscope.trace.detail to "full" to count them in QEMU too (steps 8–9 and the guest/QEMU cross-check)`,
              }
            : {
                used: qemuEvents.length > 0,
                note: !qemuEvents.length
                  ? 'this QEMU build has no virtio trace events'
                  : qemuEvents.some((e) => e.startsWith('virtio_net_'))
                    ? undefined
                    : 'this QEMU build has no virtio-net TX trace events: the TX handler is counted as virtio_queue_notify on the TX queue',
              },
      kvm: kvmStatus,
    },
    cleanup: run.cleanup,
    warnings,
  };
}

/** Reads a file QEMU may still be flushing (it closes a replaced logfile after an RCU grace period). */
async function readSettled(host: Host, file: string): Promise<string> {
  let last = -1;
  for (let i = 0; i < 10; i++) {
    const size = await host.stat(file).then(
      (s) => s?.size ?? -1,
      () => -1,
    );
    if (size === last) break;
    last = size;
    await new Promise((r) => setTimeout(r, 300));
  }
  return host.readFile(file).catch(() => '');
}

/** Host tracefs kvm events of one QEMU process, in a private tracefs instance, streamed and counted. */
export class HostKvmTracer {
  private dir?: string;
  private reader?: HostChild;
  private text = '';
  private pids = new Set<number>();
  counts?: KvmEventCounts;

  /** `root`: the host's tracefs (another directory in tests). */
  constructor(
    private readonly root = '/sys/kernel/tracing',
    private readonly host: Host = localHost,
  ) {}

  async start(domain: string, runDir = '/run/libvirt/qemu'): Promise<TraceSourceStatus> {
    const pid = await libvirtDomainPid(this.host, 'qemu', domain, runDir);
    if (!pid) throw new Error(`no QEMU pid for ${domain} in ${runDir} on ${this.host.label}`);
    const root = this.root;
    if (!(await this.host.exists(path.join(root, 'events')))) {
      // not mounted: mount it for the trace, unmount it afterwards
      await runOn(this.host, ['mount', '-t', 'tracefs', 'nodev', root], { timeoutMs: 10_000 }).catch((e: Error) => {
        throw new Error(`host tracefs is not mounted at ${root} and mounting it failed (${e.message}); run as root`);
      });
      this.mounted = root;
    }
    // cleanup is owed from here on (the mount, then the instance): any throw below undoes them
    try {
      return await this.open(root, pid);
    } catch (e) {
      const undone = this.dir ? await this.stop() : `nothing left behind${await this.unmount()}`;
      throw new Error(`${(e as Error).message} (${undone})`);
    }
  }

  private async open(root: string, pid: number): Promise<TraceSourceStatus> {
    if (!(await this.host.exists(path.join(root, 'events/kvm/kvm_exit')))) throw new Error('host tracefs has no kvm events (is the kvm module loaded?)');
    const dir = path.join(root, 'instances', `virtscope-${process.pid}-${pid}`);
    await this.host.mkdir(dir);
    this.dir = dir;
    for (const t of await this.host.readdir(`/proc/${pid}/task`)) this.pids.add(Number(t.name));
    await this.host.writeFile(path.join(this.dir, 'buffer_size_kb'), '8192').catch(() => {});
    await this.host.writeFile(path.join(this.dir, 'set_event_pid'), [...this.pids].join(' '));
    for (const e of KVM_EVENTS) await this.host.writeFile(path.join(this.dir, 'events/kvm', e, 'enable'), '1').catch(() => {});
    this.reader = this.host.spawn(['cat', path.join(this.dir, 'trace_pipe')]);
    this.reader.stderr.resume();
    void this.reader.exited.then((e) => e.error && (this.readerError = e.error.message)); // reported by stop()
    // keep only complete lines; count in chunks so memory stays bounded
    let partial = '';
    this.reader.stdout!.on('data', (d: Buffer) => {
      const s = partial + d.toString();
      const cut = s.lastIndexOf('\n');
      partial = s.slice(cut + 1);
      this.text += s.slice(0, cut + 1);
      if (this.text.length > 4 << 20) this.flush();
    });
    await this.host.writeFile(path.join(this.dir, 'tracing_on'), '1');
    this.tracingOn = true;
    return { used: true, note: `QEMU pid ${pid}, ${this.pids.size} threads` };
  }
  private parts: KvmEventCounts[] = [];
  private mounted?: string;
  private readerError?: string;
  private tracingOn = false;
  private async unmount(): Promise<string> {
    if (!this.mounted) return '';
    const m = this.mounted;
    this.mounted = undefined;
    return runOn(this.host, ['umount', m], { timeoutMs: 10_000 }).then(
      () => `, ${m} unmounted again`,
      (e: Error) => `, umount ${m} FAILED: ${e.message}`,
    );
  }
  private flush(): void {
    this.parts.push(parseKvmEvents(this.text, { pids: this.pids }));
    this.text = '';
  }

  async stop(): Promise<string> {
    if (!this.dir) return 'host kvm events: nothing to stop';
    const dir = this.dir;
    this.dir = undefined;
    try {
      if (this.tracingOn) {
        await this.host.writeFile(path.join(dir, 'tracing_on'), '0').catch(() => {});
        await new Promise((r) => setTimeout(r, 300));
      }
      const reader = this.reader;
      if (reader && !reader.done) {
        reader.signal('SIGTERM');
        await Promise.race([reader.exited, new Promise((r) => setTimeout(r, 2000))]); // its last output is counted
        await reader.kill(); // in case it did not listen
      }
      for (const e of KVM_EVENTS) await this.host.writeFile(path.join(dir, 'events/kvm', e, 'enable'), '0').catch(() => {});
      this.flush();
      this.counts = mergeKvm(this.parts);
      await this.host.rmdir(dir);
      const lost = this.readerError ? ` (reading trace_pipe failed: ${this.readerError}; counts incomplete)` : '';
      return `host kvm events off, tracefs instance removed${lost}${await this.unmount()}`;
    } catch (e) {
      return `host kvm cleanup FAILED for ${dir}: ${(e as Error).message}${await this.unmount()}`;
    }
  }
}

export function mergeKvm(parts: readonly KvmEventCounts[]): KvmEventCounts {
  const m = () => new Map<string, number>();
  const out = { exitsByReason: m(), pioByPort: m(), userspaceExitsByReason: m(), injections: m(), exits: 0, pio: 0, mmio: 0, fastMmio: 0, lines: 0 };
  const add = (to: Map<string, number>, from: Map<string, number>) => from.forEach((v, k) => to.set(k, (to.get(k) ?? 0) + v));
  for (const p of parts) {
    add(out.exitsByReason, p.exitsByReason);
    add(out.pioByPort, p.pioByPort);
    add(out.userspaceExitsByReason, p.userspaceExitsByReason);
    add(out.injections, p.injections);
    out.exits += p.exits;
    out.pio += p.pio;
    out.mmio += p.mmio;
    out.fastMmio += p.fastMmio;
    out.lines += p.lines;
  }
  return out;
}
