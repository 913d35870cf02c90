// Metrics parsers and rate maths on outputs recorded on this machine (test/fixtures/metrics/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  engineCounters,
  memSummary,
  meminfoSummary,
  parseBlkioV1,
  parseDf,
  parseDiskstats,
  parseIoStatV2,
  parseKeyValues,
  parseMeminfo,
  parseNetDev,
  parseProcCgroup,
  parseProcStat,
  parsePsi,
  looksLikeWholeDisk,
} from '../../src/core/metrics/parse';
import { derive, deriveRow, newRow, rate, Ring, RingPool, ringBytes, HOST_KEYS, GUEST_KEYS, HISTORY_POINTS } from '../../src/core/metrics/series';
import { BYTES_PER_GUEST_HOUR } from '../../src/core/metrics/sampler';
import { countersFromDomainStats } from '../../src/core/metrics/domainStats';
import { parseGuestSide, deriveGuestSide } from '../../src/core/metrics/guestSide';
import { readHost } from '../../src/core/metrics/hostReader';
import { ProcFiles } from '../../src/core/host/procFiles';
import { cgroupCounters, cgroupPsi, cgroupPsiOfPid } from '../../src/core/metrics/cgroup';
import * as P from '../../src/core/libvirt/protocol';
import { StringCache, XdrReader, XdrWriter } from '../../src/core/libvirt/xdr';

const fx = (f: string) => readFileSync(path.join(__dirname, '../fixtures/metrics', f), 'utf8');

test('/proc/stat: busy and total jiffies; two readings 1 s apart give the host CPU %', () => {
  const a = parseProcStat(fx('host-proc-stat.1'));
  const b = parseProcStat(fx('host-proc-stat.2'));
  assert.equal(a.perCpu.length, 2);
  assert.equal(a.all.total, 289674 + 2837 + 76151 + 261952 + 3451 + 0 + 5904 + 12843);
  assert.equal(a.all.busy, a.all.total - 261952 - 3451);
  // idle and iowait did not move between the two readings: the host was saturated (others' tests)
  const p = derive({ hostCpu: a.all }, { hostCpu: b.all }, 1, 2);
  assert.equal(p.cpu, 100);
});

test('/proc/meminfo: bytes, used = total − available', () => {
  const m = parseMeminfo(fx('host-meminfo'));
  assert.equal(m.MemTotal, 24683656 * 1024);
  const s = memSummary(m);
  assert.equal(s.available, 22556680 * 1024);
  assert.equal(s.used, (24683656 - 22556680) * 1024);
});

test('PSI: some/full avg10 and totals', () => {
  const p = parsePsi(fx('host-pressure-cpu'))!;
  assert.equal(p.some.avg10, 90.32);
  assert.equal(p.some.total, 1178274290);
  assert.equal(p.full!.avg10, 0);
  assert.ok(parsePsi(fx('host-pressure-io')));
  assert.equal(parsePsi(fx('lxc-v2-cpu.pressure'))!.some.avg10 >= 0, true);
  assert.equal(parsePsi(''), undefined);
});

test('/proc/diskstats: whole disks only, 512-byte sectors; rates from two readings', () => {
  const isDisk = (n: string) => n === 'vda';
  const a = parseDiskstats(fx('host-diskstats.1'), isDisk);
  const b = parseDiskstats(fx('host-diskstats.2'), isDisk);
  assert.deepEqual(a.devices, ['vda']);
  assert.equal(a.rdBytes, 107865842 * 512);
  const p = derive({ io: a }, { io: b }, 1, 2);
  assert.equal(p.diskRd, 32 * 512);
  assert.equal(p.diskRdOps, 4);
  assert.equal(p.diskWr, 8 * 512);
  assert.equal(p.diskWrOps, 1);
  assert.equal(looksLikeWholeDisk('vda'), true);
  assert.equal(looksLikeWholeDisk('vda1'), false);
  assert.equal(looksLikeWholeDisk('nvme0n1'), true);
  assert.equal(looksLikeWholeDisk('nvme0n1p2'), false);
  assert.equal(looksLikeWholeDisk('loop0'), false);
});

test('/proc/net/dev: lo excluded, totals of the other interfaces', () => {
  const n = parseNetDev(fx('host-net-dev.1'));
  assert.ok(!n.interfaces.includes('lo'));
  assert.ok(n.interfaces.includes('eth0'));
  assert.equal(n.rxBytes, 709643906);
  assert.equal(n.txPkts, 22157);
  const withLo = parseNetDev(fx('host-net-dev.1'), true);
  assert.equal(withLo.rxBytes, 709643906 + 32007092565);
  const c = parseNetDev(fx('lxc-net-dev'));
  assert.ok(c.interfaces.includes('eth0'), 'container netns has eth0');
});

test('cgroup v1 and v2 files (hybrid layout) of an lxc-tools container', () => {
  const cg = parseProcCgroup(fx('lxc-proc-cgroup'));
  assert.equal(cg.v1.cpuacct, '/lxc.payload.labct');
  assert.equal(cg.v1.memory, '/lxc.payload.labct');
  assert.equal(cg.v2, '/lxc.payload.labct');
  const ms = parseKeyValues(fx('lxc-memory.stat'));
  assert.equal(ms.total_cache, 2703360);
  assert.equal(ms.total_rss, 6184960);
  assert.equal(Number(fx('lxc-cpuacct.usage').trim()), 7163000628);
  assert.equal(parseKeyValues(fx('lxc-v2-cpu.stat')).usage_usec, 7163328);
  const b = parseBlkioV1(fx('lxc-blkio.throttle.io_service_bytes'));
  assert.equal(b.read, 1132630016);
  assert.equal(b.write, 31314657280);
  const io = parseIoStatV2('254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=1 rios=1 wios=1');
  assert.deepEqual(io, { rdBytes: 4097, wrBytes: 8193, rdOps: 2, wrOps: 3 });
});

test('Podman stats (stream=false): CPU ns, memory, network', () => {
  const e = engineCounters(JSON.parse(fx('podman-stats.json')));
  assert.equal(e.cpuNs, 629413367);
  assert.equal(e.memUsed, 573440);
  assert.equal(e.net.rxBytes, 0);
  assert.equal(e.pids, 2);
  assert.equal(e.io.rdBytes, 512000);
});

test('libvirt bulk stats → counters (names as virsh domstats prints them)', () => {
  const params: Record<string, number | string> = {};
  for (const line of fx('qemu-virsh-domstats.txt').split('\n')) {
    const m = /^\s+([\w.-]+)=(.*)$/.exec(line);
    if (m) params[m[1]] = /^-?\d+$/.test(m[2]) ? Number(m[2]) : m[2];
  }
  const c = countersFromDomainStats(params, 'qemu');
  assert.equal(c.cpuNs, 327757780195);
  assert.equal(c.cpuCap, 1);
  assert.deepEqual(c.vcpuNs, [273680000000]);
  assert.equal(c.memUsed, 1038020 * 1024, 'QEMU RSS');
  assert.equal(c.memAlloc, 524288 * 1024);
  assert.equal(c.net!.rxBytes, 833043122);
  assert.equal(c.io!.rdBytes, 2962448896);
  assert.equal(c.io!.wrOps, 19858);
  // one more second of one full vCPU: 50 % of a 2-CPU host, 100 % of its own vCPU
  const later = { ...c, cpuNs: c.cpuNs! + 1e9, vcpuNs: [c.vcpuNs![0] + 1e9] };
  const p = derive(c, later, 1, 2);
  assert.equal(p.cpu, 50);
  assert.equal(p.cpuAlloc, 100);
  assert.equal(p.vcpu0, 100);
  const lx = countersFromDomainStats({ 'cpu.time': 5, 'balloon.current': 1000, 'balloon.maximum': 4000 }, 'libvirt-lxc');
  assert.equal(lx.memUsed, 1000 * 1024);
  assert.equal(lx.memAlloc, 4000 * 1024);
});

test('bulk stats → counters: devices summed over the ones that report, vCPUs up to the first gap', () => {
  const params: Record<string, number | string> = {
    'vcpu.current': 3,
    'vcpu.0.time': 5e9,
    'vcpu.1.time': 7e9,
    'vcpu.2.time': 'n/a',
    'block.count': 3,
    'block.0.rd.bytes': 10,
    'block.0.wr.reqs': 2,
    'block.2.rd.bytes': 5,
    'block.2.wr.bytes': 1,
    'block.1.rd.reqs': -1,
    'net.count': 0,
  };
  const c = countersFromDomainStats(params, 'qemu');
  assert.deepEqual(c.vcpuNs, [5e9, 7e9]);
  assert.equal(c.cpuCap, 3);
  assert.deepEqual(c.io, { rdBytes: 15, wrBytes: 1, rdOps: -1, wrOps: 2 });
  assert.deepEqual(c.net, { rxBytes: 0, txBytes: 0, rxPkts: 0, txPkts: 0 });
  assert.equal(countersFromDomainStats({ 'state.state': 1 }, 'qemu').io, undefined, 'no block group asked: no io');
  // the same names on a second call (the name cache) give the same sums
  assert.deepEqual(countersFromDomainStats({ ...params, 'block.2.rd.bytes': 6 }, 'qemu').io!.rdBytes, 16);
  // per-vCPU series stop at the eight the history keeps
  const nine = (ns: number) => Array.from({ length: 9 }, (_, i) => ns * (i + 1));
  const p = derive({ vcpuNs: nine(0) }, { vcpuNs: nine(1e7) }, 1, 2);
  assert.deepEqual(
    Object.keys(p).filter((k) => k.startsWith('vcpu')),
    ['vcpu0', 'vcpu1', 'vcpu2', 'vcpu3', 'vcpu4', 'vcpu5', 'vcpu6', 'vcpu7'],
  );
  assert.equal(p.vcpu7, 8);
});

test('guest side (qemu-guest-agent output): memory, load, kernel, PSI', () => {
  const r = parseGuestSide(fx('qemu-guest-side.txt'), 1000);
  assert.equal(r.memTotal, 481276 * 1024);
  assert.equal(r.cpus, 1);
  assert.match(r.kernel!, /^Linux 6\.1/);
  assert.ok(r.load && r.load[0] >= 0);
  const p = deriveGuestSide(undefined, r);
  assert.equal(p.gMemTotal, 481276 * 1024);
  assert.ok(p.gPsiCpu !== undefined);
  assert.equal(p.gCpu, undefined, 'no rate from a single reading');
  const df = parseDf('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 130048 1024 129024 1% /data\ntmpfs 10 0 10 0% /run');
  assert.deepEqual(df, [{ mount: '/data', source: '/dev/vda', sizeBytes: 130048 * 1024, usedBytes: 1024 * 1024 }]);
});

test('rates: counter resets give no point; ring keeps a fixed bound', () => {
  assert.equal(rate(10, 5, 1), undefined);
  assert.equal(rate(undefined, 5, 1), undefined);
  assert.equal(rate(5, 15, 2), 5);
  const r = new Ring(['a', 'b'], 3);
  for (let i = 0; i < 5; i++) r.push(i * 1000, { a: i, b: i % 2 ? undefined : i });
  assert.equal(r.length, 3);
  const c = r.columns();
  assert.deepEqual(c.t, [2000, 3000, 4000]);
  assert.deepEqual(c.series.a, [2, 3, 4]);
  assert.deepEqual(c.series.b, [2, null, 4]);
  assert.deepEqual(r.columns(3500).t, [4000]);
  assert.deepEqual(r.last()!.p, { a: 4, b: 4 });
  assert.equal(r.bytes, ringBytes(2, 3));
  // the stated bound: one guest, one hour at 1 s, host-side + guest-side series
  assert.equal(BYTES_PER_GUEST_HOUR, HISTORY_POINTS * (8 + 4 * HOST_KEYS.length) + HISTORY_POINTS * (8 + 4 * GUEST_KEYS.length));
  assert.ok(BYTES_PER_GUEST_HOUR < 600 * 1024, `${BYTES_PER_GUEST_HOUR} bytes per guest per hour`);
});

test('ring rows: exact float64 times, float32 values, key subsets, wrap-around', () => {
  const keys = ['x', 'y', 'z'];
  const r = new Ring(keys, 4);
  assert.equal(r.last(), undefined);
  assert.deepEqual(r.columns(), { t: [], series: { x: [], y: [], z: [] } });
  const t0 = 1_764_000_000_123; // a Date.now() value: needs all of float64
  for (let i = 0; i < 6; i++) r.push(t0 + i * 1000, { x: i + 0.5, y: i % 2 ? Infinity : -i, z: i === 5 ? NaN : 1e9 + i });
  assert.equal(r.length, 4);
  const c = r.columns();
  assert.deepEqual(c.t, [t0 + 2000, t0 + 3000, t0 + 4000, t0 + 5000]);
  assert.deepEqual(c.series.x, [2.5, 3.5, 4.5, 5.5]);
  assert.deepEqual(c.series.y, [-2, null, -4, null], 'non-finite values are gaps');
  assert.deepEqual(c.series.z, [Math.fround(1e9 + 2), Math.fround(1e9 + 3), Math.fround(1e9 + 4), null]);
  assert.deepEqual(r.columns(t0 + 3500, ['z', 'nope', 'x']), { t: [t0 + 4000, t0 + 5000], series: { z: [Math.fround(1e9 + 4), null], x: [4.5, 5.5] } });
  assert.deepEqual(r.last(), { t: t0 + 5000, p: { x: 5.5 } });
  // rows do not bleed into each other: every key of every row reads back what was pushed
  const wide = new Ring(HOST_KEYS, 7);
  for (let n = 0; n < 10; n++) wide.push(n, Object.fromEntries(HOST_KEYS.map((k, i) => [k, n * 100 + i])));
  const w = wide.columns();
  assert.deepEqual(w.t, [3, 4, 5, 6, 7, 8, 9]);
  HOST_KEYS.forEach((k, i) =>
    assert.deepEqual(
      w.series[k],
      w.t.map((n) => n * 100 + i),
      k,
    ),
  );
  assert.equal(wide.bytes, 7 * (8 + 4 * HOST_KEYS.length));
});

test('meminfoSummary reads the same five fields as memSummary(parseMeminfo(…)), with and without MemAvailable', () => {
  const guestMem = fx('qemu-guest-side.txt').split('@@meminfo\n')[1].split('@@')[0];
  for (const text of [fx('host-meminfo'), guestMem, 'MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  10 kB\nCached:  5 kB\n', 'MemTotal: 5\n', '']) {
    assert.deepEqual(meminfoSummary(text), memSummary(parseMeminfo(text)), JSON.stringify(text.slice(0, 40)));
  }
  // a field name that is the tail of another must not match it
  assert.equal(meminfoSummary('SwapCached:  7 kB\nCached:  3 kB\nMemTotal: 10 kB\nMemFree: 1 kB\nBuffers: 0 kB').cached, 3 * 1024);
});

test('/proc parsers: odd spacing, missing fields and non-numbers as before (NaN, zero, skipped lines)', () => {
  const st = parseProcStat('cpu  1 2 3 4\n cpuX 0\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu1 x 1\nintr 1 2 3\n');
  assert.deepEqual(st.all, { busy: 6, total: 10 });
  assert.equal(st.perCpu.length, 2, 'a line that does not start with cpu is not a CPU');
  assert.deepEqual(st.perCpu[0], { busy: 36 - 4 - 5, total: 36 });
  assert.ok(Number.isNaN(st.perCpu[1].total));
  const d = parseDiskstats('   8       0 sda 1 0 8 0 2 0 16 0 0 0 0\n 8 1 sda1 1 0 8 0 2 0 16 0 0 0 0\nshort line\n', (n) => n === 'sda');
  assert.deepEqual(d, { rdBytes: 8 * 512, wrBytes: 16 * 512, rdOps: 1, wrOps: 2, devices: ['sda'] });
});

test('deriveRow + pushRow keep the same history as derive + push', () => {
  const a = {
    cpuNs: 1e9,
    cpuCap: 2,
    vcpuNs: [1e9, 2e9],
    memUsed: 5,
    io: { rdBytes: 1, wrBytes: 2, rdOps: 3, wrOps: 4 },
    net: { rxBytes: 9, txBytes: 8, rxPkts: 7, txPkts: 6 },
    psi: { cpu: 1.5 },
  };
  const b = { ...a, cpuNs: 2.5e9, vcpuNs: [1.5e9, 1e9], memAlloc: 10, io: { rdBytes: 11, wrBytes: 2, rdOps: 5, wrOps: 4 }, psi: { io: 2 } };
  const host = { hostCpu: { busy: 10, total: 100 } };
  const host2 = { hostCpu: { busy: 30, total: 200 }, memUsed: 1 };
  const byPoint = new Ring(HOST_KEYS, 4);
  const byRow = new Ring(HOST_KEYS, 4);
  const row = newRow();
  for (const [prev, cur, dt] of [
    [a, b, 2],
    [b, a, 1],
    [undefined, a, 0],
    [a, b, 0],
    [host, host2, 1],
  ] as const) {
    byPoint.push(1, derive(prev, cur, dt, 4));
    byRow.pushRow(1, deriveRow(row, prev, cur, dt, 4));
  }
  assert.deepEqual(byRow.columns(), byPoint.columns());
  const p = derive(a, b, 2, 4);
  assert.equal(p.cpuAlloc, 37.5);
  assert.equal(p.vcpu1, undefined, 'a counter that went back is no point');
  assert.equal(p.psiCpu, undefined);
  assert.equal(p.psiIo, 2);
});

test('pooled rings (one buffer per block, row by row) keep the same history as rings of their own', () => {
  const pool = new RingPool(['a', 'b', 'c'], 5, 4);
  const n = 11; // blocks of 1, 2, 4, 4 slots
  const pooled = Array.from({ length: n }, () => pool.take());
  const own = Array.from({ length: n }, () => new Ring(['a', 'b', 'c'], 5));
  const push = (rings: Ring[], t: number) => rings.forEach((r, i) => r.pushRow(t, [t * 100 + i, i % 2 ? NaN : -i, Infinity]));
  for (let t = 0; t < 7; t++) {
    push(pooled, t);
    push(own, t);
    pool.pushed(pooled[n - 1]);
  }
  pooled.forEach((r, i) => assert.deepEqual(r.columns(), own[i].columns(), `ring ${i}`));
  assert.equal(pool.bytes, 11 * ringBytes(3, 5));
  // a released slot comes back empty, at the row the others write next, and writing it leaves the others alone
  pool.release(pooled[4]);
  const again = pool.take();
  assert.equal(again.length, 0);
  assert.equal(again.headRow, pooled[0].headRow);
  again.pushRow(99, [1, 2, 3]);
  pooled.forEach((r, i) => i !== 4 && assert.deepEqual(r.columns(), own[i].columns(), `ring ${i} after reuse`));
  assert.deepEqual(again.columns(), { t: [99], series: { a: [1], b: [2], c: [3] } });
  // a block left empty is dropped
  pool.release(pooled[0]);
  assert.equal(pool.bytes, 10 * ringBytes(3, 5));
});

test('webview messages and restored state are validated', async () => {
  const { validMessage, validState } = await import('../../src/protocol/metrics');
  assert.deepEqual(validMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(validMessage({ type: 'range', seconds: 300 }), { type: 'range', seconds: 300 });
  assert.equal(validMessage({ type: 'range', seconds: 7 }), undefined, 'only the offered ranges');
  assert.equal(validMessage({ type: 'open', guestId: 42 }), undefined);
  assert.equal(validMessage({ type: 'open', guestId: 'x'.repeat(1000) }), undefined);
  assert.deepEqual(validMessage({ type: 'select', side: 'vm', key: 'q|abc', extra: 1 }), { type: 'select', side: 'vm', key: 'q|abc' });
  assert.equal(validMessage({ type: 'select', side: 'host', key: 'x' }), undefined);
  assert.equal(validMessage({ type: 'exec', cmd: 'rm -rf /' }), undefined);
  assert.equal(validMessage(null), undefined);
  assert.deepEqual(validState({ view: 'guest', connectionId: 'q', guestId: 'u', range: 60, junk: '<script>' }), {
    view: 'guest',
    connectionId: 'q',
    guestId: 'u',
    range: 60,
  });
  assert.equal(validState({ view: 'guest', connectionId: 'q' }), undefined, 'a guest panel needs its guest');
  assert.equal(validState({ view: 'other' }), undefined);
  assert.deepEqual(validState({ view: 'compare', range: 5 }), { view: 'compare' });
});

test('comparison rows: the container-vs-KVM table (12 rows) and its two claims, each with sources', async () => {
  const { buildRows } = await import('../../src/core/metrics/compare');
  const guest = (name: string, kind: 'qemu' | 'lxc', extra = {}) => ({ id: name, name, kind, state: 'running' as const, rawState: 'running', ...extra });
  const c = {
    guest: guest('ct', 'lxc'),
    connectionId: 't',
    hostProcs: 3,
    cgroup: { paths: { v1: {} }, version: 'hybrid' as const, cpuShares: 1024, memUsage: 10e6, memAnon: 6e6, memCache: 3e6 },
    // a container's /proc shows the host's two CPUs, and uname the host kernel
    guestSide: {
      ...parseGuestSide(fx('qemu-guest-side.txt').replace(/^cpu0 .*$/m, 'cpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0'), 0),
      kernel: 'Linux 6.1.0-host',
    },
  };
  const vmSide = parseGuestSide(fx('qemu-guest-side.txt'), 0);
  const v = {
    guest: guest('vm', 'qemu', { vcpus: 1, memoryBytes: 512 * 2 ** 20 }),
    connectionId: 'q',
    definition: "<domain type='qemu'><vcpu>1</vcpu><devices><disk><driver name='qemu' cache='none'/></disk><interface/></devices></domain>",
    hostProcs: 1,
    vcpuThreads: 1,
    qemuRssBytes: 1.2 * 2 ** 30,
    guestSide: { ...vmSide, kernel: 'Linux 6.1.0-guest' },
  };
  const host = { cpus: 2, memBytes: 24 * 2 ** 30, kernel: 'Linux 6.1.0-host', hwVirt: false };
  const rows = buildRows(c, v, host);
  assert.equal(rows.length, 14);
  const by = (id: string) => rows.find((r) => r.id === id)!;
  assert.equal(by('cpu-alloc').holds, 'yes');
  assert.match(by('cpu-alloc').container.value, /no quota/);
  assert.equal(by('cpu-alloc').vm.source, 'definition');
  assert.equal(by('mem-loss').vm.source, 'measured');
  assert.equal(by('mem-loss').holds, 'yes');
  assert.equal(by('mem-alloc').holds, 'partly', "cache='none': no double caching");
  assert.equal(by('obs-guest').holds, 'yes', 'container sees the host CPUs (2), the VM its 1 vCPU');
  assert.equal(by('os').holds, 'yes');
  for (const id of ['io-tput', 'io-lat', 'claim-net', 'claim-hdd']) {
    assert.equal(by(id).needsBenchmark, true, id);
    assert.equal(by(id).vm.source, 'not measurable');
  }
  assert.equal(by('cpu-perf').holds, 'unknown');
  assert.match(by('cpu-perf').vm.value, /TCG/);
});

// ---- the bulk-stats decoding the sampler runs every tick (src/core/libvirt) ----------------

const xdr = (write: (w: XdrWriter) => void) => {
  const w = new XdrWriter(8);
  write(w);
  return new XdrReader(Buffer.from(w.finish()));
};
const tp = (field: string, type: number, value: P.TypedParamValue): P.TypedParam => ({ field, type, value });

test('bulk stats decode straight into records: same values as decodeTypedParams + typedParamsToRecord', () => {
  const T = P.TypedParamType;
  const dom = (i: number): P.RemoteDomain => ({ name: `vm-${i}`, uuid: Buffer.alloc(16, i), id: i });
  // names that change between records, in other orders, repeated (the last wins), every type
  const lists: P.TypedParam[][] = [
    [tp('state.state', T.INT, 1), tp('cpu.time', T.ULLONG, 2 ** 50 + 3), tp('net.0.name', T.STRING, 'vnet0'), tp('b', T.BOOLEAN, true)],
    [tp('cpu.time', T.ULLONG, 7), tp('state.state', T.INT, 3), tp('d', T.DOUBLE, 0.5), tp('l', T.LLONG, -(2 ** 40)), tp('u', T.UINT, 4e9)],
    [tp('state.statf', T.INT, 2), tp('cpu.time', T.ULLONG, 8), tp('cpu.time', T.ULLONG, 9), tp('ü', T.STRING, 'ß')],
    [],
    [tp('state.state', T.INT, 1), tp('cpu.time', T.ULLONG, 2 ** 50 + 3), tp('net.0.name', T.STRING, 'vnet0'), tp('b', T.BOOLEAN, false)],
  ];
  const records = lists.map((params, i) => ({ dom: dom(i), params }));
  for (let round = 0; round < 2; round++) {
    const got = P.decodeAllDomainStats(xdr((w) => P.encodeAllDomainStats(w, records)));
    assert.deepEqual(
      got,
      records.map((r) => ({
        dom: r.dom,
        params: P.typedParamsToRecord(
          P.decodeTypedParams(
            xdr((w) => w.array(r.params, P.encodeTypedParam)),
            100,
          ),
        ),
      })),
    );
    assert.deepEqual(got[2].params, { 'state.statf': 2, 'cpu.time': 9, ü: 'ß' });
  }
});

test('bulk stats decoding keeps its error messages (field and domain named only on error)', () => {
  const T = P.TypedParamType;
  const one = (write: (w: XdrWriter) => void) => () =>
    P.decodeAllDomainStats(xdr((w) => (w.uint(1), P.encodeDomain(w, { name: 'web', uuid: Buffer.alloc(16), id: 1 }), write(w))));
  // the domain is 32 bytes (count, name, uuid, id); then the parameter count, field, type, value
  assert.throws(
    one((w) => w.uint(4000)),
    /stats of web length 4000 at offset 32 runs past the end of the data: needs at least 48000 bytes, only 0 left/,
  );
  assert.throws(
    one((w) => w.uint(70000)),
    /stats of web length 70000 at offset 32 exceeds the protocol maximum 4096/,
  );
  assert.throws(
    one((w) => w.uint(1).string('cpu.time').int(T.ULLONG).uint(0)),
    /truncated XDR data reading value of typed parameter cpu\.time at offset 52: needs 8 bytes, only 4 left/,
  );
  assert.throws(
    one((w) => w.uint(1).string('cpu.time').int(99).uint(0)),
    /unknown typed parameter type 99 for cpu\.time at offset 48/,
  );
  assert.throws(
    one((w) => w.uint(1).string('s').int(T.STRING).uint(50)),
    /value of typed parameter s length 50 at offset 48 runs past the end of the data: needs at least 50 bytes, only 0 left/,
  );
  assert.throws(
    one((w) => w.uint(1).uint(9).uint(0).uint(0)),
    /typed parameter field length 9 at offset 36 runs past the end/,
  );
  assert.throws(() => P.decodeTypedParam(xdr((w) => w.string('y'))), /truncated XDR data reading type of typed parameter y at offset 8/);
});

test('string cache: the same bytes at the same slot give the same string, other bytes a new one', () => {
  const c = new StringCache();
  const b = Buffer.from('xxblock.0.rd.bytesblock.0.wr.bytesé');
  const a1 = c.get(b, 2, 18, 0);
  assert.equal(a1, 'block.0.rd.bytes');
  assert.equal(c.get(Buffer.from('block.0.rd.bytes'), 0, 16, 0), 'block.0.rd.bytes');
  assert.equal(c.get(b, 18, 34, 0), 'block.0.wr.bytes', 'same length, other bytes');
  assert.equal(c.get(b, 2, 18, 1), 'block.0.rd.bytes', 'another slot');
  assert.equal(c.get(b, 2, 7, 1), 'block', 'other length');
  assert.equal(c.get(b, 34, b.length, 2), 'é');
  b.write('zzzzz', 2); // the cache keeps its own copy of the bytes
  assert.equal(c.get(Buffer.from('block'), 0, 5, 1), 'block');
});

test('uuidToString: 8-4-4-4-12 lower-case hex of any 16 bytes', () => {
  for (const hex of [
    '00000000000000000000000000000000',
    'ffffffffffffffffffffffffffffffff',
    '6695eb01f6a4830479aa97f2502e193f',
    '0123456789abcdef0f1e2d3c4b5a6978',
  ]) {
    const s = P.uuidToString(Buffer.from(hex, 'hex'));
    assert.equal(s, `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
    assert.deepEqual(P.uuidFromString(s), Buffer.from(hex, 'hex'));
  }
  assert.throws(() => P.uuidToString(new Uint8Array(15)), /16 bytes/);
});

test('64-bit counters read without BigInt round exactly as Number(bigint)', () => {
  const u = [
    0n,
    1n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 53n + 3n,
    2n ** 63n + 1025n,
    2n ** 64n - 1n,
    0x123456789abcdef0n,
  ];
  const s = [0n, -1n, -(2n ** 31n), -(2n ** 32n) - 1n, -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 63n - 1n, -0x123456789abcdefn];
  let seed = 7n;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
    u.push(seed);
    s.push(BigInt.asIntN(64, seed));
  }
  const ru = xdr((w) => u.forEach((v) => w.uhyper(v)));
  for (const v of u) assert.equal(ru.uhyperNumber(), Number(v), `uhyper ${v}`);
  const rs = xdr((w) => s.forEach((v) => w.hyper(v)));
  for (const v of s) assert.equal(rs.hyperNumber(), Number(v), `hyper ${v}`);
  assert.throws(() => xdr((w) => w.uint(1)).uhyperNumber('cpu.time'), /truncated XDR data reading cpu\.time at offset 0: needs 8 bytes, only 4 left/);
});

test('proc files stay open and are read again from the start; missing ones are undefined', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'virtscope-procfiles-'));
  const files = new ProcFiles();
  // descriptors of this process open on `f` (other tests' sockets come and go meanwhile)
  const fdsOn = (f: string) =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === f;
      } catch {
        return false;
      }
    }).length;
  try {
    const f = path.join(dir, 'stat');
    writeFileSync(f, 'one\n');
    assert.equal(files.read(f), 'one\n');
    assert.equal(fdsOn(f), 1, 'kept open');
    writeFileSync(f, 'two, longer\n');
    assert.equal(files.read(f), 'two, longer\n', 'read again from offset 0');
    assert.equal(fdsOn(f), 1, 'the same descriptor');
    const big = 'x'.repeat(100_000) + 'é\n';
    writeFileSync(f, big);
    assert.equal(files.read(f), big, 'larger than the buffer');
    assert.equal(files.read(f), big);
    assert.equal(files.readOpt(path.join(dir, 'missing')), undefined);
    assert.throws(() => files.read(path.join(dir, 'missing')), { code: 'ENOENT' });
    assert.equal(files.read('/proc/version'), readFileSync('/proc/version', 'utf8'));
    files.close();
    assert.equal(fdsOn(f), 0, 'closed');
    assert.equal(files.read(f), big, 'opened again after close');
    files.close();
  } finally {
    files.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // the host reading with and without kept files: the same shape, and nothing left open
  const fds = readdirSync('/proc/self/fd').length;
  const once = await readHost();
  assert.equal(readdirSync('/proc/self/fd').length, fds);
  const kept = new ProcFiles();
  const a = await readHost(kept);
  const b = await readHost(kept);
  kept.close();
  assert.equal(readdirSync('/proc/self/fd').length, fds);
  for (const h of [once, a, b]) {
    assert.ok(h.cpus >= 1 && h.memTotal > 0 && h.hostCpu!.total > 0);
    assert.equal(typeof h.io!.rdBytes, 'number');
    assert.equal(typeof h.net!.rxBytes, 'number');
  }
  assert.ok(b.hostCpu!.total >= a.hostCpu!.total, 'counters read afresh');
});

test('cgroup PSI and CPU time alone: the same values as the full cgroup reading (v2, hybrid, v1)', async () => {
  const psi = (avg10: number) => `some avg10=${avg10} avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'virtscope-cgroup-'));
  const put = (p: string, text: string) => (mkdirSync(path.dirname(p), { recursive: true }), writeFileSync(p, text));
  const lab = '/machine.slice/lab';
  const paths = { v1: { cpuacct: lab, cpu: lab, memory: lab }, v2: lab };
  try {
    const pure = path.join(dir, 'pure');
    put(path.join(pure, 'cgroup.controllers'), 'cpu io memory\n');
    const hybrid = path.join(dir, 'hybrid');
    put(path.join(hybrid, 'unified', 'cgroup.controllers'), '\n');
    const v1only = path.join(dir, 'v1');
    put(path.join(v1only, 'README'), 'no v2 here\n');
    for (const v2root of [pure, path.join(hybrid, 'unified')]) {
      put(path.join(v2root, lab, 'cpu.stat'), 'usage_usec 123456\nuser_usec 1\n');
      put(path.join(v2root, lab, 'cpu.pressure'), psi(1.5));
      put(path.join(v2root, lab, 'memory.pressure'), psi(2.25));
      put(path.join(v2root, lab, 'memory.current'), '4096\n');
    }
    for (const root of [hybrid, v1only]) {
      put(path.join(root, 'cpuacct', lab, 'cpuacct.usage'), '987654321\n');
      put(path.join(root, 'memory', lab, 'memory.usage_in_bytes'), '8192\n');
    }
    const expected = new Map([
      [pure, { cpuNs: 123456000, psi: { cpu: 1.5, memory: 2.25, io: undefined } }],
      [hybrid, { cpuNs: 987654321, psi: { cpu: 1.5, memory: 2.25, io: undefined } }],
      [v1only, { cpuNs: 987654321, psi: undefined }],
    ]);
    for (const [root, want] of expected) {
      const full = await cgroupCounters(paths, root);
      assert.deepEqual({ cpuNs: full.cpuNs, psi: full.psi }, want, `${root}: the full reading`);
      assert.deepEqual(await cgroupPsi(paths, { cpu: true }, root), want, root);
      assert.deepEqual(await cgroupPsi(paths, {}, root), { cpuNs: undefined, psi: want.psi }, `${root} without the CPU time`);
    }
    // the root cgroup is the host's: not read as a guest's
    assert.deepEqual(await cgroupPsi({ v1: {}, v2: '/' }, { cpu: true }, pure), { cpuNs: undefined, psi: undefined });
    assert.equal(await cgroupPsiOfPid(2 ** 22 + 12345, {}, pure), undefined, 'no such process');
    const self = await cgroupPsiOfPid(process.pid, { cpu: true });
    assert.ok(self && (self.cpuNs === undefined || self.cpuNs > 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
