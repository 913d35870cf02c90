// Volume upload and download through libvirt's stream API (STORAGE_VOL_UPLOAD / _DOWNLOAD: the same
// VIR_NET_STREAM packets as consoles), with progress and cancellation. An upload goes into a volume
// it creates; when it is cancelled or fails, that volume is deleted: no partial volume is left.
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LibvirtClient } from '../libvirt/client';
import * as P from '../libvirt/protocol';
import { BackendError } from '../model';

export interface TransferOptions {
  /** Aborting cancels the transfer (the stream is aborted with the daemon). */
  readonly signal?: AbortSignal;
  /** Bytes moved so far, and the expected total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Counts bytes through, at most every 100 ms to the listener (and once at the end). */
function counter(total: number, onProgress: TransferOptions['onProgress']): { through: Transform; done: () => number } {
  let done = 0;
  let last = 0;
  const through = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      const now = Date.now();
      if (onProgress && now - last >= 100) {
        last = now;
        onProgress(done, total);
      }
      cb(null, chunk);
    },
    flush(cb) {
      onProgress?.(done, total);
      cb();
    },
  });
  return { through, done: () => done };
}

const cancelled = (signal: AbortSignal | undefined, e: unknown) => signal?.aborted || (e as { name?: string } | undefined)?.name === 'AbortError';

/**
 * Sends `size` bytes of `source` into `vol` (a volume just created for them). On failure or
 * cancellation the volume is deleted, and the error says so.
 */
export async function uploadInto(c: LibvirtClient, vol: P.RemoteVolume, source: Readable, size: number, opts: TransferOptions = {}): Promise<number> {
  const count = counter(size, opts.onProgress);
  try {
    opts.signal?.throwIfAborted();
    const stream = await c.storageVolUpload(vol, 0, size, 0);
    await pipeline(source, count.through, stream, { signal: opts.signal });
    return count.done();
  } catch (e) {
    const removed = await c.storageVolDelete(vol, 0).then(
      () => true,
      () => false,
    );
    const left = removed ? 'the partial volume was removed' : `the partial volume "${vol.name}" could not be removed: delete it by hand`;
    if (cancelled(opts.signal, e)) throw new BackendError(`upload into "${vol.name}" cancelled after ${count.done()} bytes; ${left}`, 'ECANCELED');
    throw new BackendError(`upload into "${vol.name}" failed: ${e instanceof Error ? e.message : String(e)}; ${left}`, (e as BackendError).code);
  }
}

/** Writes all of `vol` into `dest`; resolves with the byte count. `total` is the expected size, for progress. */
export async function downloadFrom(c: LibvirtClient, vol: P.RemoteVolume, dest: Writable, total: number, opts: TransferOptions = {}): Promise<number> {
  const count = counter(total, opts.onProgress);
  try {
    opts.signal?.throwIfAborted();
    const stream = await c.storageVolDownload(vol, 0, 0, 0);
    await pipeline(stream, count.through, dest, { signal: opts.signal });
    return count.done();
  } catch (e) {
    if (cancelled(opts.signal, e)) throw new BackendError(`download of "${vol.name}" cancelled after ${count.done()} bytes`, 'ECANCELED');
    throw e;
  }
}
