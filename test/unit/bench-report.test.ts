import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changePct, evaluateClaims, readReport, renderComparison, renderMarkdown, slowdown, slugify, writeReport } from '../../src/core/bench/report';
import { BenchReport, DEFAULT_OPTIONS, MetricId } from '../../src/core/bench/types';
import { machineOf, type ResolvedTarget } from '../../src/core/bench/engine';
import type { Host } from '../../src/core/host/host';
import { localHost } from '../../src/core/host/local';

function report(values: Record<string, Partial<Record<MetricId, number>>>, vt = 'kvm'): BenchReport {
  const env = (target: string, kind: any) => ({
    target,
    kind,
    virtualization: kind === 'qemu' ? vt : 'container (shares the host kernel)',
    tools: {},
    warnings: [],
  });
  const kinds: Record<string, any> = { vm: 'qemu', ct: 'lxc' };
  const measurements = Object.entries(values).flatMap(([target, ms]) =>
    Object.entries(ms).map(([metric, value]) => ({
      target,
      kind: target === 'host' ? ('host' as const) : kinds[target],
      metric: metric as MetricId,
      value: value!,
      unit: 'x',
      runId: 'r1',
    })),
  );
  return {
    format: 'virtscope-bench/1',
    id: 'id1',
    title: 'network, disk on host, vm, ct',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    spec: { suites: ['network', 'disk'], guests: [], options: DEFAULT_OPTIONS },
    environment: {
      host: { ...env('host', 'host'), virtualization: 'host', memoryBytes: 2 ** 30 },
      targets: Object.keys(values)
        .filter((t) => t !== 'host')
        .map((t) => env(t, kinds[t])),
    },
    measurements,
    runs: [{ id: 'r1', target: 'host', tool: 'iperf3', argv: ['iperf3', '-c', 'a|b'], exitCode: 0, durationMs: 1000, raw: {} }],
    notes: [{ target: 'vm', level: 'missing-tool', message: 'missing tool sockperf in guest vm: install with: apt-get install sockperf' }],
  };
}

test('slowdown: throughput is fast/slow, latency slow/fast', () => {
  assert.equal(slowdown('net.guestToHost', 2, 10), 5);
  assert.equal(slowdown('net.tcpRtt', 100, 20), 5);
  assert.equal(slowdown('net.tcpRtt', undefined, 20), undefined);
  assert.equal(changePct(100, 110)!.toFixed(1), '10.0');
});

test("claims: the container-vs-KVM table's 5x network confirmed, disk not; Felter throughput vs host", () => {
  const r = report({
    host: { 'net.guestToHost': 10, 'disk.randread4kQd32': 1000 },
    ct: { 'net.guestToHost': 10, 'disk.randread4kQd32': 1000 },
    vm: { 'net.guestToHost': 2, 'disk.randread4kQd32': 900 },
  });
  const c = Object.fromEntries(evaluateClaims(r).map((x) => [x.claim.id, x]));
  assert.equal(c['table-net'].verdict, 'confirmed');
  assert.equal(c['table-disk'].verdict, 'not confirmed');
  assert.equal(c['felter-tput'].verdict, 'not confirmed');
  assert.equal(c['felter-rand'].verdict, 'not confirmed');
  assert.equal(c['felter-rr'].verdict, 'not measured');
});

test('markdown: every figure, ratios, claims table, notes, escaped argv', () => {
  const r = report({ host: { 'net.guestToHost': 10 }, ct: { 'net.guestToHost': 8 }, vm: { 'net.guestToHost': 2 } }, 'qemu (TCG emulation)');
  const md = renderMarkdown(r, 'x.json');
  assert.match(md, /\| TCP throughput guest → host \(iperf3\) \| Gbit\/s \| 10\.0 \| 8\.00 \| 2\.00 \|/);
  assert.match(md, /### Guest \/ host/);
  assert.match(md, /\| TCP throughput guest → host \(iperf3\) \| 4\.00× \|/);
  assert.match(md, /Networking, container vs KVM: approx\. 5x slower \| container-vs-KVM table .*\| confirmed \(TCG\)/);
  assert.match(md, /TCG-emulated/);
  assert.match(md, /missing tool sockperf in guest vm/);
  assert.match(md, /iperf3 -c a\\\|b/);
});

test('write, read back, compare', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsb-'));
  try {
    const a = report({ host: { 'net.guestToHost': 10 }, vm: { 'net.guestToHost': 2 } });
    const { md, json } = await writeReport(a, dir);
    assert.match(md, /20260101T000000Z-network-disk-on-host-vm-ct\.md$/);
    assert.deepEqual(await readReport(json), a);
    assert.ok(readFileSync(md, 'utf8').startsWith('# virtscope benchmark'));
    const b = report({ host: { 'net.guestToHost': 12 }, vm: { 'net.guestToHost': 1 } });
    const cmp = renderComparison(a, b, 'old', 'new');
    assert.match(cmp, /\| host \| TCP throughput guest → host \(iperf3\) \| Gbit\/s \| 10\.0 \| 12\.0 \| \+20\.0 % \| better \|/);
    assert.match(cmp, /\| vm \| .* \| 2\.00 \| 1\.00 \| -50\.0 % \| worse \|/);
    await assert.rejects(readReport(md));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(slugify('Network, disk on host / labvm!'), 'network-disk-on-host-labvm');
});

test('the report names the machine it was measured on; a report from before hosts has no such line', () => {
  const r = report({ host: { 'net.guestToHost': 10 } });
  assert.doesNotMatch(renderMarkdown(r), /Measured on/);
  r.environment.host = { ...r.environment.host, machine: 'kvm2', hostname: 'kvm2.example' };
  assert.match(renderMarkdown(r), /^Measured on \*\*kvm2\*\* \(hostname `kvm2\.example`\): the host baseline/m);
});

test("one run measures one host's guests: guests of two hosts are refused, naming each host's", () => {
  const g = (name: string, host?: Host) => ({ host, guest: { name } }) as unknown as ResolvedTarget;
  const kvm2 = { label: 'kvm2' } as Host;
  assert.equal(machineOf([]), localHost);
  assert.equal(machineOf([g('a'), g('b')]), localHost);
  assert.equal(machineOf([g('a', kvm2), g('b', kvm2)]), kvm2);
  assert.throws(() => machineOf([g('a'), g('b', kvm2), g('c', kvm2)]), /different hosts in one run \(a on this machine; b, c on kvm2\)/);
});
