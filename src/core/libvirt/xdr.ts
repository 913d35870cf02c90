// XDR (RFC 4506) encoding as libvirt's RPC uses it: big-endian, 4-byte aligned.
// The reader never trusts a length it reads: every read is checked against the bytes
// that remain, and every counted item against the protocol's maximum, before anything
// is allocated. A bad message yields an XdrError, never a RangeError or a huge buffer.

export class XdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdrError';
  }
}

const PAD = [0, 3, 2, 1];
const UINT32_MAX = 0xffffffff;

function padOf(n: number): number {
  return PAD[n & 3];
}

/** An error message's name for an item: `what`, or `what subject`. */
function label(what: string, subject: string | undefined): string {
  return subject === undefined ? what : `${what} ${subject}`;
}

/**
 * Decoded strings by position: `get(buf, start, end, slot)` returns the string decoded last time at
 * `slot` when its UTF-8 bytes are the same, else decodes and remembers it. Bulk stats repeat the same
 * ~30-100 parameter names for every domain in every reply; this decodes each name once (and V8
 * then finds the same internalized property key) instead of making a new string per parameter.
 * Bounded by the number of slots used (the longest parameter list seen).
 */
export class StringCache {
  private readonly bytes: Buffer[] = [];
  private readonly strings: string[] = [];

  get(buf: Buffer, start: number, end: number, slot: number): string {
    const known = this.bytes[slot];
    const n = end - start;
    if (known !== undefined && known.length === n) {
      let i = 0;
      while (i < n && known[i] === buf[start + i]) i++;
      if (i === n) return this.strings[slot];
    }
    const s = buf.toString('utf8', start, end);
    this.bytes[slot] = Buffer.from(buf.subarray(start, end));
    this.strings[slot] = s;
    return s;
  }
}

export class XdrWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new XdrError(`int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw new XdrError(`unsigned int out of range: ${v}`);
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  hyper(v: number | bigint): this {
    this.reserve(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  uhyper(v: number | bigint): this {
    this.reserve(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  double(v: number): this {
    this.reserve(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int(v ? 1 : 0);
  }

  /** Fixed-length opaque (e.g. a 16-byte UUID): no length prefix, padded to 4. */
  fixedOpaque(data: Uint8Array, length: number): this {
    if (data.length !== length) throw new XdrError(`fixed opaque needs ${length} bytes, got ${data.length}`);
    this.raw(data);
    return this;
  }

  /** Variable-length opaque: length, bytes, padding. */
  opaque(data: Uint8Array, max = UINT32_MAX): this {
    if (data.length > max) throw new XdrError(`opaque of ${data.length} bytes exceeds maximum ${max}`);
    this.uint(data.length);
    this.raw(data);
    return this;
  }

  string(s: string, max = UINT32_MAX): this {
    const data = Buffer.from(s, 'utf8');
    if (data.length > max) throw new XdrError(`string of ${data.length} bytes exceeds maximum ${max}`);
    this.uint(data.length);
    this.raw(data);
    return this;
  }

  /** XDR optional-data (`type *name`): a boolean discriminant, then the value. */
  optional<T>(v: T | null | undefined, write: (w: this, v: T) => void): this {
    if (v === null || v === undefined) return this.uint(0);
    this.uint(1);
    write(this, v);
    return this;
  }

  array<T>(items: readonly T[], write: (w: this, v: T) => void, max = UINT32_MAX): this {
    if (items.length > max) throw new XdrError(`array of ${items.length} items exceeds maximum ${max}`);
    this.uint(items.length);
    for (const it of items) write(this, it);
    return this;
  }

  private raw(data: Uint8Array): void {
    const pad = padOf(data.length);
    this.reserve(data.length + pad);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    if (pad) {
      this.buf.fill(0, this.pos, this.pos + pad);
      this.pos += pad;
    }
  }

  /** The encoded bytes (a copy-free view; do not keep writing after this). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class XdrReader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    end = buf.length,
  ) {
    this.pos = offset;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string, subject?: string): void {
    if (n > this.end - this.pos) {
      throw new XdrError(`truncated XDR data reading ${label(what, subject)} at offset ${this.pos}: needs ${n} bytes, only ${this.end - this.pos} left`);
    }
  }

  /**
   * `what` names the item in error messages; `subject`, when given, is appended to it
   * (`what subject`) only when there is an error, so hot decoders build no strings.
   */
  int(what = 'int', subject?: string): number {
    this.need(4, what, subject);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint(what = 'unsigned int', subject?: string): number {
    this.need(4, what, subject);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  hyper(what = 'hyper', subject?: string): bigint {
    this.need(8, what, subject);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uhyper(what = 'unsigned hyper', subject?: string): bigint {
    this.need(8, what, subject);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * hyper as a JS number (exact up to 2^53; counters beyond that lose low bits). Read as two
   * 32-bit halves, without a BigInt: hi × 2^32 is exact, so the one rounding of the sum gives the
   * same number as Number(bigint).
   */
  hyperNumber(what = 'hyper', subject?: string): number {
    this.need(8, what, subject);
    const v = this.buf.readInt32BE(this.pos) * 4294967296 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  uhyperNumber(what = 'unsigned hyper', subject?: string): number {
    this.need(8, what, subject);
    const v = this.buf.readUInt32BE(this.pos) * 4294967296 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }

  double(what = 'double', subject?: string): number {
    this.need(8, what, subject);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(what = 'bool'): boolean {
    const at = this.pos;
    const v = this.int(what);
    if (v !== 0 && v !== 1) throw new XdrError(`invalid XDR bool reading ${what} at offset ${at}: ${v}`);
    return v === 1;
  }

  /**
   * A length prefix, checked against the protocol maximum and the bytes left, before use:
   * the item count of an array whose items take at least `minItemBytes` each.
   */
  count(what: string, max: number, minItemBytes: number, subject?: string): number {
    const at = this.pos;
    if (this.end - this.pos < 4) this.need(4, `${label(what, subject)} length`);
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    if (n > max) throw new XdrError(`${label(what, subject)} length ${n} at offset ${at} exceeds the protocol maximum ${max}`);
    const bytes = n * minItemBytes;
    if (bytes > this.end - this.pos) {
      throw new XdrError(
        `${label(what, subject)} length ${n} at offset ${at} runs past the end of the data: needs at least ${bytes} bytes, only ${this.end - this.pos} left`,
      );
    }
    return n;
  }

  fixedOpaque(length: number, what = 'fixed opaque'): Buffer {
    const total = length + padOf(length);
    this.need(total, what);
    const out = Buffer.allocUnsafe(length);
    this.buf.copy(out, 0, this.pos, this.pos + length);
    this.pos += total;
    return out;
  }

  opaque(max: number, what = 'opaque'): Buffer {
    const n = this.count(what, max, 1);
    return this.fixedOpaque(n, what);
  }

  string(max: number, what = 'string', subject?: string): string {
    const n = this.count(what, max, 1, subject);
    const total = n + padOf(n);
    this.need(total, what, subject);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += total;
    return s;
  }

  /**
   * A string that usually repeats at the same place from message to message (typed-parameter
   * names): the one `cache` decoded last time at `slot` when the bytes are the same.
   */
  cachedString(max: number, cache: StringCache, slot: number, what = 'string'): string {
    const n = this.count(what, max, 1);
    const total = n + padOf(n);
    this.need(total, what);
    const s = cache.get(this.buf, this.pos, this.pos + n, slot);
    this.pos += total;
    return s;
  }

  /** The unsigned int at the read position, without moving it (undefined when fewer than 4 bytes remain). */
  peekUint(): number | undefined {
    return this.end - this.pos < 4 ? undefined : this.buf.readUInt32BE(this.pos);
  }

  /** Whether the next `known.length` bytes are `known`'s (nothing is read). */
  startsWith(known: Uint8Array): boolean {
    const n = known.length;
    if (n > this.end - this.pos) return false;
    const buf = this.buf;
    const at = this.pos;
    for (let i = 0; i < n; i++) if (buf[at + i] !== known[i]) return false;
    return true;
  }

  /** A copy of the next `n` bytes (nothing is read; n must not exceed `remaining`). */
  peekCopy(n: number): Buffer {
    return Buffer.from(this.buf.subarray(this.pos, this.pos + n));
  }

  /** Moves past `n` bytes already checked with startsWith(). */
  skip(n: number): void {
    this.need(n, 'skipped bytes');
    this.pos += n;
  }

  optional<T>(read: (r: this) => T, what = 'optional'): T | null {
    const at = this.pos;
    const flag = this.uint(`${what} discriminant`);
    if (flag === 0) return null;
    if (flag !== 1) throw new XdrError(`invalid optional discriminant ${flag} reading ${what} at offset ${at}`);
    return read(this);
  }

  /**
   * Variable-length array. `minItemBytes` is the smallest encoding of one item: the count
   * is rejected unless count × minItemBytes bytes remain, so a forged count of 0xFFFFFFFF
   * fails here instead of allocating.
   */
  array<T>(read: (r: this, index: number) => T, max: number, minItemBytes: number, what = 'array', subject?: string): T[] {
    const n = this.count(what, max, Math.max(1, minItemBytes), subject);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this, i));
    return out;
  }

  /** Throws unless every byte was consumed (for fixed-shape bodies). */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new XdrError(`${this.end - this.pos} unexpected trailing bytes after ${what} at offset ${this.pos}`);
    }
  }
}
