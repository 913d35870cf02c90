// Compare Container vs VM: the benchmark-backed rows, from a report's figures to the cells and
// verdicts, which report counts as the latest, and which of its targets is the picked guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchOf, buildRows, latestReport, reportTargetOf, SideFacts, HostFacts } from '../../src/core/metrics/compare';
import type { BenchReport, MetricId } from '../../src/core/bench/types';

type Kind = 'qemu' | 'lxc' | 'host';
const env = (target: string, kind: Kind) => ({
  target,
  kind,
  virtualization: kind === 'qemu' ? 'qemu' : kind === 'lxc' ? 'container' : 'host',
  tools: {},
  warnings: [],
});

/** A report of cpu and memory on the host, labvm (qemu:///system) and labct (lxc), as the engine writes it. */
function report(
  figures: Record<string, Partial<Record<MetricId, number>>>,
  guests = [
    { connectionId: 'qemu-system', guestId: 'uuid-labvm', guestName: 'labvm', kind: 'qemu' as const },
    { connectionId: 'lxc-tools', guestId: 'labct', guestName: 'labct', kind: 'lxc' as const },
  ],
): BenchReport {
  const kinds: Record<string, Kind> = { host: 'host', labvm: 'qemu', labct: 'lxc' };
  return {
    format: 'virtscope-bench/1',
    id: 'x',
    title: 'cpu, memory on host, labvm, labct',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:10.000Z',
    spec: {
      suites: ['cpu', 'memory'],
      guests,
      options: { netSeconds: 1, latencySeconds: 1, diskSeconds: 1, diskSizeMiB: 16, cpuSeconds: 1, includeHost: true },
    },
    environment: { host: { ...env('host', 'host'), memoryBytes: 2 ** 34 }, targets: guests.map((g) => env(g.guestName, g.kind)) },
    measurements: Object.entries(figures).flatMap(([target, ms]) =>
      Object.entries(ms).map(([metric, value]) => ({ target, kind: kinds[target] ?? 'lxc', metric: metric as MetricId, value: value!, unit: '', runId: 'r1' })),
    ),
    runs: [],
    notes: [],
  };
}

const FIGURES = {
  host: { 'cpu.eventsPerSec': 1000, 'memory.bandwidth': 4000 },
  labct: { 'cpu.eventsPerSec': 1010, 'memory.bandwidth': 3900 },
  labvm: { 'cpu.eventsPerSec': 50, 'memory.bandwidth': 400 },
} as const;

const guest = (id: string, name: string, kind: 'qemu' | 'lxc') => ({ id, name, kind, state: 'running' as const, rawState: 'running' });
const ct = guest('labct', 'labct', 'lxc');
const vm = guest('uuid-labvm', 'labvm', 'qemu');

test('the picked guest is the report target recorded for its connection and id (or name), not a namesake elsewhere', () => {
  const r = report(FIGURES);
  assert.equal(reportTargetOf(r, 'qemu-system', vm), 'labvm');
  assert.equal(reportTargetOf(r, 'qemu-system', { id: 'uuid-new', name: 'labvm' }), 'labvm', 'defined anew: same connection and name');
  assert.equal(reportTargetOf(r, 'other-host', vm), undefined, 'labvm of another connection is another guest');
  assert.equal(reportTargetOf(r, 'lxc-tools', ct), 'labct');
  assert.equal(reportTargetOf(r, 'lxc-tools', { id: 'web', name: 'web' }), undefined, 'not benchmarked');
  assert.deepEqual(benchOf(r, 'qemu-system', vm), FIGURES.labvm);
  assert.equal(benchOf(r, 'other-host', vm), undefined);
  // a report without a recorded spec: by name
  const bare = { ...report(FIGURES), spec: undefined } as unknown as BenchReport;
  assert.deepEqual(benchOf(bare, 'anything', ct), FIGURES.labct);
});

function sides(r?: BenchReport): { c: SideFacts; v: SideFacts; host: HostFacts } {
  const host: HostFacts = {
    cpus: 2,
    memBytes: 2 ** 34,
    kernel: 'Linux 6.1.0',
    hwVirt: false,
    reportName: '20250101T000000Z-cpu-memory-on-host-labvm-labct.json',
  };
  if (r) {
    host.bench = {};
    for (const m of r.measurements) if (m.target === 'host') host.bench[m.metric] = m.value;
  }
  return {
    c: { guest: ct, connectionId: 'lxc-tools', bench: r && benchOf(r, 'lxc-tools', ct) },
    v: { guest: vm, connectionId: 'qemu-system', definition: "<domain type='qemu'><vcpu>1</vcpu></domain>", bench: r && benchOf(r, 'qemu-system', vm) },
    host,
  };
}

test('CPU performance and memory access rows: from the report, against the host, with a verdict', () => {
  const { c, v, host } = sides(report(FIGURES));
  const rows = buildRows(c, v, host);
  const by = (id: string) => rows.find((r) => r.id === id)!;
  for (const id of ['cpu-perf', 'mem-access']) {
    for (const side of ['container', 'vm'] as const) {
      assert.equal(by(id)[side].source, 'benchmark', `${id} ${side}`);
      assert.equal(by(id)[side].detail, host.reportName);
    }
    assert.equal(by(id).needsBenchmark, false, id);
  }
  assert.equal(by('cpu-perf').vm.value, '20.00× slower than the host (sysbench cpu)');
  assert.equal(by('cpu-perf').container.value, '1.01× faster than the host (sysbench cpu)', 'a container a bit faster is not "0.99× slower"');
  assert.equal(by('mem-access').container.value, '1.03× slower than the host (sysbench memory)');
  assert.equal(by('mem-access').vm.value, '10.00× slower than the host (sysbench memory)');
  assert.equal(by('cpu-perf').holds, 'no', 'TCG: "high (with CPU support)" cannot hold');
  assert.match(by('cpu-perf').why, /^VM 20\.20× slower than the container/);
  assert.equal(by('mem-access').holds, 'yes');
  assert.match(by('mem-access').why, /^VM memory bandwidth 9\.75× slower than the container \(TCG/);
  // rows the report has no figures for still say what they need
  for (const id of ['io-tput', 'io-lat', 'claim-net', 'claim-hdd']) {
    assert.equal(by(id).needsBenchmark, true, id);
    assert.match(by(id).vm.detail!, /needs a benchmark report with/);
  }
});

test('without a report the VM CPU row says what the definition says; without a host baseline the figure itself', () => {
  const { c, v, host } = sides();
  const cpu = buildRows(c, v, host).find((r) => r.id === 'cpu-perf')!;
  assert.equal(cpu.vm.source, 'definition');
  assert.match(cpu.vm.value, /TCG/);
  assert.equal(cpu.container.source, 'not measurable');
  assert.equal(cpu.needsBenchmark, true);

  const noHost = sides(report({ labct: FIGURES.labct, labvm: FIGURES.labvm }));
  const mem = buildRows(noHost.c, noHost.v, noHost.host).find((r) => r.id === 'mem-access')!;
  assert.equal(mem.vm.value, '400 MiB/s (sysbench memory)');
  assert.equal(mem.holds, 'yes');
});

test('I/O rows: the verdict reads as a comparison with the container', () => {
  const r = report({
    host: { 'disk.seqread1m': 2000, 'disk.randread4kQd1Lat': 50 },
    labct: { 'disk.seqread1m': 1800, 'disk.randread4kQd1Lat': 60 },
    labvm: { 'disk.seqread1m': 300, 'disk.randread4kQd1Lat': 600 },
  });
  const { c, v, host } = sides(r);
  const rows = buildRows(c, v, host);
  assert.equal(rows.find((x) => x.id === 'io-tput')!.why, 'VM 6.00× slower than the container');
  assert.equal(rows.find((x) => x.id === 'io-lat')!.why, 'VM latency 10.00× that of the container');
  assert.equal(rows.find((x) => x.id === 'io-lat')!.vm.value, '12.00× slower than the host (fio 4k QD1 latency)');
});

test('latestReport: the newest virtscope-bench/1 JSON by its timestamped name; other and half-written JSON skipped', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'virtscope-compare-'));
  try {
    assert.equal(await latestReport(path.join(dir, 'missing')), undefined, 'no folder yet');
    writeFileSync(path.join(dir, '20250101T000000Z-cpu-on-host-labct.json'), JSON.stringify(report(FIGURES)));
    writeFileSync(path.join(dir, '20250102T000000Z-cpu-memory-on-host-labvm-labct.json'), JSON.stringify({ ...report(FIGURES), id: 'newest' }));
    writeFileSync(path.join(dir, '20250102T000000Z-cpu-memory-on-host-labvm-labct.md'), '# not JSON');
    writeFileSync(path.join(dir, '20250103T000000Z-virtio-net-tx-trace-labvm.json'), JSON.stringify({ format: 'virtscope-trace/1' }));
    writeFileSync(path.join(dir, '20250104T000000Z-network-on-host-labvm.json'), '{"format":"virtscope-bench/1","id":'); // being written
    const got = await latestReport(dir);
    assert.equal(got?.report.id, 'newest');
    assert.equal(path.basename(got!.file), '20250102T000000Z-cpu-memory-on-host-labvm-labct.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
