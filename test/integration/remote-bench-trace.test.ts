// Run Benchmark and Trace virtio-net TX Path for guests of the lab's second host, reached only over
// SSH (scripts/lab/ssh-host.sh): the host baseline, the iperf3 and sockperf servers and the fio
// scratch directory are on that host, and the reports name it. remotevm is a real QEMU guest there
// (TCG, the lab's kernel, a virtio-net NIC on a bridge inside that host, qemu-guest-agent): its trace
// counts the guest's kicks and QEMU's own trace events, whose log file, monitor, pid and iperf3 server
// are all on the second host. Guests this file starts are shut off again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createBackend } from '../../src/core/backends';
import { runBenchmark } from '../../src/core/bench/engine';
import { renderMarkdown } from '../../src/core/bench/report';
import { resolveTargets } from '../../src/core/bench/resolve';
import { DEFAULT_OPTIONS, valueFromRun } from '../../src/core/bench/types';
import { executorFor } from '../../src/core/guest/exec';
import { libvirtDomainPid } from '../../src/core/host/pids';
import { startIperfServer } from '../../src/core/host/server';
import { SshHost } from '../../src/core/host/ssh';
import type { Backend, ConnectionConfig, Guest } from '../../src/core/model';
import { GUEST_LOCK, runTrace, TraceCancelled, type TraceTarget } from '../../src/core/trace/engine';
import { iperfSentBps, parseInfoTraceEvents, txKicks } from '../../src/core/trace/parse';
import { reportMarkdown, stepFigures, writeTraceReport } from '../../src/core/trace/report';
import { traceTargetFor } from '../../src/core/trace/target';
import { secondHost, secondHostSkip } from '../fixtures/remote/secondHost';

const skip = secondHostSkip;
const up = !skip;

const CONNS: ConnectionConfig[] = [
  { id: 'sshhost:qemu', type: 'libvirt', uri: 'qemu:///system' },
  { id: 'sshhost:libvirt-lxc', type: 'libvirt', uri: 'lxc:///system' },
];
let env: Record<string, string> = {};
let host: SshHost;
let scratch: string;
const backends = new Map<string, Backend>();
/** Guests this file started: shut off again in `after`. */
const started: Array<{ backend: Backend; guest: Guest }> = [];

before(async () => {
  if (!up) return;
  ({ env, host, scratch } = secondHost('vs-remote-bt-'));
  for (const c of CONNS) {
    const b = createBackend(c, host);
    await b.connect();
    backends.set(c.id, b);
  }
});

after(async () => {
  for (const { backend, guest } of started) await backend.perform(guest.id, 'forceOff').catch((e: Error) => console.log(`# ${guest.name}: ${e.message}`));
  for (const b of backends.values()) await b.close();
  await host?.dispose();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** The guest, running (started, and noted for `after`, when it was not). */
async function running(connId: string, name: string): Promise<Guest> {
  const b = backends.get(connId)!;
  const find = async () => (await b.list()).find((g) => g.name === name);
  const g = await find();
  assert.ok(g, `${name} is defined on the second host`);
  if (g.state === 'running') return g;
  await b.perform(g.id, 'start');
  started.push({ backend: b, guest: g });
  const now = await find();
  assert.equal(now?.state, 'running', `${name} started`);
  return now!;
}

const localAddresses = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .map((a) => a?.address);

test('Run Benchmark on remotevlxc: the host baseline and the servers on the second host, the report names it', { skip, timeout: 300_000 }, async () => {
  await running('sshhost:libvirt-lxc', 'remotevlxc');
  const conns = CONNS.map((c) => ({ id: c.id, label: c.id, backend: async () => backends.get(c.id)!, host }));
  const targets = await resolveTargets(['remotevlxc'], conns);
  assert.equal(targets[0].host, host);
  const options = { ...DEFAULT_OPTIONS, netSeconds: 2, latencySeconds: 1, diskSeconds: 1, diskSizeMiB: 16, cpuSeconds: 2 };
  const rep = await runBenchmark({ suites: ['network', 'disk', 'cpu', 'memory'], guests: targets.map((t) => t.ref), options }, targets);
  const remoteName = (await host.run(['cat', '/proc/sys/kernel/hostname'])).stdout.trim();
  assert.notEqual(remoteName, os.hostname(), 'the second host has a hostname of its own');
  assert.equal(rep.environment.host.machine, 'sshhost-lab');
  assert.equal(rep.environment.host.hostname, remoteName, "the baseline's facts were read on the second host");
  assert.match(rep.title, /on host, remotevlxc \(sshhost-lab\)$/);
  assert.match(renderMarkdown(rep), new RegExp(`^Measured on \\*\\*sshhost-lab\\*\\* \\(hostname \`${remoteName}\`\\)`, 'm'));
  for (const m of rep.measurements)
    assert.equal(
      valueFromRun(
        m,
        rep.runs.find((r) => r.id === m.runId)!,
      ),
      m.value,
      `${m.target} ${m.metric}`,
    );
  const has = (t: string, metric: string) => rep.measurements.some((m) => m.target === t && m.metric === metric);
  for (const t of ['host', 'remotevlxc'])
    for (const metric of ['net.guestToHost', 'net.hostToGuest', 'net.tcpRtt', 'net.icmpRtt', 'disk.randread4kQd1', 'cpu.eventsPerSec', 'memory.bandwidth'])
      assert.ok(has(t, metric), `${t}: ${metric} missing; notes ${JSON.stringify(rep.notes)}`);
  assert.ok(!rep.notes.some((n) => n.level === 'error'), JSON.stringify(rep.notes));
  // the guest's servers listened on an address only the second host has
  const ct = rep.environment.targets.find((t) => t.target === 'remotevlxc')!;
  assert.equal(ct.hostEndpoint, env.SSHHOST_ADDR);
  assert.ok(!localAddresses().includes(env.SSHHOST_ADDR), `${env.SSHHOST_ADDR} is not an address of this machine`);
  const g2h = rep.runs.find((r) => r.id === rep.measurements.find((m) => m.target === 'remotevlxc' && m.metric === 'net.guestToHost')!.runId)!;
  assert.ok(g2h.argv.includes(env.SSHHOST_ADDR), g2h.argv.join(' '));
  // the host's fio scratch directory (on the second host) is gone, and no server of the run is left there
  assert.ok(rep.environment.host.diskTarget, 'the host baseline ran fio');
  assert.equal(await host.exists(rep.environment.host.diskTarget!), false, `${rep.environment.host.diskTarget} removed`);
  const ps = (await host.run(['ps', '-eo', 'args'])).stdout;
  assert.doesNotMatch(ps, /^(iperf3 -s -1 -B|sockperf sr) /m);
  const fig = (t: string, metric: string) => rep.measurements.find((m) => m.target === t && m.metric === metric)!.value;
  console.log(
    `# sshhost-lab: cpu host ${fig('host', 'cpu.eventsPerSec').toFixed(0)} / remotevlxc ${fig('remotevlxc', 'cpu.eventsPerSec').toFixed(0)} events/s; ` +
      `iperf3 guest→host host ${fig('host', 'net.guestToHost').toFixed(2)} / remotevlxc ${fig('remotevlxc', 'net.guestToHost').toFixed(2)} Gbit/s; ` +
      `sockperf RTT host ${fig('host', 'net.tcpRtt').toFixed(1)} / remotevlxc ${fig('remotevlxc', 'net.tcpRtt').toFixed(1)} µs; ` +
      `4k randread QD1 host ${fig('host', 'disk.randread4kQd1').toFixed(0)} / remotevlxc ${fig('remotevlxc', 'disk.randread4kQd1').toFixed(0)} IOPS`,
  );
});

/** remotevm's trace target once its guest agent answers (a TCG boot of the lab's kernel takes 15-60 s here). */
async function traceableRemoteVm(): Promise<TraceTarget> {
  const vm = await running('sshhost:qemu', 'remotevm');
  const target = traceTargetFor(backends.get('sshhost:qemu')!, vm);
  const t0 = Date.now();
  for (;;) {
    const r = await target.exec.exec(['true'], { timeoutMs: 5_000 }).catch((e: Error) => e);
    if (!(r instanceof Error) && r.exitCode === 0) break;
    if (Date.now() - t0 > 240_000) throw new Error(`remotevm's guest agent did not answer within 240 s: ${r instanceof Error ? r.message : r.stderr}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
  if (!bootedMs) bootedMs = Date.now() - t0;
  return target;
}
let bootedMs = 0;

/** Nothing of a trace left: in the guest (probes, lock, iperf3 client), in QEMU (events) and on the second host (server, log dir). */
async function assertNothingLeft(target: TraceTarget): Promise<void> {
  const k = await target.exec.exec([
    '/bin/sh',
    '-c',
    'cat /sys/kernel/tracing/kprobe_events; ls /sys/kernel/tracing/instances | grep -x virtscope; ls /run/virtscope-trace.lock 2>/dev/null; ' +
      'for p in /proc/[0-9]*/cmdline; do tr "\\0" " " < $p 2>/dev/null; echo; done | grep "^iperf3 -c" || true',
  ]);
  assert.equal(k.stdout.trim(), '', `left in remotevm (kprobes, tracefs instance, lock, iperf3 client): ${k.stdout}`);
  const on = [...parseInfoTraceEvents(await target.hmp('info trace-events'))].filter(([, v]) => v).map(([e]) => e);
  assert.deepEqual(on, [], 'no QEMU trace event left on');
  const ps = (await host.run(['ps', '-eo', 'args'])).stdout;
  assert.doesNotMatch(ps, /^iperf3 -s /m, 'no iperf3 server left on the second host');
  const tmp = (await host.run(['sh', '-c', 'ls -d /tmp/virtscope-trace-* 2>/dev/null || true'])).stdout.trim();
  assert.equal(tmp, '', "QEMU's trace log directory removed on the second host");
}

test(
  'Trace virtio-net TX Path on remotevm (detail full): guest kicks = QEMU virtio_queue_notify on the second host, the report names sshhost-lab',
  { skip, timeout: 420_000 },
  async () => {
    const target = await traceableRemoteVm();
    assert.equal(target.host, host, 'the trace works on the host the guest runs on');
    // its QEMU is the second host's (its pid file in that host's /run), not one of this machine's
    const pid = await libvirtDomainPid(host, 'qemu', 'remotevm');
    assert.ok(pid, 'the QEMU pid file is on the second host');
    assert.match((await host.readFile(`/proc/${pid}/cmdline`)).split('\0').join(' '), /guest=remotevm\b/);
    // the network rule: the guest reaches its bridge on the second host and nothing else (no gateway)
    const routes = (await target.exec.exec(['ip', 'route'])).stdout.trim().split('\n');
    assert.deepEqual(
      routes.map((l) => l.split(' ').slice(0, 3).join(' ')),
      ['10.81.1.0/24 dev eth0'],
      routes.join('; '),
    );
    const progress: string[] = [];
    const r = await runTrace(target, { durationSec: 3, workload: { kind: 'iperf3' }, detail: 'full', progress: (m) => progress.push(m) });
    assert.equal(r.host, 'sshhost-lab');
    assert.equal(r.guest, 'remotevm');
    assert.equal(r.virtType, 'qemu');
    assert.match(r.sources.kvm.note ?? '', /TCG/);
    // the iperf3 server listened on the second host's address on remotevm's bridge, which this machine does not have
    assert.equal(r.workload.hostIp, env.SSHHOST_VM_HOST_IP, "host address from the guest's bridge on the second host");
    assert.ok(!localAddresses().includes(r.workload.hostIp), `${r.workload.hostIp} is not an address of this machine`);
    assert.ok(progress.includes(`starting iperf3 server on ${env.SSHHOST_VM_HOST_IP}`), progress.join(' | '));
    assert.ok((r.workload.sentBitsPerSecond ?? 0) > 0, 'iperf3 in the guest sent');
    assert.ok(r.txPackets > 100, `guest sent packets (${r.txPackets})`);
    // both sides count the same kicks: the guest's vp_notify on output.0, QEMU's virtio_queue_notify
    // on the queue with the most kicks (read from QEMU's log file on the second host)
    const g = txKicks(r.guestKicksByQueue);
    assert.ok(g !== undefined && g > 0, `guest kicks by queue: ${JSON.stringify(r.guestKicksByQueue)}`);
    assert.ok(r.sources.qemu.used, JSON.stringify(r.sources.qemu));
    const q = r.qemu.txQueueNotifies;
    assert.ok(q > 0, `QEMU virtio_queue_notify: ${JSON.stringify(r.qemu)}`);
    const diff = Math.abs(g - q) / q;
    assert.ok(diff <= 0.01, `guest TX-queue vp_notify ${g} vs QEMU TX-queue virtio_queue_notify ${q}: ${(diff * 100).toFixed(2)} %`);
    assert.ok((r.qemu.byEvent.virtio_notify ?? 0) > 0, 'QEMU virtio_notify counted');
    for (const f of ['start_xmit', 'virtqueue_add_outbuf', 'vp_notify', 'skb_xmit_done', 'vring_interrupt'])
      assert.ok(r.guestHits[f] > 0, `${f} counted: ${JSON.stringify(r.guestHits)}`);
    assert.ok((r.guestInterrupts?.byName['virtio0-output.0'] ?? 0) > 0, `TX interrupts: ${JSON.stringify(r.guestInterrupts)}`);
    assert.ok(stepFigures(r).some((s) => (s.count ?? 0) > 0));
    assert.ok(!r.warnings.some((w) => /iperf3|no interface|no kprobe|guest:/.test(w)), r.warnings.join('; '));
    // the report says where it was measured, with the figures
    const md = reportMarkdown(r);
    assert.match(md, /^on sshhost-lab · /m);
    assert.match(md, /remotevm/);
    const out = await writeTraceReport(r, `${scratch}/reports`);
    assert.match(fs.readFileSync(out.markdown, 'utf8'), /on sshhost-lab · .*domain type `qemu`/);
    assert.match(out.markdown, /\/trace-remotevm-on-sshhost-lab-[^/]*\.md$/, "the report's file name names the host too");
    await assertNothingLeft(target);
    console.log(
      `# remotevm on sshhost-lab (TCG; agent up ${(bootedMs / 1000).toFixed(0)} s after start): ${r.txPackets} packets, ` +
        `${((r.workload.sentBitsPerSecond ?? 0) / 1e6).toFixed(0)} Mbit/s; guest vp_notify on output.0 ${g}, QEMU virtio_queue_notify on ${r.qemu.txQueue} ${q} ` +
        `(${(diff * 100).toFixed(2)} %); start_xmit ${r.guestHits.start_xmit}; TX interrupts ${r.guestInterrupts?.byName['virtio0-output.0']}, QEMU virtio_notify ${r.qemu.byEvent.virtio_notify}`,
    );
  },
);

test(
  'Trace remotevm at the default detail (kick-path): kicks per queue, packets and interrupts from counters; QEMU untouched',
  { skip, timeout: 420_000 },
  async () => {
    const target = await traceableRemoteVm();
    const r = await runTrace(target, { durationSec: 3, workload: { kind: 'iperf3' } });
    assert.equal(r.host, 'sshhost-lab');
    assert.equal(r.detail, 'kick-path');
    assert.equal(r.workload.hostIp, env.SSHHOST_VM_HOST_IP);
    assert.deepEqual(Object.keys(r.guestHits), ['vp_notify']);
    assert.ok((txKicks(r.guestKicksByQueue) ?? 0) > 0, `guest kicks by queue: ${JSON.stringify(r.guestKicksByQueue)}`);
    assert.ok(r.txPackets > 100, `guest sent packets (${r.txPackets})`);
    assert.equal(stepFigures(r)[0].count, r.txPackets, 'step 1 (start_xmit) from the interface counter');
    assert.deepEqual(r.qemu.events, []);
    assert.ok((r.guestInterrupts?.byName['virtio0-output.0'] ?? 0) > 0, JSON.stringify(r.guestInterrupts));
    await assertNothingLeft(target);
    console.log(
      `# remotevm kick-path: TX-queue kicks ${txKicks(r.guestKicksByQueue)}, TX interrupts ${r.guestInterrupts?.byName['virtio0-output.0']}, packets ${r.txPackets}`,
    );
  },
);

test(
  'a cancelled trace on remotevm cleans up on the second host: probes removed, QEMU events off, its iperf3 server stopped',
  { skip, timeout: 420_000 },
  async () => {
    const target = await traceableRemoteVm();
    const ac = new AbortController();
    const p = runTrace(target, {
      durationSec: 30,
      workload: { kind: 'iperf3' },
      detail: 'full',
      signal: ac.signal,
      progress: (m) => {
        if (m.startsWith('tracing')) setTimeout(() => ac.abort(), 4000);
      },
    });
    await assert.rejects(p, TraceCancelled);
    await assertNothingLeft(target);
  },
);

test('a second trace of remotevm is refused while one runs', { skip, timeout: 420_000 }, async () => {
  const target = await traceableRemoteVm();
  const other = await target.exec.exec(['/bin/sh', '-c', GUEST_LOCK, 'sh', 'other-trace', '120']);
  assert.match(other.stdout, /^locked$/m);
  try {
    await assert.rejects(runTrace(target, { durationSec: 1, workload: { kind: 'external' } }), /another virtio-net trace is running in remotevm \(other-trace/);
  } finally {
    await target.exec.exec(['/bin/sh', '-c', 'rm -f /run/virtscope-trace.lock']);
  }
  await assertNothingLeft(target);
});

test("the trace's workload server runs on the second host: iperf3 there, a client in remotevlxc sends to it", { skip, timeout: 120_000 }, async () => {
  const ct = await running('sshhost:libvirt-lxc', 'remotevlxc');
  const { server, port } = await startIperfServer(host, { bind: env.SSHHOST_ADDR, firstPort: 5211 + Math.floor(Math.random() * 40) });
  try {
    const ex = executorFor(backends.get('sshhost:libvirt-lxc')!, ct);
    const r = await ex.exec(['iperf3', '-c', env.SSHHOST_ADDR, '-p', String(port), '-t', '1', '-J'], { timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    const bps = iperfSentBps(r.stdout);
    assert.ok(bps && bps > 0, 'iperf3 sent');
    console.log(`# iperf3 remotevlxc → server on sshhost-lab ${env.SSHHOST_ADDR}:${port}: ${(bps! / 1e9).toFixed(2)} Gbit/s`);
  } finally {
    await server.stop();
  }
});
