// The metrics sampler on the lab: plausible, changing values for every kind of guest; a CPU burner
// started inside a guest (through its executor) raises that guest's CPU %; the guest-side view works
// through qemu-guest-agent on labvm; sampling stops when the last subscriber leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../src/core/backends';
import { Connection } from '../../src/core/connection';
import { ConnectionConfig } from '../../src/core/model';
import { executorFor } from '../../src/core/guest/exec';
import { Sampler } from '../../src/core/metrics/sampler';
import { waitFor } from './util';
import { promises as fs } from 'node:fs';
import { parseProcCgroup } from '../../src/core/metrics/parse';

const CASES: Array<{ conn: ConnectionConfig; name: string }> = [
  { conn: { id: 'q', type: 'libvirt', uri: 'qemu:///system' }, name: 'labvm' },
  { conn: { id: 'l', type: 'libvirt', uri: 'lxc:///system' }, name: 'labvlxc' },
  { conn: { id: 't', type: 'lxc' }, name: 'labct' },
  { conn: { id: 'd', type: 'docker', socketPath: '/run/podman/podman.sock' }, name: 'labpod' },
];

const conns = new Map<string, Connection>();
let sampler: Sampler;

before(async () => {
  for (const c of CASES) {
    const conn = new Connection(c.conn, createBackend, { pollMs: 1000 });
    await conn.start();
    assert.equal(conn.status.state, 'connected', `${c.conn.id}: ${JSON.stringify(conn.status)} — is the lab up?`);
    conns.set(c.conn.id, conn);
  }
  sampler = new Sampler({ intervalMs: 1000, connection: (id) => conns.get(id) });
});
after(async () => {
  sampler.dispose();
  for (const c of conns.values()) await c.dispose();
});

/**
 * nsenter (the libvirt-LXC executor) enters the domain's namespaces but not its cgroup, so a
 * process it starts is charged to the caller's cgroup. A process started by the container's own init
 * would be in the domain's cgroup: put the burner there, as that process would be.
 */
async function joinDomainCgroup(name: string): Promise<void> {
  const ctl = Number((await fs.readFile(`/run/libvirt/lxc/${name}.pid`, 'utf8')).trim());
  const cg = parseProcCgroup(await fs.readFile(`/proc/${ctl}/cgroup`, 'utf8'));
  await sleep(500);
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes('while :; do :; done')) continue;
    for (const ctrl of ['cpu', 'cpuacct', 'memory']) {
      if (cg.v1[ctrl] === undefined) continue;
      await fs.writeFile(`/sys/fs/cgroup/${ctrl}${cg.v1[ctrl]}/cgroup.procs`, pid).catch(() => undefined);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('host: CPU, memory, disk, net, PSI from /proc', async () => {
  const release = sampler.subscribe({});
  try {
    await waitFor(() => sampler.host().length >= 2, 8000, 'two host points');
    const p = sampler.host().last()!.p;
    assert.ok(p.cpu! >= 0 && p.cpu! <= 100, `host cpu ${p.cpu}`);
    assert.ok(p.memUsed! > 0 && p.memUsed! < p.memAlloc!, 'host memory');
    assert.ok(p.netRx! >= 0 && p.diskRd! >= 0, 'host rates');
    assert.ok(p.psiCpu! >= 0, 'host PSI (/proc/pressure/cpu)');
  } finally {
    release();
  }
});

for (const c of CASES) {
  test(`${c.name}: plausible values, and a CPU burner raises its CPU %`, async () => {
    const conn = conns.get(c.conn.id)!;
    const g = [...conn.guests.values()].find((x) => x.name === c.name);
    assert.ok(g, `${c.name} listed`);
    const release = sampler.subscribe({ connectionId: c.conn.id });
    const ac = new AbortController();
    try {
      await waitFor(() => (sampler.guest(c.conn.id, g.id)?.length ?? 0) >= 2, 15_000, `${c.name}: two points`);
      const idle = sampler.guest(c.conn.id, g.id)!.last()!.p;
      assert.ok(idle.cpu! >= 0 && idle.cpu! <= 100, `${c.name} cpu ${idle.cpu}`);
      assert.ok(idle.memUsed! > 0, `${c.name} memory used ${idle.memUsed}`);
      assert.ok(idle.diskRd !== undefined || c.name === 'labpod', `${c.name} disk rate`);
      assert.ok(idle.netRx !== undefined, `${c.name} net rate`);
      // cpuAlloc: % of the guest's own CPUs. Others may already keep the guest busy (benchmarks):
      // then it must reach saturation instead of rising by 20 points.
      const alloc = (since: number) =>
        sampler
          .guest(c.conn.id, g.id)!
          .columns(since)
          .series.cpuAlloc.filter((x): x is number => x !== null);
      const base = Math.max(...alloc(Date.now() - 3000));
      // a busy loop inside the guest, killed by the executor when aborted
      // one loop per CPU the guest may use (others' benchmarks may share them)
      const loops = Math.max(1, Math.ceil(sampler.counters(c.conn.id, g.id)?.cpuCap ?? 1));
      const script = `for i in $(seq ${loops}); do (while :; do :; done) & done; wait`;
      const burn = executorFor(conn.requireBackend(), g)
        .exec(['sh', '-c', script], { signal: ac.signal, timeoutMs: 30_000 })
        .catch(() => undefined);
      if (g.kind === 'libvirt-lxc') await joinDomainCgroup(g.name);
      const t0 = Date.now() + 1500;
      const goal = Math.min(base + 20, 85);
      await waitFor(
        () => {
          const xs = alloc(t0);
          return xs.length >= 2 && Math.max(...xs) >= goal;
        },
        20_000,
        `${c.name}: CPU % of its own CPUs ≥ ${goal.toFixed(1)} (was ${base.toFixed(1)}) while burning`,
      );
      const hot = sampler.guest(c.conn.id, g.id)!.last()!.p;
      assert.ok(hot.cpu! > 0 && hot.cpu! <= 100, `${c.name}: % of the host ${hot.cpu}`);
      ac.abort();
      await burn;
    } finally {
      ac.abort();
      release();
    }
  });
}

test('labvm: guest-side view through qemu-guest-agent', async () => {
  const conn = conns.get('q')!;
  const g = [...conn.guests.values()].find((x) => x.name === 'labvm')!;
  const release = sampler.subscribe({ connectionId: 'q', guestSide: g.id });
  try {
    await waitFor(() => (sampler.guestSide('q', g.id)?.ring.length ?? 0) >= 1, 30_000, 'two guest-side readings');
    const s = sampler.guestSide('q', g.id)!;
    assert.ok(s.ok, s.error);
    assert.match(s.via ?? '', /qemu-guest-agent/);
    const p = s.ring.last()!.p;
    assert.ok(p.gMemTotal! > 256 * 2 ** 20 && p.gMemTotal! <= 512 * 2 ** 20, `guest MemTotal ${p.gMemTotal}`);
    assert.ok(p.gMemUsed! > 0 && p.gMemUsed! < p.gMemTotal!);
    assert.ok(p.gCpu! >= 0 && p.gCpu! <= 100);
    assert.ok(p.gLoad1! >= 0);
    assert.match(s.last!.kernel ?? '', /^Linux /);
  } finally {
    release();
  }
});

for (const [id, name] of [
  ['l', 'labvlxc'],
  ['t', 'labct'],
  ['d', 'labpod'],
] as const) {
  test(`${name}: guest-side view from inside its namespaces`, async () => {
    const conn = conns.get(id)!;
    const g = [...conn.guests.values()].find((x) => x.name === name)!;
    const release = sampler.subscribe({ connectionId: id, guestSide: g.id });
    try {
      await waitFor(
        () => (sampler.guestSide(id, g.id)?.ring.length ?? 0) >= 1 || sampler.guestSide(id, g.id)?.error !== undefined,
        20_000,
        `${name}: guest-side readings`,
      );
      const s = sampler.guestSide(id, g.id)!;
      assert.ok(s.ok, s.error);
      // no lxcfs: a container's /proc shows the host's CPUs (the container-vs-KVM table's "some physical resource stats")
      assert.equal(s.last!.cpus, sampler.hostCpus);
      assert.match(s.last!.kernel ?? '', /^Linux /);
    } finally {
      release();
    }
  });
}

test('a QEMU guest without an agent: the guest side says how to install it, the host side still samples', async () => {
  const conn = new Connection({ id: 'x', type: 'libvirt', uri: 'test+unix:///default' }, createBackend);
  await conn.start();
  conns.set('x', conn);
  const g = [...conn.guests.values()].find((x) => x.state === 'running')!;
  const release = sampler.subscribe({ connectionId: 'x', guestSide: g.id });
  try {
    await waitFor(() => sampler.guestSide('x', g.id)?.error !== undefined, 10_000, 'guest-side error');
    const s = sampler.guestSide('x', g.id)!;
    assert.equal(s.ok, false);
    assert.match(s.hint ?? '', /apt-get install qemu-guest-agent/);
    await waitFor(() => (sampler.guest('x', g.id)?.length ?? 0) >= 1, 10_000, 'host-side points despite the missing agent');
  } finally {
    release();
    conns.delete('x');
    await conn.dispose();
  }
});

test('sampling stops when no consumer is subscribed', async () => {
  const r1 = sampler.subscribe({ connectionId: 't' });
  const r2 = sampler.subscribe({ connectionId: 'd' });
  await waitFor(() => sampler.active, 1000, 'running');
  r1();
  assert.ok(sampler.active, 'one subscriber left: still running');
  r2();
  assert.equal(sampler.active, false);
  await sleep(300); // a tick in flight may finish
  const n = sampler.ticks;
  await sleep(2500);
  assert.equal(sampler.ticks, n, 'no tick after the last release');
});
