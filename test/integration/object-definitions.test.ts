// Storage pools and networks defined from XML against the real libvirtd (qemu:///system): the
// templates define as they are, an invalid one is rejected with libvirt's own message and defines
// nothing, an edit over a host change made meanwhile with virsh is refused. Only this file's own
// directory pool (under a temp dir) and isolated network (no forward, 10.99.x); removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { networkTemplate, poolTemplate } from '../../src/core/storage/templates';
import { capability } from '../../src/core/capabilities';
import { DefinitionConflictError, DefinitionRejectedError } from '../../src/core/editing/errors';
import { BackendError } from '../../src/core/model';
import { libvirtScratch, virshOn } from './util';

const URI = 'qemu:///system';
const TAG = `vs-def-it-${process.pid}`;
const POOL = `${TAG} pool "ü" & <x>`;
const NET = `${TAG}-net`;
const SUBNET = `10.99.${(process.pid % 100) + 101}`;
const { virsh, quietly } = virshOn(URI);

let dir = '';
let backend: LibvirtBackend;

before(async () => {
  ({ dir, backend } = await libvirtScratch('vs-def-it-', 'def-it', URI));
});

after(async () => {
  try {
    for (const name of [POOL, `${TAG}-bad`]) quietly('pool-undefine', name);
    for (const name of [NET, `${TAG}-badnet`]) quietly('net-undefine', name);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const pools = () => capability(backend, undefined, 'storage')!.definitions;
const nets = () => capability(backend, undefined, 'networks')!.definitions;

test('a pool and a network defined from their templates; listed; edits saved', async () => {
  const p = await pools().create(poolTemplate(POOL, dir), undefined);
  assert.equal(p.name, POOL);
  assert.match(p.text, /<pool type='dir'>/);
  assert.ok((await capability(backend, undefined, 'storage')!.pools()).some((x) => x.name === POOL && x.path === dir));
  const n = await nets().create(networkTemplate(NET, SUBNET), undefined);
  assert.equal(n.name, NET);
  assert.doesNotMatch(n.text, /<forward/, 'isolated');
  const listed = (await capability(backend, undefined, 'networks')!.list()).find((x) => x.name === NET);
  assert.deepEqual(listed?.addresses, [`${SUBNET}.1/24`]);
  // an edit: the text read, changed, saved
  const text = await pools().read(POOL);
  const saved = await pools().save(POOL, text.replace('</target>', '<permissions><mode>0750</mode></permissions></target>'), text);
  assert.match(saved.text, /<mode>0750<\/mode>/);
});

test("invalid XML: rejected with libvirt's message, nothing defined", async () => {
  const badPool = poolTemplate(`${TAG}-bad`, dir).replace("type='dir'", "type='bogus'");
  await assert.rejects(pools().create(badPool, undefined), (e: unknown) => {
    assert.ok(e instanceof DefinitionRejectedError, String(e));
    assert.match(e.message, /failed to validate against schema.*storagepool\.rng/);
    return true;
  });
  assert.doesNotMatch(virsh('pool-list', '--all', '--name'), new RegExp(`${TAG}-bad`));
  const badNet = networkTemplate(`${TAG}-badnet`, SUBNET).replace(`address='${SUBNET}.1'`, "address='not-an-address'");
  await assert.rejects(nets().create(badNet, undefined), (e: unknown) => {
    assert.ok(e instanceof DefinitionRejectedError, String(e));
    assert.match(e.message, /not-an-address/);
    return true;
  });
  assert.doesNotMatch(virsh('net-list', '--all', '--name'), new RegExp(`${TAG}-badnet`));
});

test('a save over a change made with virsh meanwhile is refused; the host keeps its version', async () => {
  const baseline = await nets().read(NET);
  // what virsh net-edit would leave: the same network with a DNS domain added
  const changed = baseline.replace('</name>', `</name>\n  <domain name='changed-outside'/>`);
  const file = path.join(dir, 'net.xml');
  execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: changed });
  virsh('net-define', file);
  const mine = baseline.replace('</name>', `</name>\n  <domain name='mine'/>`);
  await assert.rejects(nets().save(NET, mine, baseline), (e: unknown) => {
    assert.ok(e instanceof DefinitionConflictError, String(e));
    assert.match(e.current, /changed-outside/);
    return true;
  });
  assert.match(await nets().read(NET), /changed-outside/);
});

test("a driver without the INACTIVE flag (libvirt's test driver): an inactive pool's definition is read; an active network's is refused with the reason", async () => {
  // a private test host (a file of this test's own), served by the same libvirtd
  const file = path.join(dir, 'node.xml');
  writeFileSync(
    file,
    `<node><pool type='dir'><name>idle pool</name><target><path>/p</path></target></pool>` +
      `<network><name>busy</name><bridge name='vbusy'/><ip address='10.98.0.1' prefix='24'/></network></node>`,
  );
  const testHost = new LibvirtBackend({ id: 'def-it-test', type: 'libvirt', uri: `test+unix://${file}` });
  try {
    const c = await testHost.client();
    await c.storagePoolDestroy(await c.storagePoolLookupByName('idle pool'));
    assert.match(await capability(testHost, undefined, 'storage')!.definitions.read('idle pool'), /<name>idle pool<\/name>[\s\S]*<path>\/p<\/path>/);
    await assert.rejects(
      capability(testHost, undefined, 'networks')!.definitions.read('busy'),
      (e: BackendError) => e.code === 'ENOTSUP' && /stop "busy" to edit its definition/.test(e.message),
    );
  } finally {
    await testHost.close();
  }
});
