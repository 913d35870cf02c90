// A short run of every suite on the host, labct (lxc-tools), labvlxc (libvirt-LXC) and labvm (QEMU):
// every number in the report equals what the tool printed (recomputed from the raw output kept in the
// JSON). A cancelled run leaves no benchmark process and no temporary file, in any guest or on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { createBackend } from '../../src/core/backends';
import { Backend, ConnectionConfig } from '../../src/core/model';
import { BenchCancelled, ResolvedTarget, runBenchmark } from '../../src/core/bench/engine';
import { resolveTargets } from '../../src/core/bench/resolve';
import { BenchOptions, DEFAULT_OPTIONS, valueFromRun } from '../../src/core/bench/types';
import { readReport, renderMarkdown, writeReport } from '../../src/core/bench/report';
import { executorFor } from '../../src/core/guest/exec';
import { descendantsOf, statPpid } from '../../src/core/host/local';

const CONNS: ConnectionConfig[] = [
  { id: 'qemu-system', type: 'libvirt', uri: 'qemu:///system' },
  { id: 'lxc-system', type: 'libvirt', uri: 'lxc:///system' },
  { id: 'lxc-tools', type: 'lxc' },
  { id: 'containers', type: 'docker', socketPath: '/run/podman/podman.sock' },
];
export const SHORT: BenchOptions = {
  ...DEFAULT_OPTIONS,
  netSeconds: 1,
  latencySeconds: 1,
  diskSeconds: 1,
  diskSizeMiB: 16,
  cpuSeconds: 1,
  hostNetworkNamespace: 'virtscope-lab',
};

const backends = new Map<string, Backend>();
const conns = CONNS.map((c) => ({
  id: c.id,
  backend: async () => {
    let b = backends.get(c.id);
    if (!b) {
      b = createBackend(c);
      await b.connect();
      backends.set(c.id, b);
    }
    return b;
  },
}));

before(async () => {
  for (const c of conns) await c.backend();
});
after(async () => {
  for (const b of backends.values()) await b.close();
});

async function hostDescendants(): Promise<string[]> {
  const m = new Map<number, number>();
  for (const e of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = await fs.readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const pp = statPpid(st);
    if (pp !== undefined) m.set(+e, pp);
  }
  const out: string[] = [];
  for (const p of descendantsOf(process.pid, m)) {
    const cmd = (await fs.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
    if (cmd && !/esbuild --service/.test(cmd)) out.push(`${p} ${cmd}`);
  }
  return out;
}

/** The engine's fio files: virtscope-bench-<yyyymmddThhmmss>-<6 hex>.fio */
const OUR_FILE = /^virtscope-bench-\d{8}T\d{6}-[0-9a-f]{6}\.fio$/;
/** The host's scratch directory for its fio file (the host's mkdtemp): virtscope-bench-<6 characters> */
const OUR_DIR = /^virtscope-bench-[A-Za-z0-9]{6}$/;

async function guestPs(t: ResolvedTarget): Promise<string> {
  const ex = executorFor(t.backend, t.guest);
  return (await ex.exec(['ps', '-o', 'pid,args'], { timeoutMs: 20_000 })).stdout;
}
async function guestTmpFiles(t: ResolvedTarget): Promise<string[]> {
  const ex = executorFor(t.backend, t.guest);
  const r = await ex.exec(['ls', '-a', '/tmp', '/var/tmp'], { timeoutMs: 20_000 });
  return r.stdout.split('\n').filter((l) => OUR_FILE.test(l.trim()));
}
// Files a run of ours left in the host's temp dir. Ones there before this test file started (a
// benchmark process killed by SIGKILL elsewhere cannot clean up) are not this run's.
const ours = (f: string) => OUR_FILE.test(f) || OUR_DIR.test(f);
const preexisting = fs.readdir(tmpdir()).then((names) => new Set(names.filter(ours)));
async function hostTmpFiles(): Promise<string[]> {
  const before = await preexisting;
  return (await fs.readdir(tmpdir())).filter((f) => ours(f) && !before.has(f));
}

test("every suite on host, labct, labvlxc, labvm: report figures equal the tools' output", async () => {
  const targets = await resolveTargets(
    ['labct', 'labvlxc', { guestName: 'labvm', connectionId: 'qemu-system', diskPath: '/dev/vda', rawDeviceWrites: true }],
    conns,
  );
  const steps: string[] = [];
  const rep = await runBenchmark({ suites: ['network', 'disk', 'cpu', 'memory'], guests: targets.map((t) => t.ref), options: SHORT }, targets, {
    progress: (s) => steps.push(s),
  });
  assert.ok(steps.includes('labvm: disk') && steps.includes('host: network'), steps.join(', '));
  // every measurement recomputed from the raw tool output in the report
  assert.ok(rep.measurements.length >= 4 * 8, `only ${rep.measurements.length} figures`);
  for (const m of rep.measurements) {
    const run = rep.runs.find((r) => r.id === m.runId)!;
    assert.ok(run, `${m.metric}: no run ${m.runId}`);
    assert.equal(valueFromRun(m, run), m.value, `${m.target} ${m.metric}`);
    assert.equal(run.exitCode, 0);
  }
  const has = (t: string, metric: string) => rep.measurements.some((m) => m.target === t && m.metric === metric);
  for (const t of ['host', 'labct', 'labvlxc', 'labvm']) {
    for (const metric of ['net.guestToHost', 'net.hostToGuest', 'net.icmpRtt', 'disk.randread4kQd1', 'disk.randwrite4kQd32', 'disk.seqread1m']) {
      assert.ok(has(t, metric), `${t}: ${metric} missing`);
    }
  }
  for (const t of ['host', 'labct', 'labvlxc', 'labvm']) assert.ok(!rep.notes.some((n) => n.level === 'error' && n.target === t), JSON.stringify(rep.notes));
  assert.ok(has('host', 'net.tcpRtt') && has('host', 'cpu.eventsPerSec') && has('host', 'memory.bandwidth'));
  // each guest either measured CPU/memory/TCP latency, or says which tool is missing and how to install
  // it (the lab's guest images carry sysbench and sockperf since lab build v4; older ones do not)
  for (const t of ['labct', 'labvlxc', 'labvm']) {
    for (const [metric, tool] of [
      ['cpu.eventsPerSec', 'sysbench'],
      ['memory.bandwidth', 'sysbench'],
      ['net.tcpRtt', 'sockperf'],
    ]) {
      const missing = rep.notes.some((n) => n.level === 'missing-tool' && new RegExp(`${tool} in guest ${t}: install with`).test(n.message));
      assert.ok(has(t, metric) || missing, `${t}: neither ${metric} nor a missing-${tool} note`);
    }
  }
  // iperf3 JSON of a guest run: the figure is the receiver's
  const g2h = rep.measurements.find((m) => m.target === 'labvm' && m.metric === 'net.guestToHost')!;
  const run = rep.runs.find((r) => r.id === g2h.runId)!;
  assert.equal(g2h.value, (run.raw as any).end.sum_received.bits_per_second * 1e-9);
  assert.ok(run.argv.includes('10.77.0.1'), 'guest traffic goes to the lab bridge address');
  assert.match(rep.environment.targets.find((t) => t.target === 'labvm')!.virtualization, /kvm|TCG/);
  // written and read back; markdown contains every figure
  const dir = await fs.mkdtemp(`${tmpdir()}/vsb-report-`);
  try {
    const { md, json } = await writeReport(rep, dir);
    assert.deepEqual(await readReport(json), JSON.parse(JSON.stringify(rep)));
    const text = await fs.readFile(md, 'utf8');
    assert.equal(text, renderMarkdown(rep, json.split('/').pop()));
    assert.match(text, /## The container-vs-KVM table's claims and Felter et al\. on this host/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(await hostDescendants(), []);
  assert.deepEqual(await hostTmpFiles(), []);
  for (const t of targets) assert.deepEqual(await guestTmpFiles(t), [], t.guest.name);
});

for (const c of [
  { guest: 'labvm', suite: 'network' as const, marker: /iperf3 .*virtscope-/ },
  { guest: 'labct', suite: 'disk' as const, marker: /fio .*virtscope-/ },
  { guest: 'labvlxc', suite: 'disk' as const, marker: /fio .*virtscope-/ },
  { guest: 'labvlxc', suite: 'network' as const, marker: /iperf3 .*virtscope-/ },
]) {
  test(`cancel during ${c.suite} in ${c.guest}: no process and no temporary file left`, async () => {
    const [t] = await resolveTargets([c.guest], conns);
    const ac = new AbortController();
    const p = runBenchmark({ suites: [c.suite], guests: [t.ref], options: { ...SHORT, includeHost: false, netSeconds: 30, diskSeconds: 30 } }, [t], {
      signal: ac.signal,
    });
    p.catch(() => undefined);
    // wait until the tool really runs in the guest, then cancel
    const t0 = Date.now();
    for (;;) {
      if (c.marker.test(await guestPs(t))) break;
      assert.ok(Date.now() - t0 < 30_000, 'the benchmark tool never showed up in the guest');
      await new Promise((r) => setTimeout(r, 150));
    }
    while (c.suite === 'disk' && !(await guestTmpFiles(t)).length) {
      assert.ok(Date.now() - t0 < 30_000, 'no fio file while fio runs');
      await new Promise((r) => setTimeout(r, 100));
    }
    const tc = Date.now();
    ac.abort();
    await assert.rejects(p, BenchCancelled);
    assert.ok(Date.now() - tc < 30_000, 'cancel took too long');
    const ps = await guestPs(t);
    assert.ok(!/virtscope-/.test(ps), `left in ${c.guest}:\n${ps}`);
    assert.deepEqual(await guestTmpFiles(t), []);
    assert.deepEqual(await hostDescendants(), []);
  });
}

test('cancel during the host baseline disk suite: fio stopped, file removed', async () => {
  const ac = new AbortController();
  const p = runBenchmark({ suites: ['disk'], guests: [], options: { ...SHORT, diskSeconds: 30 } }, [], { signal: ac.signal });
  p.catch(() => undefined);
  const t0 = Date.now();
  while (!(await hostDescendants()).some((l) => / fio /.test(` ${l} `))) {
    assert.ok(Date.now() - t0 < 20_000, 'fio never started');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  ac.abort();
  await assert.rejects(p, BenchCancelled);
  assert.deepEqual(await hostDescendants(), []);
  assert.deepEqual(await hostTmpFiles(), []);
});
