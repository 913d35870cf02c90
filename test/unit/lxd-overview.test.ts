// A member's load line and Member Overview, against answers recorded from a real LXD 5.0.2 cluster
// (test/unit/fixtures/lxd/, RECORD=overview; see its README) replayed by the fake LXD. The
// `cluster_member_state` answer LXD 5.0 lacks is LXD's documented shape, written here (not recorded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LxdApi } from '../../src/core/backends/lxd/api';
import { MemberLoads, memberLoadLine } from '../../src/core/backends/lxd/memberLoad';
import { instanceCounters, parseSamples } from '../../src/core/backends/lxd/metricsText';
import { overviewMarkdown, readOverview } from '../../src/core/backends/lxd/overview';
import type { LxdResources, LxdServer } from '../../src/core/backends/lxd/types';
import type { ClusterMember } from '../../src/core/model';
import { recorded, replaying, sync } from './fake-lxd';

const MEMBER2: ClusterMember = { name: 'member2', status: 'online', rawStatus: 'Online', message: 'Fully operational', roles: ['database'] };

/** What the overview of member2 reads from a server with the `metrics` extension. */
const WITH_METRICS: Parameters<typeof replaying>[0] = [
  ['GET /1.0/instances?', 'instances-recursion2'],
  ['GET /1.0/metrics?target=member2', 'metrics-member2'],
  ['GET /1.0/resources?target=member2', 'resources-member2'],
  ['GET /1.0', 'server'],
];

/** The recorded /1.0 with some API extensions taken away (an older server). */
const serverWithout = (...gone: string[]) => {
  const s = recorded<{ metadata: LxdServer }>('server').body.metadata;
  return { ...s, api_extensions: (s.api_extensions ?? []).filter((e) => !gone.includes(e)) };
};

test("a member's load line: LXD 5.0's resources (CPUs, memory), or its own state where the server has it", () => {
  const r = recorded<{ metadata: LxdResources }>('resources-member2').body.metadata;
  const line = memberLoadLine({ resources: r })!;
  assert.match(line, /^\d+ CPUs? · [\d.]+ (MiB|GiB) of [\d.]+ GiB RAM used$/);
  assert.ok(line.startsWith(`${r.cpu!.total} CPU`), line);
  assert.equal(
    memberLoadLine({ state: { sysinfo: { load_averages: [0.42, 0.3, 0.21], total_ram: 4 * 1024 ** 3, free_ram: 3 * 1024 ** 3 } } }),
    'load 0.42 0.30 0.21 · 1 GiB of 4 GiB RAM used',
  );
  assert.equal(memberLoadLine({}), undefined);
  assert.equal(recorded('member-state-501').status, 501, 'LXD 5.0.2 has no member state');
});

test('memberLoad asks the resources of the member (?target=) where the server has no cluster_member_state', async () => {
  const lxd = await replaying([
    ['GET /1.0/resources?target=member2', 'resources-member2'],
    ['GET /1.0', 'server'],
  ]);
  try {
    const got = await new LxdApi(lxd.client).memberLoad('member2');
    assert.ok(got.resources?.memory?.total);
    assert.ok(!lxd.seen.some((s) => s.includes('/state')));
  } finally {
    await lxd.close();
  }
});

test('MemberLoads: read on the first poll and every third after; says when a line changed; drops offline members', async () => {
  let used = 1024 ** 3;
  let asked = 0;
  const api = {
    memberLoad: async () => (asked++, { resources: { cpu: { total: 2 }, memory: { used, total: 4 * 1024 ** 3 } } }),
  } as unknown as LxdApi;
  const loads = new MemberLoads(3);
  assert.equal(await loads.refresh(api, ['m1', 'm2']), true);
  assert.equal(loads.get('m1'), '2 CPUs · 1 GiB of 4 GiB RAM used');
  assert.equal(await loads.refresh(api, ['m1', 'm2']), false);
  assert.equal(await loads.refresh(api, ['m1', 'm2']), false);
  assert.equal(asked, 2, 'no reads between due polls');
  assert.equal(await loads.refresh(api, ['m1', 'm2']), false, 'due, but nothing shown changed');
  used = 2 * 1024 ** 3;
  assert.equal(await loads.refresh(api, ['m1'], true), true, 'forced (a member changed status): m2 went offline');
  assert.equal(loads.get('m2'), undefined);
  assert.equal(loads.get('m1'), '2 CPUs · 2 GiB of 4 GiB RAM used');
});

test('the OpenMetrics of /1.0/metrics read into per-instance counters', () => {
  const text = recorded<string>('metrics-member2').body;
  assert.ok(parseSamples(text).length > 10);
  const c = instanceCounters(text).get('default/t-rec-a');
  assert.ok(c, 'the instance is read');
  assert.ok(c.cpuSeconds! > 0, `CPU seconds ${c.cpuSeconds}`);
  assert.ok(c.memoryBytes! > 0, `memory ${c.memoryBytes}`);
  assert.ok(c.processes! >= 1, `processes ${c.processes}`);
  // labels with escapes, a value that is not a number, the daemon's own metrics
  const odd = instanceCounters('lxd_procs_total{name="a\\"b",project="p"} 3\nlxd_procs_total{name="x"} NaN\ngo_threads 9\n');
  assert.deepEqual([...odd.entries()], [['p/a"b', { processes: 3 }]]);
});

test("Member Overview from the member's /1.0/metrics: its instances only, CPU as a rate, a Markdown table", async () => {
  const lxd = await replaying(WITH_METRICS);
  try {
    const o = await readOverview(new LxdApi(lxd.client), MEMBER2, { intervalMs: 20 });
    assert.equal(o.source, 'metrics');
    assert.deepEqual(
      o.rows.map((r) => r.name),
      ['t-rec-a'],
      't-rec-b is on member3',
    );
    assert.equal(o.rows[0].cpuPercent, 0, 'the same counters twice: no CPU used between');
    assert.match(o.load ?? '', /RAM used/);
    const md = overviewMarkdown(o, 'lab');
    assert.match(md, /^# member2 — member of lab$/m);
    assert.match(md, /^Online \(Fully operational\) · roles: database · \d+ CPUs? · /m);
    assert.match(md, /^\| t-rec-a \| container \| Running \| 0\.0 % \| [\d.]+ (KiB|MiB) \| \d+ \| /m);
    assert.equal(lxd.seen.filter((s) => s.startsWith('GET /1.0/metrics')).length, 2, 'one metrics request per reading');
  } finally {
    await lxd.close();
  }
});

test('Member Overview without the metrics extension: each running instance’s /state; a name with "|" stays one cell', async () => {
  const lxd = await replaying([
    ['GET /1.0/instances?', 'instances-recursion2'],
    ['GET /1.0/instances/t-rec-a/state', 'instance-state-running'],
    ['GET /1.0/resources?target=member2', 'resources-member2'],
    ['GET /1.0', (res) => sync(res, serverWithout('metrics'))],
  ]);
  try {
    const o = await readOverview(new LxdApi(lxd.client), MEMBER2, { intervalMs: 20 });
    assert.equal(o.source, 'state');
    assert.ok(o.rows[0].memoryBytes! > 0 && o.rows[0].cpuSeconds! > 0);
    assert.ok(!lxd.seen.some((s) => s.includes('t-rec-b/state')), 'stopped instances are not asked');
    const md = overviewMarkdown({ ...o, rows: [{ ...o.rows[0], name: 'a|b' }] }, 'lab');
    assert.match(md, /^\| a\\\|b \| container \|/m);
  } finally {
    await lxd.close();
  }
});

test('Member Overview is cancellable while it waits between its two readings', async () => {
  const lxd = await replaying(WITH_METRICS);
  try {
    const ac = new AbortController();
    const reading = readOverview(new LxdApi(lxd.client), MEMBER2, { intervalMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('cancelled')), 100);
    await assert.rejects(reading, /cancelled/);
  } finally {
    await lxd.close();
  }
});
