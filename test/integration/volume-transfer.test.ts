// Volume upload and download through libvirt's stream API against the real libvirtd
// (qemu:///system), in a directory pool of this file's own under a temp dir: bytes uploaded come
// back the same, progress is reported, and a cancelled upload leaves no volume (nor file) behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { capability } from '../../src/core/capabilities';
import { BackendError } from '../../src/core/model';
import { escapeXml } from '../../src/core/xmlTree';

const URI = 'qemu:///system';
const POOL = `vs-xfer-it-${process.pid} pool`;
const VOL = `up "it's" ☃.raw`;

let dir = '';
let backend: LibvirtBackend;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vs-xfer-it-'));
  chmodSync(dir, 0o755);
  backend = new LibvirtBackend({ id: 'xfer-it', type: 'libvirt', uri: URI });
  const c = await backend.client();
  const pool = await c.storagePoolDefineXML(`<pool type='dir'><name>${escapeXml(POOL)}</name><target><path>${escapeXml(dir)}</path></target></pool>`, 0);
  await c.storagePoolCreate(pool, 0);
});

after(async () => {
  try {
    const c = await backend.client();
    const pool = await c.storagePoolLookupByName(POOL).catch(() => undefined);
    if (pool) {
      for (const v of await c.storagePoolListAllVolumes(pool).catch(() => [])) await c.storageVolDelete(v, 0).catch(() => undefined);
      await c.storagePoolDestroy(pool).catch(() => undefined);
      await c.storagePoolUndefine(pool);
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const storage = () => capability(backend, undefined, 'storage')!;

test('upload then download: the same bytes, with progress', async () => {
  const data = randomBytes(3 * 2 ** 20 + 17);
  const seen: number[] = [];
  const v = await storage().uploadVolume(POOL, { name: VOL, format: 'raw' }, Readable.from([data.subarray(0, 2 ** 20), data.subarray(2 ** 20)]), data.length, {
    onProgress: (done) => seen.push(done),
  });
  assert.equal(v.name, VOL);
  assert.equal(seen.at(-1), data.length);
  const chunks: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) });
  const n = await storage().downloadVolume(POOL, VOL, sink);
  assert.equal(n, data.length);
  assert.ok(Buffer.concat(chunks).equals(data), 'the bytes downloaded are the bytes uploaded');
});

test('a cancelled upload leaves no partial volume and no file', async () => {
  const ac = new AbortController();
  const name = 'cancelled.raw';
  // a slow source: 64 KiB every 20 ms, cancelled once 256 KiB went through
  const source = new Readable({
    read() {
      setTimeout(() => this.push(randomBytes(64 * 1024)), 20);
    },
  });
  const upload = storage().uploadVolume(POOL, { name, format: 'raw' }, source, 64 * 2 ** 20, {
    signal: ac.signal,
    onProgress: (done) => done >= 256 * 1024 && ac.abort(),
  });
  await assert.rejects(upload, (e: unknown) => {
    assert.ok(e instanceof BackendError, String(e));
    assert.equal(e.code, 'ECANCELED');
    assert.match(e.message, /cancelled after \d+ bytes; the partial volume was removed/);
    return true;
  });
  assert.ok(!(await storage().volumes(POOL)).some((v) => v.name === name), 'not listed');
  assert.ok(!existsSync(path.join(dir, name)), `no file left: ${readdirSync(dir).join(', ')}`);
});
