// The console benchmark's reusable pieces: the output watch that times an echo or an end marker
// (bench/textWatch.ts) and the RFB client's byte queue (test/rfb-client.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextWatch } from '../../bench/textWatch';
import { ByteQueue } from '../rfb-client';

const b = (s: string) => Buffer.from(s, 'latin1');

test('TextWatch: resolves at the chunk that brings the text; output before the watch does not count', async () => {
  const w = new TextWatch();
  w.feed(b('x')); // before the watch: ignored
  const t0 = performance.now();
  const p = w.next('x', 1000);
  w.feed(b('\x1b[6n'));
  assert.equal(w.bytes, 4);
  w.feed(b('ax'));
  const { at, bytes } = await p;
  assert.ok(at >= t0 && at <= performance.now());
  assert.equal(bytes, 6);
  w.feed(b('/ # '));
  assert.equal(w.bytes, 10, 'counting goes on; the match kept its own count');
});

test('TextWatch: a marker split across chunks is found; a new watch starts from nothing', async () => {
  const w = new TextWatch();
  let p = w.next('VS-END-42', 1000);
  w.feed(b('echo VS-END-$((40+2))\r\nline\r\nVS-E'));
  w.feed(b('ND'));
  w.feed(b('-42\r\n/ # '));
  await p;
  // the tail of the last output must not complete the next marker
  p = w.next('VS-END-42', 50);
  w.feed(b('-42'));
  await assert.rejects(p, /no "VS-END-42" in the output within 50 ms/);
});

test('TextWatch: a large output keeps only a short tail; bytes are counted', async () => {
  const w = new TextWatch();
  const p = w.next('END', 1000);
  const chunk = b('A'.repeat(64 * 1024));
  for (let i = 0; i < 32; i++) w.feed(chunk);
  assert.ok((w as unknown as { tail: string }).tail.length <= 2);
  w.feed(b('..EN'));
  w.feed(b('D'));
  assert.equal((await p).bytes, 32 * 64 * 1024 + 5);
});

test('TextWatch: the output ending fails the pending watch and later ones; one watch at a time', async () => {
  const w = new TextWatch();
  const p = w.next('x', 1000);
  assert.throws(() => w.next('y', 1000), /already watching for "x"/);
  w.end(new Error('console closed'));
  await assert.rejects(p, /console closed/);
  await assert.rejects(w.next('x', 1000), /console closed/);
});

test('ByteQueue: exact reads across chunk boundaries, in order', async () => {
  const q = new ByteQueue();
  q.push(b('RFB 003'));
  const head = q.read(12);
  q.push(b('.008\nAB'));
  assert.equal((await head).toString(), 'RFB 003.008\n');
  q.push(b('CD'));
  assert.equal((await q.read(3)).toString(), 'ABC');
  assert.equal((await q.read(1)).toString(), 'D');
});

test('ByteQueue: the end or a timeout fails a read that cannot be filled; what is there can still be read', async () => {
  const q = new ByteQueue();
  q.push(b('abc'));
  await assert.rejects(q.read(4, 30), /timed out waiting for 4 bytes \(3 there\)/);
  q.end('closed');
  await assert.rejects(q.read(4), /stream ended \(closed\) with 3\/4 bytes/);
  assert.equal((await q.read(3)).toString(), 'abc');
});

test('TextWatch: quiet waits until no output has come for a while', async () => {
  const w = new TextWatch();
  await w.quiet(20, 1000); // nothing ever came: quiet at once
  w.feed(b('x'));
  const feeding = setInterval(() => w.feed(b('x')), 5);
  setTimeout(() => clearInterval(feeding), 100);
  const t0 = performance.now();
  await w.quiet(40, 2000);
  assert.ok(performance.now() - t0 >= 100, 'not before the output stopped');
  w.feed(b('x'));
  const busy = setInterval(() => w.feed(b('x')), 5);
  await assert.rejects(w.quiet(40, 100), /did not pause for 40 ms within 100 ms/);
  clearInterval(busy);
});
