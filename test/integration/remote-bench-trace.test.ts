// Run Benchmark and Trace virtio-net TX Path for guests of the lab's second host, reached only over
// SSH (scripts/lab/ssh-host.sh): the host baseline, the iperf3 and sockperf servers and the fio
// scratch directory are on that host, and the reports name it. The trace's host side (QEMU's monitor,
// its pid, the iperf3 server) is reached there too; remotevm itself cannot be traced (no network
// interface, no guest agent: 16 MiB, no disk), and the trace says so, naming the host, before it
// switches anything on. Guests this file starts are shut off again.
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
import { runTrace } from '../../src/core/trace/engine';
import { iperfSentBps, parseInfoTraceEvents } from '../../src/core/trace/parse';
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

test(
  "Trace virtio-net TX Path on remotevm: its QEMU is reached on the second host, and the trace is refused with that host's reasons",
  { skip, timeout: 120_000 },
  async () => {
    const vm = await running('sshhost:qemu', 'remotevm');
    const target = traceTargetFor(backends.get('sshhost:qemu')!, vm);
    assert.equal(target.host, host, 'the trace works on the host the guest runs on');
    // QEMU events: the monitor of the QEMU on the second host (its pid is in that host's /run)
    const events = parseInfoTraceEvents(await target.hmp('info trace-events'));
    for (const e of ['virtio_queue_notify', 'virtio_notify']) assert.ok(events.has(e), `${e} in QEMU's trace events`);
    const pid = await libvirtDomainPid(host, 'qemu', 'remotevm');
    assert.ok(pid, 'the QEMU pid file is on the second host');
    assert.match((await host.readFile(`/proc/${pid}/cmdline`)).split('\0').join(' '), /guest=remotevm\b/);
    // nothing switched on: the refusal comes before the monitor, the guest and the host are touched
    const progress: string[] = [];
    await assert.rejects(
      runTrace(target, { durationSec: 1, workload: { kind: 'iperf3' }, detail: 'full', progress: (m) => progress.push(m) }),
      /^Error: cannot trace remotevm on sshhost-lab: it has no network interface \(.*\) and no qemu-guest-agent channel \(.*\)$/,
    );
    assert.deepEqual(progress, ['reading the domain']);
    assert.deepEqual(parseInfoTraceEvents(await target.hmp('info trace-events')), events, 'no QEMU trace event was switched');
  },
);

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
