// Volume upload's cleanup: a daemon that fails mid-upload (a full disk) cannot be had on demand from
// the real libvirtd, so a small stand-in for the client's two calls plays it. The volume made for the
// upload is deleted, and the message says so, or says to delete it by hand when that fails too.
// (The real stream round trip and a cancelled upload: test/integration/volume-transfer.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { uploadInto } from '../../src/core/backends/libvirtVolumeTransfer';
import type { LibvirtClient } from '../../src/core/libvirt/client';
import { BackendError } from '../../src/core/model';

const VOL = { pool: 'p', name: 'disk.raw', key: '/p/disk.raw' };

function failingDaemon(deleteWorks: boolean) {
  const deleted: string[] = [];
  const client = {
    storageVolUpload: async () =>
      new Writable({
        write: (_c: Buffer, _e, cb) => cb(new Error('cannot write: No space left on device')),
      }),
    storageVolDelete: async (v: typeof VOL) => {
      if (!deleteWorks) throw new Error('permission denied');
      deleted.push(v.name);
    },
  } as unknown as LibvirtClient;
  return { client, deleted };
}

test('upload failing mid-way: the volume made for it is deleted, the message says why and what was done', async () => {
  const d = failingDaemon(true);
  await assert.rejects(uploadInto(d.client, VOL, Readable.from([Buffer.alloc(1000)]), 1000), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.match(e.message, /upload into "disk.raw" failed: cannot write: No space left on device; the partial volume was removed/);
    return true;
  });
  assert.deepEqual(d.deleted, ['disk.raw']);
});

test('upload cancelled before it started: nothing sent, the volume deleted; a failed delete is named', async () => {
  const d = failingDaemon(false);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(uploadInto(d.client, VOL, Readable.from([Buffer.alloc(10)]), 10, { signal: ac.signal }), (e: unknown) => {
    assert.ok(e instanceof BackendError);
    assert.equal(e.code, 'ECANCELED');
    assert.match(e.message, /cancelled after 0 bytes; the partial volume "disk.raw" could not be removed: delete it by hand/);
    return true;
  });
});
