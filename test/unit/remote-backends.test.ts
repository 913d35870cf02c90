// Every backend on a host that is not this machine: its sockets and programs are reached through the
// Host (a scripted one whose sockets are real), and a host that drops out of reach is reported in
// SSH's words and reconnected when it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../src/core/backends';
import { DockerBackend } from '../../src/core/backends/docker';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { LxcBackend } from '../../src/core/backends/lxc';
import { Connection, ConnectionStatus } from '../../src/core/connection';
import { resolveLibvirtUriOn } from '../../src/core/libvirt/transport';
import type { BackendEvent, ConnectionConfig } from '../../src/core/model';
import { FakeHost, fakeEngine, fakeLibvirtd, ok } from '../fixtures/remote/fakeHost';

const LIBVIRT = '/var/run/libvirt/libvirt-sock';
const PODMAN = '/run/podman/podman.sock';
const REFUSED = 'ssh: connect to host fakehost port 22: Connection refused';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** lxc-tools on the fake host: one container `ct1` under /var/lib/lxc. */
function withLxc(host: FakeHost): void {
  host.programs.set('lxc-config', () => ok('/var/lib/lxc\n'));
  host.programs.set('lxc-info', () => ok('Name: ct1\nState: RUNNING\nPID: 42\n'));
  // the listing script (backends/lxc/listing.ts): name, lxc-info's exit code and output, config
  host.programs.set('sh', () => ok('ct1\x000\x00State: RUNNING\nPID: 42\x00\x00'));
  host.files.set('/var/lib/lxc', 'directory');
  host.files.set('/var/lib/lxc/ct1', 'directory');
  host.files.set('/var/lib/lxc/ct1/config', 'file');
}

test('createBackend gives the host to every backend: each lists what is on that host, not on this machine', async () => {
  const host = new FakeHost();
  const daemon = await fakeLibvirtd(host.bindSocket(LIBVIRT), ['qemu'], ['farvm']);
  const engine = await fakeEngine(host.bindSocket(PODMAN), 'Podman Engine');
  withLxc(host);
  const configs: ConnectionConfig[] = [
    { id: 'f:qemu', type: 'libvirt', uri: 'qemu:///system' },
    { id: 'f:lxc', type: 'lxc' },
    { id: 'f:podman', type: 'docker', socketPath: PODMAN },
  ];
  const backends = configs.map((c) => createBackend(c, host));
  try {
    assert.ok(backends[0] instanceof LibvirtBackend && backends[1] instanceof LxcBackend && backends[2] instanceof DockerBackend);
    const names = [];
    for (const b of backends) {
      await b.connect();
      names.push((await b.list()).map((g) => `${g.name}:${g.state}`));
    }
    assert.deepEqual(names, [['farvm:running'], ['ct1:running'], ['remotepod:running']]);
    // the process of a guest on that host is looked up on that host
    assert.equal((backends[0] as LibvirtBackend).capabilities((await backends[0].list())[0]).hostProcess?.host, host);
  } finally {
    for (const b of backends) await b.close();
    await daemon.close();
    await engine.close();
    host.close();
  }
});

test("libvirt over a host: lifecycle events arrive through the host's stream", async () => {
  const host = new FakeHost();
  const daemon = await fakeLibvirtd(host.bindSocket(LIBVIRT), ['qemu'], ['farvm']);
  const b = createBackend({ id: 'f:qemu', type: 'libvirt', uri: 'qemu:///system' }, host) as LibvirtBackend;
  const events: BackendEvent[] = [];
  try {
    await b.connect();
    b.subscribe((e) => events.push(e));
    await b.list();
    // registration is under way after subscribe: the daemon tells until the backend has heard
    const tell = setInterval(() => daemon.lifecycle('farvm'), 20);
    await until(() => events.length > 0, 2000, 'a lifecycle event').finally(() => clearInterval(tell));
    assert.equal(b.eventsError, undefined);
    assert.ok(events[0].type === 'changed' && events[0].name === 'farvm', JSON.stringify(events[0]));
  } finally {
    await b.close();
    await daemon.close();
    host.close();
  }
});

test('a missing libvirt socket on the host is named with the host', async () => {
  const host = new FakeHost();
  const b = createBackend({ id: 'f:qemu', type: 'libvirt', uri: 'qemu:///system' }, host);
  try {
    await assert.rejects(b.connect(), /libvirt socket \/var\/run\/libvirt\/libvirt-sock on fakehost does not exist: the libvirt daemon is not running/);
  } finally {
    host.close();
  }
});

for (const kind of ['libvirt', 'docker', 'lxc'] as const) {
  test(`${kind} on a host that drops: unreachable in SSH's words, then connected again by itself`, { timeout: 20_000 }, async () => {
    const host = new FakeHost();
    const daemon = await fakeLibvirtd(host.bindSocket(LIBVIRT), ['qemu'], ['farvm']);
    const engine = await fakeEngine(host.bindSocket(PODMAN), 'Podman Engine');
    withLxc(host);
    const config: ConnectionConfig =
      kind === 'libvirt'
        ? { id: 'f', type: 'libvirt', uri: 'qemu:///system' }
        : kind === 'docker'
          ? { id: 'f', type: 'docker', socketPath: PODMAN }
          : { id: 'f', type: 'lxc' };
    const conn = new Connection(config, (c) => createBackend(c, host), { reconnectMinMs: 50, reconnectMaxMs: 200, pollMs: 50 });
    try {
      await conn.start();
      conn.setVisible(true); // lxc-tools is polled while shown
      assert.equal(conn.status.state, 'connected');
      assert.equal(conn.guests.size, 1);
      // the link goes: open streams end, new ones are refused with SSH's reason
      host.unreachable = REFUSED;
      daemon.cut();
      await engine.close();
      await until(
        () => conn.status.state === 'unreachable' && /is unreachable/.test((conn.status as { message: string }).message),
        5000,
        "unreachable in SSH's words",
      );
      const s = conn.status as ConnectionStatus;
      assert.ok(s.state === 'unreachable' && s.message === `fakehost is unreachable: ${REFUSED}`, JSON.stringify(s));
      assert.equal(conn.guests.size, 0);
      // the host is back (and so is its engine): the connection comes back by itself
      const engine2 = kind === 'docker' ? await fakeEngine(host.bindSocket(PODMAN), 'Podman Engine') : undefined;
      host.unreachable = undefined;
      await until(() => conn.status.state === 'connected' && conn.guests.size === 1, 5000, 'connected again');
      await engine2?.close();
    } finally {
      await conn.dispose();
      await daemon.close();
      await engine.close().catch(() => undefined);
      host.close();
    }
  });
}

test("resolveLibvirtUriOn: the host's sockets decide (modular daemon), a session is the remote user's", async () => {
  const host = new FakeHost();
  host.files.set('/var/run/libvirt/virtqemud-sock', 'socket');
  host.files.set('/run/user/1000/libvirt/virtqemud-sock', 'socket');
  host.programs.set('sh', () => ok('1000\n/run/user/1000\n/home/u\n'));
  try {
    const system = await resolveLibvirtUriOn(host, 'qemu:///system');
    assert.deepEqual([system.socketPath, system.daemon, system.name], ['/var/run/libvirt/virtqemud-sock', 'virtqemud', 'qemu:///system']);
    const session = await resolveLibvirtUriOn(host, 'qemu:///session');
    assert.deepEqual([session.socketPath, session.daemon], ['/run/user/1000/libvirt/virtqemud-sock', 'virtqemud']);
    // an explicit socket is taken as it is, without asking the host
    const before = host.ran.length;
    assert.equal((await resolveLibvirtUriOn(host, 'qemu:///session?socket=/srv/l.sock')).socketPath, '/srv/l.sock');
    assert.equal(host.ran.length, before);
  } finally {
    host.close();
  }
});
