// LibvirtBackend against the running libvirtd: the test driver (test+unix:///default) for
// every verb, events and hostile names; qemu:///system and lxc:///system for listing.
// The daemon keeps test:///default only while a connection is open, so one backend stays
// connected for the whole file (virsh joins the same state), and every domain made here
// has a unique name and is removed again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { LibvirtClient, LibvirtError } from '../../src/core/libvirt/client';
import * as P from '../../src/core/libvirt/protocol';
import { BackendError, BackendEvent, Guest } from '../../src/core/model';

const URI = 'test+unix:///default';
const PREFIX = `vs-it-${process.pid}-`;
const PWNED = '/tmp/virtscope-pwned';
// libvirt refuses '/' in names, so the command substitution touches a relative path; any
// shell on the way would create the file in its working directory (checked below).
const PWNED_REL = 'virtscope-pwned';
const HOSTILE = `${PREFIX}vm "ü"; $(touch ${PWNED_REL}) x 'q' \`touch ${PWNED_REL}\` & | < > 名前`;
const pwned = () =>
  [PWNED, `/${PWNED_REL}`, `/tmp/${PWNED_REL}`, `${process.cwd()}/${PWNED_REL}`, `${process.env.HOME ?? '/root'}/${PWNED_REL}`].filter((f) => existsSync(f));

let backend: LibvirtBackend;
let seq = 0;
const uniqueName = (what: string) => `${PREFIX}${what}-${++seq}`;

function virsh(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('virsh', ['-c', URI, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const xmlUnescape = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] as string);

function domainXml(name: string, vcpus = 1, memKiB = 65536): string {
  return `<domain type='test'><name>${xmlEscape(name)}</name><memory unit='KiB'>${memKiB}</memory><vcpu>${vcpus}</vcpu><os><type>hvm</type></os></domain>`;
}

async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function cleanup(): Promise<void> {
  const c = await backend.client();
  for (const d of await c.listAllDomains(0)) {
    if (!d.name.startsWith(PREFIX)) continue;
    await c.domainDestroy(d).catch(() => undefined);
    await c.domainUndefineFlags(d, P.UndefineFlags.MANAGED_SAVE | P.UndefineFlags.SNAPSHOTS_METADATA).catch(() => undefined);
  }
}

before(async () => {
  for (const f of pwned()) rmSync(f, { force: true });
  backend = new LibvirtBackend({ id: 'it-test', type: 'libvirt', uri: URI });
  await backend.connect();
  await cleanup();
});

after(async () => {
  await cleanup();
  await backend.close();
  assert.deepEqual(pwned(), [], 'no name ever reached a shell');
});

const stateOf = async (id: string) => (await backend.get(id))?.state;

test('connects and reports the daemon', async () => {
  const c = await backend.client();
  assert.equal(await c.getUri(), 'test:///default');
  assert.ok((await c.getLibVersion()) >= 9_000_000);
  assert.ok((await c.getHostname()).length > 0);
});

test('list: the default test domain with state, size and persistence', async () => {
  const guests = await backend.list();
  const t = guests.find((g) => g.name === 'test');
  assert.ok(t, 'the test driver always has "test"');
  assert.equal(t.kind, 'qemu');
  assert.equal(t.id, '6695eb01-f6a4-8304-79aa-97f2502e193f');
  assert.ok(['running', 'paused', 'stopped'].includes(t.state));
  assert.equal(t.vcpus, 2);
  assert.equal(t.maxMemoryBytes, 8 * 1024 ** 3);
  assert.equal(t.persistent, true);
  assert.equal(backend.hasBulkStats, true);
});

test('info: get() by UUID and by name; undefined for a missing one', async () => {
  const name = uniqueName('info');
  const id = await backend.defineXML(domainXml(name, 3, 131072));
  const g = await backend.get(id);
  assert.deepEqual(
    { name: g?.name, state: g?.state, rawState: g?.rawState, vcpus: g?.vcpus, max: g?.maxMemoryBytes, persistent: g?.persistent, runtimeId: g?.runtimeId },
    { name, state: 'stopped', rawState: 'shut off', vcpus: 3, max: 131072 * 1024, persistent: true, runtimeId: undefined },
  );
  assert.equal((await backend.get(name))?.id, id);
  assert.equal(await backend.get('00000000-0000-0000-0000-00000000beef'), undefined);
  await backend.perform(id, 'delete');
});

test('every verb changes the real state (checked with virsh too)', async () => {
  const name = uniqueName('verbs');
  const id = await backend.defineXML(domainXml(name));
  const virshState = async () => (await virsh('domstate', name)).stdout.trim();
  assert.equal(await stateOf(id), 'stopped');

  await backend.perform(id, 'start');
  assert.equal(await stateOf(id), 'running');
  assert.equal(await virshState(), 'running');
  assert.ok((await backend.get(id))!.runtimeId! > 0);

  await backend.perform(id, 'suspend');
  assert.equal(await stateOf(id), 'paused');
  assert.equal(await virshState(), 'paused');

  await backend.perform(id, 'resume');
  assert.equal(await stateOf(id), 'running');

  await backend.perform(id, 'reboot');
  assert.equal(await stateOf(id), 'running');

  await backend.perform(id, 'shutdown');
  assert.equal(await stateOf(id), 'stopped');
  assert.equal(await virshState(), 'shut off');

  await backend.perform(id, 'start');
  await backend.perform(id, 'forceOff');
  assert.equal(await stateOf(id), 'stopped');
  assert.match((await virsh('domstate', '--reason', name)).stdout, /shut off \(destroyed\)/);

  // the test driver rejects the NVRAM and checkpoint flags: delete falls back and still works
  await backend.perform(id, 'delete');
  assert.equal(await backend.get(id), undefined);
  assert.notEqual((await virsh('domstate', name)).code, 0);
});

test('defineXML redefines; the XML description comes back', async () => {
  const name = uniqueName('xml');
  const id = await backend.defineXML(domainXml(name, 1));
  const def = await backend.definition(id);
  assert.equal(def.language, 'xml');
  assert.match(def.text, new RegExp(`<name>${name}</name>`));
  assert.match(def.text, /<uuid>[0-9a-f-]{36}<\/uuid>/);
  const again = await backend.defineXML(def.text.replace(/<vcpu[^>]*>1<\/vcpu>/, "<vcpu placement='static'>4</vcpu>"));
  assert.equal(again, id, 'same UUID: redefined, not a new domain');
  assert.equal((await backend.get(id))?.vcpus, 4);
  await backend.perform(id, 'delete');
});

test('transient domains: persistent=false; libvirt messages pass through', async () => {
  const name = uniqueName('transient');
  const id = await backend.defineXML(domainXml(name));
  await backend.perform(id, 'start');
  const c = await backend.client();
  await c.domainUndefineFlags(await c.domainLookupByUUID(id), 0); // running + undefined = transient
  const g = (await backend.list()).find((x) => x.id === id);
  assert.equal(g?.persistent, false);
  assert.equal(g?.state, 'running');
  // libvirt decides what a verb means for a transient domain; we only pass it on
  await backend.perform(id, 'delete'); // the test driver accepts undefine of a transient domain
  assert.equal((await backend.get(id))?.state, 'running');
  await backend.perform(id, 'shutdown'); // a transient domain vanishes when it stops
  assert.equal(await backend.get(id), undefined);
  await assert.rejects(backend.perform(id, 'start'), (e: unknown) => e instanceof LibvirtError && e.code === P.ErrorCode.NO_DOMAIN);
});

test('errors carry libvirt code, domain and message exactly as sent (same text as virsh)', async () => {
  const c = await backend.client();
  const missing = uniqueName('missing');
  await assert.rejects(c.domainLookupByName(missing), (e: unknown) => {
    assert.ok(e instanceof LibvirtError && e instanceof BackendError);
    assert.equal(e.code, P.ErrorCode.NO_DOMAIN);
    assert.equal(e.domain, 12); // VIR_FROM_TEST
    assert.equal(e.message, 'Domain not found');
    return true;
  });
  await assert.rejects(backend.perform('00000000-0000-0000-0000-00000000beef', 'start'), (e: unknown) => e instanceof LibvirtError && e.code === 42);

  const name = uniqueName('err');
  const id = await backend.defineXML(domainXml(name));
  const err = await backend.perform(id, 'shutdown').then(
    () => assert.fail('shutdown of a stopped domain must fail'),
    (e: unknown) => e as LibvirtError,
  );
  assert.ok(err instanceof LibvirtError);
  assert.equal(err.code, P.ErrorCode.INTERNAL_ERROR);
  assert.equal(err.message, `internal error: domain '${name}' not running`);
  const cli = await virsh('shutdown', name);
  assert.ok(cli.stderr.includes(`error: ${err.message}`), `virsh says ${JSON.stringify(cli.stderr)}, we say ${JSON.stringify(err.message)}`);
  // qemu program on a driver without the agent: libvirt's "not supported" comes back as is
  await assert.rejects(
    c.domainAgentCommand(await c.domainLookupByUUID(id), '{"execute":"guest-ping"}'),
    (e: unknown) => e instanceof LibvirtError && e.code === P.ErrorCode.NO_SUPPORT,
  );
  await backend.perform(id, 'delete');
});

test('an outside change (virsh suspend) arrives as a lifecycle event within 2 s', async () => {
  const name = uniqueName('events');
  const id = await backend.defineXML(domainXml(name));
  await backend.perform(id, 'start');
  const events: BackendEvent[] = [];
  const listener = (ev: BackendEvent) => events.push(ev);
  assert.equal(backend.subscribe(listener), true);
  assert.equal(await backend.subscribed(), true, String(backend.eventsError));
  const t0 = Date.now();
  const cli = await virsh('suspend', name);
  assert.equal(cli.code, 0, cli.stderr);
  const ev = await waitFor('suspended event', 2000, () => events.find((e) => e.type === 'changed' && e.guestId === id && /^suspended/.test(e.reason)));
  const ms = Date.now() - t0;
  assert.ok(ms < 2000, `event after ${ms} ms`);
  assert.deepEqual(ev, { type: 'changed', guestId: id, name, reason: 'suspended (paused)' });
  assert.equal(await stateOf(id), 'paused');
  backend.unsubscribe(listener);
  await backend.perform(id, 'forceOff');
  await backend.perform(id, 'delete');
});

test('hostile names (spaces, quotes, ;, $(…), backticks, non-ASCII) work end to end', async () => {
  const events: BackendEvent[] = [];
  const listener = (ev: BackendEvent) => events.push(ev);
  backend.subscribe(listener);
  assert.equal(await backend.subscribed(), true);
  const id = await backend.defineXML(domainXml(HOSTILE));
  const listed = (await backend.list()).find((g) => g.id === id);
  assert.equal(listed?.name, HOSTILE);
  assert.equal((await backend.get(HOSTILE))?.id, id, 'lookup by the exact name');
  for (const verb of ['start', 'suspend', 'resume', 'reboot', 'forceOff'] as const) await backend.perform(id, verb);
  const xmlName = /<name>([^<]*)<\/name>/.exec((await backend.definition(id)).text)?.[1] ?? '';
  assert.equal(xmlUnescape(xmlName), HOSTILE);
  // virsh (no shell: an argument array) sees the same name
  const cli = await virsh('domstate', HOSTILE);
  assert.equal(cli.stdout.trim(), 'shut off', cli.stderr);
  await waitFor('events with the exact name', 2000, () =>
    events.some((e) => e.type === 'changed' && e.name === HOSTILE && /^stopped/.test(e.reason)) ? true : undefined,
  );
  backend.unsubscribe(listener);
  await backend.perform(id, 'delete');
  assert.equal(await backend.get(id), undefined);
  assert.deepEqual(pwned(), []);
});

test('the brief\'s example name with "/" is refused by libvirt, with libvirt\'s message', async () => {
  const name = `${PREFIX}vm "ü"; $(touch ${PWNED}) x`;
  await assert.rejects(backend.defineXML(domainXml(name)), (e: unknown) => {
    assert.ok(e instanceof LibvirtError);
    assert.equal(e.message, `XML error: name ${name} cannot contain '/'`);
    return true;
  });
  assert.deepEqual(pwned(), []);
});

test('stats(): bulk records in libvirt field names', async () => {
  const stats = await backend.stats();
  const t = stats.find((s) => s.name === 'test');
  assert.equal(t?.source, 'bulk');
  assert.equal(typeof t?.params['state.state'], 'number');
  assert.equal(t?.uuid, '6695eb01-f6a4-8304-79aa-97f2502e193f');
});

test('per-domain fallback (as on libvirt-LXC) gives the same fields in bulk-stats names', async () => {
  const b = new LibvirtBackend({ id: 'it-fallback', type: 'libvirt', uri: URI }, { bulkStats: false });
  try {
    const t = (await b.list()).find((g) => g.name === 'test');
    assert.equal(t?.vcpus, 2);
    assert.equal(t?.maxMemoryBytes, 8 * 1024 ** 3);
    const s = (await b.stats()).find((x) => x.name === 'test');
    assert.equal(s?.source, 'per-domain');
    const p = s!.params;
    for (const k of [
      'state.state',
      'cpu.time',
      'vcpu.current',
      'balloon.current',
      'balloon.maximum',
      'net.count',
      'net.0.name',
      'net.0.rx.bytes',
      'block.count',
      'block.0.name',
      'block.0.rd.bytes',
    ]) {
      assert.ok(k in p, `${k} in ${Object.keys(p).join(', ')}`);
    }
    assert.equal(p['net.0.name'], 'testnet0');
    assert.equal(p['block.0.name'], 'vda');
  } finally {
    await b.close();
  }
});

test('many concurrent calls on one connection', async () => {
  const c = await backend.client();
  const t = await c.domainLookupByName('test');
  const infos = await Promise.all(Array.from({ length: 300 }, () => c.domainGetInfo(t)));
  assert.equal(infos.length, 300);
  assert.ok(infos.every((i) => i.nrVirtCpu === 2));
});

test('a broken connection emits disconnected; the next call reconnects', async () => {
  const b = new LibvirtBackend({ id: 'it-disc', type: 'libvirt', uri: URI });
  const events: BackendEvent[] = [];
  b.subscribe((ev) => events.push(ev));
  const c: LibvirtClient = await b.client();
  c.destroy(new Error('simulated network failure'));
  assert.deepEqual(
    events.map((e) => e.type),
    ['disconnected'],
  );
  const err = (events[0] as { error: Error & { hint?: string } }).error;
  assert.match(err.message, /\(\/var\/run\/libvirt\/libvirt-sock\) lost: simulated network failure$/);
  assert.match(err.hint ?? '', /libvirtd/, 'says how to bring the daemon back');
  assert.ok(
    (await b.list()).some((g) => g.name === 'test'),
    'reconnected',
  );
  await b.close();
  assert.equal(events.length, 1, 'close() by the user is not a disconnect');
});

test('keepalive against the real daemon: an idle connection stays up (PONGs arrive)', async () => {
  const b = new LibvirtBackend({ id: 'it-ka', type: 'libvirt', uri: URI }, { keepaliveIntervalMs: 100, keepaliveCount: 2 });
  try {
    const c = await b.client();
    await new Promise((r) => setTimeout(r, 1000)); // ~10 intervals of silence: dead after 3 without PONGs
    assert.equal(c.closed, false);
    assert.equal(await c.getUri(), 'test:///default');
  } finally {
    await b.close();
  }
});

test('a missing socket fails with a hint on how to start the daemon', async () => {
  const b = new LibvirtBackend({ id: 'it-nosock', type: 'libvirt', uri: 'qemu:///system', socketPath: '/var/run/libvirt/virtscope-no-such.sock' });
  await assert.rejects(
    b.connect(),
    (e: unknown) =>
      e instanceof BackendError && e.code === 'ENOENT' && /virtscope-no-such\.sock/.test(e.message) && /systemctl start libvirtd/.test(e.hint ?? ''),
  );
});

for (const uri of ['qemu:///system', 'lxc:///system']) {
  test(`list and stats on ${uri} (the lab may have no guests yet)`, async () => {
    const b = new LibvirtBackend({ id: `it-${uri}`, type: 'libvirt', uri });
    try {
      const guests: Guest[] = await b.list();
      const kind = uri.startsWith('lxc') ? 'libvirt-lxc' : 'qemu';
      for (const g of guests) {
        assert.equal(g.kind, kind);
        assert.match(g.id, /^[0-9a-f-]{36}$/);
        assert.notEqual(g.state, 'unknown');
      }
      const stats = await b.stats();
      assert.equal(stats.length, guests.length);
      if (uri.startsWith('lxc')) {
        // libvirt-LXC has no virConnectGetAllDomainStats: detected once, then per-domain calls
        assert.equal(b.hasBulkStats, false);
        assert.ok(stats.every((s) => s.source === 'per-domain'));
        await b.list();
        assert.equal(b.hasBulkStats, false);
      } else {
        assert.equal(b.hasBulkStats, true);
      }
      const cli = await new Promise<string>((resolve, reject) =>
        execFile('virsh', ['-c', uri, 'list', '--all', '--name'], (err, out) => (err ? reject(err) : resolve(out))),
      );
      const names = cli
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
        .sort();
      assert.deepEqual(guests.map((g) => g.name).sort(), names, 'same domains as virsh');
    } finally {
      await b.close();
    }
  });
}
