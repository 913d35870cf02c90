import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  domainVirtType,
  hostEndpointFor,
  jsonFrom,
  parseFio,
  parseIperf3,
  parseIpAddrJson,
  parseIpAddrOneline,
  parsePing,
  parseSockperf,
  parseSysbenchCpu,
  parseSysbenchMemory,
} from '../../src/core/bench/parse';
import { fioArgv, installHint } from '../../src/core/bench/engine';
import { readPath, valueFromRun } from '../../src/core/bench/types';

test('iperf3 -J: receiver figure; errors are raised', () => {
  const j = { end: { sum_sent: { bits_per_second: 2e9, retransmits: 3 }, sum_received: { bits_per_second: 1.9e9, seconds: 1 } } };
  assert.equal(parseIperf3(j).receivedBps, 1.9e9);
  assert.throws(() => parseIperf3({ error: 'unable to connect to server: Connection refused' }), /Connection refused/);
  assert.throws(() => parseIperf3({}), /sum_received/);
  assert.deepEqual(jsonFrom('x', 'warning: foo\n{"a":1}\n'), { a: 1 });
  assert.throws(() => jsonFrom('x', 'nothing'), /no JSON/);
});

test('fio json jobs', () => {
  const jobs = parseFio({ jobs: [{ jobname: 'a', read: { iops: 10, bw_bytes: 4096, clat_ns: { mean: 1500 } }, write: { iops: 0, bw_bytes: 0 }, error: 0 }] });
  assert.equal(jobs[0].readIops, 10);
  assert.equal(jobs[0].readClatMeanNs, 1500);
  assert.throws(() => parseFio({}));
});

test('text tools: strict summary lines', () => {
  assert.equal(parseSockperf('sockperf: \x1b[2;35m====> avg-rtt=39.659\x1b[0m\nsockperf: Summary: Round trip is 39.659 usec\n').rttUs, 39.659);
  assert.throws(() => parseSockperf('sockperf: error'));
  const p = parsePing('3 packets transmitted, 3 received, 0% packet loss, time 29ms\nrtt min/avg/max/mdev = 0.045/0.054/0.069/0.010 ms\n');
  assert.equal(p.avgUs, 54);
  assert.equal(parsePing('3 packets transmitted, 3 packets received, 0% packet loss\nround-trip min/avg/max = 0.1/0.2/0.3 ms').avgUs, 200);
  assert.equal(parseSysbenchCpu('CPU speed:\n    events per second:  3089.34\n').eventsPerSec, 3089.34);
  assert.equal(parseSysbenchMemory('3330.45 MiB transferred (3326.64 MiB/sec)').mibPerSec, 3326.64);
  assert.throws(() => parseSysbenchCpu('FATAL'));
});

test('addresses: guest ↔ host endpoint on the same subnet', () => {
  const g = parseIpAddrOneline('1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 10.77.0.20/24 brd 10.77.0.255 scope global eth0\n');
  assert.deepEqual(g, [{ ifname: 'eth0', address: '10.77.0.20', prefix: 24 }]);
  const h = parseIpAddrJson([
    { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.168.1.5', prefixlen: 24 }] },
    { ifname: 'vsbr0', addr_info: [{ family: 'inet', local: '10.77.0.1', prefixlen: 24 }] },
  ]);
  assert.equal(hostEndpointFor(g, h)?.host.address, '10.77.0.1');
  assert.equal(hostEndpointFor([], h), undefined);
  assert.equal(hostEndpointFor(g, [{ address: '10.78.0.1', prefix: 24 }]), undefined);
  // a guest in the host's own network namespace (the same address): it reaches the host there
  const shared = [{ ifname: 'vsh1', address: '10.81.0.2', prefix: 30 }];
  assert.deepEqual(hostEndpointFor(shared, shared), { guest: shared[0], host: shared[0], shared: true });
  assert.equal(hostEndpointFor([...g, ...shared], [...h, ...shared])?.host.address, '10.77.0.1', 'an address of its own in a host subnet first');
  assert.equal(domainVirtType("<domain type='qemu' id='3'>"), 'qemu');
  assert.equal(domainVirtType('<domain type="kvm">'), 'kvm');
});

test('fio argv: one invocation, six stonewalled jobs, no writes on a raw device unless allowed', () => {
  const a = fioArgv('/tmp/f', { diskSeconds: 2, diskSizeMiB: 16 }, 'tag', true, true);
  assert.equal(a.filter((x) => x.startsWith('--name=')).length, 6);
  assert.ok(a.includes('--direct=1') && a.includes('--output-format=json') && a.includes('--filename=/tmp/f'));
  const r = fioArgv('/dev/vda', { diskSeconds: 2, diskSizeMiB: 16 }, 'tag', false, true);
  assert.ok(!r.some((x) => /write/.test(x)));
  assert.match(installHint('sockperf'), /apt-get install sockperf/);
});

test('values are recomputed from the raw tool output', () => {
  assert.equal(readPath({ jobs: [{ read: { iops: 5 } }] }, 'jobs[0].read.iops'), 5);
  const run = { id: 'r1', target: 'h', tool: 'fio', argv: [], exitCode: 0, durationMs: 1, raw: { end: { sum_received: { bits_per_second: 2e9 } } } };
  assert.equal(
    valueFromRun(
      { target: 'h', kind: 'host', metric: 'net.guestToHost', value: 2, unit: 'Gbit/s', runId: 'r1', rawPath: 'end.sum_received.bits_per_second', scale: 1e-9 },
      run,
    ),
    2,
  );
  const text = { ...run, raw: 'rtt min/avg/max/mdev = 0.045/0.054/0.069/0.010 ms' };
  assert.equal(valueFromRun({ target: 'h', kind: 'host', metric: 'net.icmpRtt', value: 54, unit: 'µs', runId: 'r1', printed: '0.054', scale: 1000 }, text), 54);
});
