// The second host's own libvirt schemas, copied over SSH into a per-host, per-version cache on this
// machine (src/core/schema/hostSchemas.ts), and a definition of that host validated against them.
// Runs only while the second host is up; leaves nothing behind on either machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshHost } from '../../src/core/host/ssh';
import { hostSchemas, libvirtVersionOn } from '../../src/core/schema/hostSchemas';
import { validateXml } from '../../src/core/schema/xmllint';
import { secondHost, secondHostSkip } from '../fixtures/remote/secondHost';

const skip = secondHostSkip;
const up = !skip;

let host: SshHost;
let scratch: string;

before(() => {
  if (!up) return;
  ({ host, scratch } = secondHost('vs-remote-schemas-'));
});

after(async () => {
  await host?.dispose();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test(
  "the second host's libvirt schemas: copied over SSH once per version, again when its files change, and its definitions validate against them",
  { skip, timeout: 120_000 },
  async () => {
    const cache = path.join(scratch, 'schemas');
    const t0 = performance.now();
    const s = await hostSchemas(host, 'sshhost:lab', cache);
    const took = performance.now() - t0;
    assert.ok(s, 'the second host has libvirt schemas');
    const version = await libvirtVersionOn(host);
    assert.match(version, /^\d+\.\d+\.\d+$/);
    assert.deepEqual([s.version, s.fetched, s.dir], [version, true, path.join(cache, 'sshhost_lab', version)]);
    // every schema of the host, byte for byte
    const remote = (await host.readdir(s.remoteDir)).filter((e) => e.name.endsWith('.rng')).map((e) => e.name);
    assert.ok(remote.includes('domain.rng') && remote.length >= 20, remote.join(' '));
    assert.deepEqual(
      fs
        .readdirSync(s.dir)
        .filter((f) => f.endsWith('.rng'))
        .sort(),
      remote.sort(),
    );
    for (const f of ['domain.rng', 'domaincommon.rng'])
      assert.equal(fs.readFileSync(path.join(s.dir, f), 'utf8'), await host.readFile(`${s.remoteDir}/${f}`), f);
    // cached: nothing copied while the host's files are the same
    const t1 = performance.now();
    const again = await hostSchemas(host, 'sshhost:lab', cache);
    const tookCached = performance.now() - t1;
    assert.equal(again?.fetched, false);
    // the host's files changed (as after an upgrade in place): copied again
    fs.writeFileSync(path.join(s.dir, '.virtscope-schemas'), 'an older listing\n');
    assert.equal((await hostSchemas(host, 'sshhost:lab', cache))?.fetched, true);
    assert.deepEqual(
      fs.readdirSync(path.dirname(s.dir)).filter((f) => f.includes('.tmp-')),
      [],
      'no half-copied directory left',
    );
    // a definition of that host validates against its own schemas; a broken one does not
    const xml = (await host.run(['virsh', '-c', 'qemu:///system', 'dumpxml', '--inactive', 'remotevm'])).stdout;
    assert.deepEqual(await validateXml(xml, path.join(s.dir, 'domain.rng')), []);
    const bad = await validateXml(xml.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>vanish</on_poweroff>'), path.join(s.dir, 'domain.rng'));
    assert.ok(
      bad.some((p) => p.source === 'schema'),
      JSON.stringify(bad),
    );
    console.log(`# sshhost-lab libvirt ${version}: ${remote.length} schema files copied in ${took.toFixed(0)} ms; cached check ${tookCached.toFixed(0)} ms`);
  },
);
