// The sampler's rooms on their own: the guest-script runner (on this machine's real /bin/sh), the host
// reading and the collectors through a Host that is not this machine (its files under a temporary
// root), the collectors chosen by capabilities, the container/VM pair, and the typed tick event.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GuestExec } from '../../src/core/capabilities';
import { Connection } from '../../src/core/connection';
import { GuestScriptError, parseSections, runGuestScript, sectionLine } from '../../src/core/guest/script';
import { readEach, type Host } from '../../src/core/host/host';
import { localHost } from '../../src/core/host/local';
import { keptFiles, ProcFiles } from '../../src/core/host/procFiles';
import { collectConnection, COLLECTED_FROM } from '../../src/core/metrics/collect';
import { GUEST_SIDE_SCRIPT, readGuestSide } from '../../src/core/metrics/guestSide';
import { GUEST_SCRIPT as TRACE_SCRIPT } from '../../src/core/trace/engine';
import { readHost } from '../../src/core/metrics/hostReader';
import { pairCandidates, PairObserver, pickPair } from '../../src/core/metrics/pairs';
import { Sampler, TickEvent } from '../../src/core/metrics/sampler';
import { ConnectionConfig, Guest } from '../../src/core/model';
import { CapableBackend } from '../fixtures/capableBackend';
import { countingHost } from '../fixtures/remote/countingHost';

const fx = (f: string) => readFileSync(path.join(__dirname, '../fixtures/metrics', f), 'utf8');
const roots = new Set<string>();
after(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory standing for another machine's root: `put('/proc/stat', text)` writes ROOT/proc/stat. */
function fakeRoot() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'virtscope-rooms-'));
  roots.add(root);
  const put = (p: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), text);
  };
  return { root, put };
}

/** Another machine as far as files go (its files under `root`); it runs no programs. */
function rootedHost(root: string): Host & { reads: string[] } {
  const at = (p: string) => path.join(root, p);
  const reads: string[] = [];
  const none = () => {
    throw new Error('the fixture host runs nothing');
  };
  return {
    label: 'fixture host',
    reads,
    run: none,
    spawn: none,
    readFile: (p) => (reads.push(p), localHost.readFile(at(p))),
    readFiles(paths) {
      return readEach(this, paths);
    },
    readdir: (p) => localHost.readdir(at(p)),
    stat: (p) => localHost.stat(at(p)),
    exists: (p) => localHost.exists(at(p)),
    writeFile: none,
    rm: none,
    rmdir: none,
    mkdir: none,
    mkdtemp: none,
    chmod: none,
    copyFile: none,
    readlink: none,
    connectUnix: none,
  };
}

/** Runs argv on this machine: a real executor, as a guest's would be. */
const here: GuestExec = { description: 'this machine', exec: (argv, o) => localHost.run(argv, { timeoutMs: o?.timeoutMs, signal: o?.signal }) };

// ---- the guest-script runner -------------------------------------------------------------------

test('script output: preamble, sections by name (with hyphens), complete only with @@end', () => {
  const out = parseSections('probed vp_notify\nnicdev virtio0\n@@netdev-before\na\nb\n@@workload\n{}\n@@iperf3-exit\n0\n@@end\n');
  assert.equal(out.preamble, 'probed vp_notify\nnicdev virtio0');
  assert.deepEqual(out.sections, { 'netdev-before': 'a\nb', workload: '{}', 'iperf3-exit': '0', end: '' });
  assert.equal(out.complete, true);
  const cut = parseSections('@@stat\ncpu 1 2 3\n');
  assert.equal(cut.complete, false);
  assert.equal(cut.sections.stat, 'cpu 1 2 3\n');
  // a marker is a whole line: "@@" inside a line, "### x" and "@@a b" are text
  const text = parseSections('x @@stat\n### end\n@@a b\n');
  assert.deepEqual(text.sections, {});
  assert.equal(text.complete, false);
  assert.throws(() => sectionLine('a b'), /not a section name/);
  assert.equal(sectionLine('psi-cpu'), 'echo @@psi-cpu');
});

test('one section format: the guest-side and the trace scripts mark sections only with "@@name" lines and end with @@end', () => {
  for (const [what, script] of [
    ['guest side', GUEST_SIDE_SCRIPT],
    ['trace', TRACE_SCRIPT],
  ]) {
    assert.doesNotMatch(script, /echo "?###/, `${what}: no other marker`);
    const marks = [...script.matchAll(/echo "?@@([^";\s]*)/g)].map((m) => m[1]);
    assert.ok(marks.length >= 5, `${what}: ${marks.join(', ')}`);
    for (const m of marks) assert.match(m, /^[\w-]+$|^[\w-]*\$r$/, `${what}: section ${m}`);
    assert.equal(marks[marks.length - 1], 'end', `${what}: ends with @@end`);
  }
});

test('runGuestScript: args reach the script verbatim; a script that stops early says where and why', async () => {
  const odd = `it's "quoted" $HOME; rm -rf /`;
  const r = await runGuestScript(here, `${sectionLine('arg')}; printf '%s\\n' "$1"; ${sectionLine('count')}; echo $#; ${sectionLine('end')}`, {
    args: [odd, 'two'],
    what: 'the test',
    guest: 'this machine',
  });
  assert.equal(r.sections.arg, odd);
  assert.equal(r.sections.count, '2');
  assert.equal(r.exitCode, 0);
  await assert.rejects(runGuestScript(here, `${sectionLine('a')}; echo half; echo broken >&2; exit 3`, { what: 'the test', guest: 'g1' }), (e: Error) => {
    assert.ok(e instanceof GuestScriptError);
    assert.equal(e.message, 'the test script in g1 failed (exit 3): broken');
    assert.equal(e.exitCode, 3);
    return true;
  });
});

test('the guest-side script run on this machine reads as a guest-side reading', async () => {
  assert.match(GUEST_SIDE_SCRIPT, /^echo @@end$/m);
  const r = await readGuestSide(here, 'this machine', 15_000);
  assert.ok(r.cpus >= 1, 'CPUs from /proc/stat');
  assert.ok(r.memTotal > 0 && r.counters.memUsed! > 0);
  assert.match(r.kernel ?? '', /^Linux /);
  assert.ok(r.load && r.load.length === 3);
});

// ---- the host reading through a Host --------------------------------------------------------------

test('readHost through another host: its /proc files and its /sys/block, named in errors', async () => {
  const { root, put } = fakeRoot();
  put('/proc/stat', fx('host-proc-stat.1'));
  put('/proc/meminfo', fx('host-meminfo'));
  put('/proc/diskstats', fx('host-diskstats.1'));
  put('/proc/net/dev', fx('host-net-dev.1'));
  put('/proc/pressure/cpu', fx('host-pressure-cpu'));
  const h = rootedHost(root);
  const files = keptFiles(h);
  assert.ok(!(files instanceof ProcFiles), 'another host: read through it, nothing held open');
  assert.ok(keptFiles(localHost) instanceof ProcFiles, 'this machine: kept open');
  const noDisks = await readHost(files, h);
  assert.equal(noDisks.io?.rdBytes, 0, 'no /sys/block on that host: no whole disk');
  assert.ok(noDisks.cpus >= 1 && noDisks.memTotal > 0 && noDisks.net!.rxBytes > 0);
  assert.equal(typeof noDisks.psi?.cpu, 'number');
  assert.equal(noDisks.psi?.io, undefined, 'no io pressure file there');
  // a disk listed in that host's /sys/block counts (new names are looked up on that host)
  const disk = fx('host-diskstats.1')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[2])
    .find((n) => n && !/^(loop|ram)/.test(n) && !/\d$/.test(n));
  assert.ok(disk, 'a whole disk in the fixture');
  const other = fakeRoot();
  for (const f of ['stat', 'meminfo', 'diskstats', 'net/dev']) other.put(`/proc/${f}`, readFileSync(path.join(root, 'proc', f), 'utf8'));
  other.put(`/sys/block/${disk}/size`, '1\n');
  const withDisk = await readHost(undefined, rootedHost(other.root));
  assert.ok(withDisk.io!.rdBytes > 0, `${disk} summed`);
  await assert.rejects(readHost(undefined, rootedHost(fakeRoot().root)), /cannot read \/proc\/stat and \/proc\/meminfo on fixture host/);
});

// ---- collectors chosen by capabilities ------------------------------------------------------------

async function connectionOf(
  setup: (b: CapableBackend) => void,
  type: ConnectionConfig['type'] = 'lxc',
): Promise<{ conn: Connection; backend: CapableBackend }> {
  let backend!: CapableBackend;
  const conn = new Connection({ id: `c-${type}`, type }, (k) => {
    backend = new CapableBackend(k);
    setup(backend);
    return backend;
  });
  await conn.start();
  assert.equal(conn.status.state, 'connected');
  return { conn, backend };
}

const g = (id: string, kind: Guest['kind'], extra: Partial<Guest> = {}): Guest => ({ id, name: id, kind, state: 'running', rawState: 'running', ...extra });

test('lxc-tools kind: cgroup files and /proc/PID/net/dev read on the host the host process names', async () => {
  const { root, put } = fakeRoot();
  put('/proc/4242/cgroup', fx('lxc-proc-cgroup'));
  put('/proc/4242/net/dev', fx('lxc-net-dev'));
  const cg = '/sys/fs/cgroup';
  put(`${cg}/cpuacct/lxc.payload.labct/cpuacct.usage`, fx('lxc-cpuacct.usage'));
  put(`${cg}/memory/lxc.payload.labct/memory.usage_in_bytes`, fx('lxc-memory.usage_in_bytes'));
  put(`${cg}/memory/lxc.payload.labct/memory.limit_in_bytes`, fx('lxc-memory.limit_in_bytes'));
  put(`${cg}/memory/lxc.payload.labct/memory.stat`, fx('lxc-memory.stat'));
  const h = rootedHost(root);
  const { conn } = await connectionOf((b) => {
    b.guests = [g('labct', 'lxc'), g('stopped', 'lxc', { state: 'stopped' }), g('elsewhere', 'lxc')];
    b.caps = (guest) => (guest?.id === 'labct' ? { hostProcess: { host: h, pid: async () => 4242 } } : {});
  });
  try {
    const r = await collectConnection(conn, 2);
    assert.deepEqual(
      r.map((x) => x.guestId),
      ['labct'],
      'no host process, no reading; stopped guests not read',
    );
    const c = r[0].counters;
    assert.equal(c.cpuNs, 7163000628);
    assert.equal(c.memUsed, Number(fx('lxc-memory.usage_in_bytes').trim()) - 2703360, 'usage less page cache');
    assert.ok(c.net!.rxBytes > 0);
    assert.equal(c.cpuCap, 2, 'no quota: the host CPUs');
    assert.ok(h.reads.includes('/proc/4242/net/dev') && h.reads.includes('/proc/4242/cgroup'), 'read on that host');
  } finally {
    await conn.dispose();
  }
});

test("bulk statistics: one call, counters per running domain, the connection's kind for a domain not listed yet", async () => {
  let calls = 0;
  const params = { 'cpu.time': 5e9, 'vcpu.current': 1, 'vcpu.0.time': 4e9, 'balloon.current': 1024, 'balloon.maximum': 2048, 'balloon.rss': 512 };
  const { conn } = await connectionOf((b) => {
    b.guests = [g('u1', 'libvirt-lxc')];
    b.caps = (guest) =>
      guest
        ? {}
        : {
            stats: {
              all: async () => (
                calls++,
                [
                  { uuid: 'u1', name: 'one', id: 3, params, source: 'per-domain' as const },
                  { uuid: 'u2', name: 'new', id: 4, params, source: 'per-domain' as const },
                  { uuid: 'u3', name: 'off', id: -1, params, source: 'per-domain' as const },
                ]
              ),
            },
          };
  }, 'libvirt');
  try {
    const r = await collectConnection(conn, 2);
    assert.equal(calls, 1);
    assert.deepEqual(
      r.map((x) => x.name),
      ['one', 'new'],
      'inactive domains skipped',
    );
    for (const x of r) {
      // libvirt-LXC: "memory" is the cgroup's usage (balloon.current), the limit balloon.maximum
      assert.equal(x.counters.memUsed, 1024 * 1024, x.name);
      assert.equal(x.counters.memAlloc, 2048 * 1024, x.name);
      assert.equal(x.counters.psi, undefined, 'no host process: no PSI');
    }
  } finally {
    await conn.dispose();
  }
});

test('engine statistics: asked of the backend, per running container', async () => {
  const asked: string[] = [];
  const { conn } = await connectionOf((b) => {
    b.guests = [g('c1', 'container', { memoryBytes: 1 << 30 }), g('c2', 'container', { state: 'stopped' }), g('gone', 'container')];
    b.caps = () => ({
      engineStats: {
        of: async (id: string) => {
          asked.push(id);
          if (id === 'gone') throw new Error('no such container');
          return JSON.parse(fx('podman-stats.json'));
        },
      },
    });
  }, 'docker');
  try {
    const r = await collectConnection(conn, 2);
    assert.deepEqual(asked.sort(), ['c1', 'gone']);
    assert.deepEqual(
      r.map((x) => x.guestId),
      ['c1'],
      'a container gone between listing and reading is left out',
    );
    assert.equal(r[0].counters.cpuNs, 629413367);
    assert.equal(r[0].counters.memAlloc, 1 << 30, 'its configured limit');
  } finally {
    await conn.dispose();
  }
  assert.ok(COLLECTED_FROM.container && COLLECTED_FROM.qemu && COLLECTED_FROM['libvirt-lxc'] && COLLECTED_FROM.lxc);
});

// ---- the container/VM pair ----------------------------------------------------------------------

test('pair: running containers and QEMU guests of connected connections; the picked ones, else the first', async () => {
  const { root, put } = fakeRoot();
  put('/proc/77/stat', '77 (qemu-system-x86) S 1 77 77 0 -1 0 0 0 0 0 250 50 0 0 20 0 3 0 1 1 1000 0 0\n');
  put('/proc/77/task/77/stat', '77 (qemu-system-x86) S 1 77 77 0 -1 0 0 0 0 0 10 5 0 0 20 0 3 0 1 1 1000 0 0\n');
  put('/proc/77/task/78/stat', '78 (CPU 0/TCG) R 1 77 77 0 -1 0 0 0 0 0 200 40 0 0 20 0 3 0 1 1 1000 0 0\n');
  const h = rootedHost(root);
  const vms = await connectionOf((b) => {
    b.guests = [g('vm1', 'qemu'), g('vm2', 'qemu'), g('off', 'qemu', { state: 'stopped' })];
    b.caps = (guest) => (guest?.id === 'vm1' ? { hostProcess: { host: h, pid: async () => 77 } } : {});
  }, 'libvirt');
  const cts = await connectionOf((b) => {
    b.guests = [g('ct1', 'lxc')];
  });
  try {
    const conns = [vms.conn, cts.conn];
    const all = pairCandidates(conns);
    assert.deepEqual(
      all.vms.map((x) => x.guest.id),
      ['vm1', 'vm2'],
    );
    assert.deepEqual(
      all.containers.map((x) => x.key),
      ['c-lxc|ct1'],
    );
    assert.equal(pickPair(conns, {}).vm?.guest.id, 'vm1', 'the first');
    const picked = pickPair(conns, { vm: 'c-libvirt|vm2', container: 'nope' });
    assert.equal(picked.vm?.guest.id, 'vm2');
    assert.equal(picked.container?.guest.id, 'ct1', 'an unknown key: the first');
    const o = new PairObserver();
    const seen = await o.vm(pickPair(conns, {}).vm!);
    assert.deepEqual(
      seen.rows.map((r) => r.role),
      ['main', 'main thread', 'vcpu'],
    );
    assert.match(seen.summary, /1 QEMU process and 2 threads \(1 vCPU\) of vm1/);
    const none = await o.container(picked.container!);
    assert.equal(none.rows.length, 0);
    assert.match(none.error ?? '', /no host process/);
  } finally {
    await vms.conn.dispose();
    await cts.conn.dispose();
  }
});

// ---- the sampler's typed events -----------------------------------------------------------------

test('a tick event names its start time and the connections it collected', async () => {
  const { conn } = await connectionOf((b) => {
    b.guests = [];
  });
  const sampler = new Sampler({ intervalMs: 3_600_000, connection: (id) => (id === conn.config.id ? conn : undefined) });
  const ticks: TickEvent[] = [];
  sampler.on('tick', (e) => ticks.push(e));
  const release = sampler.subscribe({ connectionId: conn.config.id });
  try {
    while (!ticks.length) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(ticks[0].connections, [conn.config.id]);
    assert.ok(Math.abs(ticks[0].t - Date.now()) < 5000);
    assert.ok(sampler.host().length === 0, 'one reading: no rate yet');
    await sampler.tick();
    assert.equal(sampler.host().length, 1, 'the second reading gives the first point');
  } finally {
    release();
    sampler.dispose();
    await conn.dispose();
  }
});

// ---- a tick's files read together ----------------------------------------------------------------

test("a tick on another host: its /proc and every guest's cgroup files in one readFiles, not an operation per file", async () => {
  const { root, put } = fakeRoot();
  put('/proc/stat', fx('host-proc-stat.1'));
  put('/proc/meminfo', fx('host-meminfo'));
  put('/proc/net/dev', fx('host-net-dev.1'));
  const cg = '/sys/fs/cgroup';
  put(`${cg}/cpuacct/lxc.payload.labct/cpuacct.usage`, fx('lxc-cpuacct.usage'));
  put(`${cg}/memory/lxc.payload.labct/memory.usage_in_bytes`, fx('lxc-memory.usage_in_bytes'));
  put(`${cg}/memory/lxc.payload.labct/memory.stat`, fx('lxc-memory.stat'));
  const pids = [4242, 4243, 4244];
  for (const pid of pids) {
    put(`/proc/${pid}/cgroup`, fx('lxc-proc-cgroup'));
    put(`/proc/${pid}/net/dev`, fx('lxc-net-dev'));
  }
  const counted = countingHost(rootedHost(root));
  const asked: string[] = [];
  const { conn } = await connectionOf((b) => {
    b.guests = pids.map((pid) => g(`ct${pid}`, 'lxc'));
    b.caps = (guest) => (guest ? { hostProcess: { host: counted.host, pid: async () => (asked.push(guest.id), Number(guest.id.slice(2))) } } : {});
  });
  const sampler = new Sampler({ intervalMs: 3_600_000, host: counted.host, connection: () => conn });
  const first = once(sampler, 'tick');
  const release = sampler.subscribe({ connectionId: conn.config.id });
  try {
    await first; // the first tick also looks up the cgroup layout and the pids, once
    counted.ops.length = 0;
    await sampler.tick();
    assert.deepEqual(counted.ops, ['readFiles'], "the host's /proc, each guest's /proc/PID/cgroup, net/dev and cgroup files (at last tick's paths)");
    assert.deepEqual(sampler.errors, new Map());
    for (const pid of pids) assert.equal(sampler.counters(conn.config.id, `ct${pid}`)?.cpuNs, 7163000628, `ct${pid} read`);
    assert.equal(sampler.host().length, 1, "the host's own point");
    assert.deepEqual(asked.sort(), ['ct4242', 'ct4243', 'ct4244'], 'each pid asked of its backend once, not every tick');
    // a process moved to another cgroup: read there in the same tick (a second round)
    put('/proc/4244/cgroup', fx('lxc-proc-cgroup').replace(/lxc\.payload\.labct/g, 'moved'));
    put(`${cg}/cpuacct/moved/cpuacct.usage`, '42\n');
    counted.ops.length = 0;
    await sampler.tick();
    assert.deepEqual(counted.ops, ['readFiles', 'readFiles']);
    assert.equal(sampler.counters(conn.config.id, 'ct4244')?.cpuNs, 42, 'read at its new cgroup');
    counted.ops.length = 0;
    await sampler.tick();
    assert.deepEqual(counted.ops, ['readFiles'], 'one round again');
    // a container whose process went away: its pid is asked for again
    rmSync(path.join(root, 'proc/4243'), { recursive: true });
    await sampler.tick();
    await sampler.tick();
    assert.deepEqual(asked.filter((id) => id === 'ct4243').length, 2);
  } finally {
    release();
    sampler.dispose();
    await conn.dispose();
  }
});
