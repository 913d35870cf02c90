// Watches a terminal's output for a text (a typed key's echo, an end marker) and notes when it came:
// fed every chunk as it arrives, it resolves with the arrival time of the chunk that completed the
// text, counting only output after the watch was set. Keeps a few bytes, never the whole output, so a
// large `cat` costs nothing to watch. Used by bench/console.ts on both console paths alike.

export interface WatchMatch {
  /** performance.now() when the chunk that completed the text arrived. */
  readonly at: number;
  /** Bytes fed from the start of the watch up to and including that chunk. */
  readonly bytes: number;
}

export class TextWatch {
  /** The end of the output since the watch was set, as long as the text less one character. */
  private tail = '';
  private want: { text: string; resolve: (m: WatchMatch) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private endedWith: Error | undefined;
  /** Bytes fed since the watch was set. */
  bytes = 0;
  /** When the last chunk came (performance.now()). */
  private lastAt = -Infinity;

  /** A chunk of output, as it arrives. */
  feed(chunk: Buffer): void {
    const at = performance.now();
    this.lastAt = at;
    this.bytes += chunk.length;
    const w = this.want;
    if (!w) return;
    const text = this.tail + chunk.toString('latin1');
    if (text.includes(w.text)) {
      this.want = undefined;
      this.tail = '';
      clearTimeout(w.timer);
      w.resolve({ at, bytes: this.bytes });
      return;
    }
    this.tail = text.slice(Math.max(0, text.length - (w.text.length - 1)));
  }

  /** Resolves once no output has come for quietMs (a late prompt must not land inside a measurement). */
  async quiet(quietMs: number, timeoutMs: number): Promise<void> {
    const t0 = performance.now();
    for (let idle = performance.now() - this.lastAt; idle < quietMs; idle = performance.now() - this.lastAt) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`the output did not pause for ${quietMs} ms within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, quietMs - idle));
    }
  }

  /** The output ended: a pending watch fails, and so does every later one. */
  end(why: Error): void {
    this.endedWith ??= why;
    const w = this.want;
    this.want = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(why);
    }
  }

  /**
   * Resolves when output fed after this call first contains `text` (ASCII): when, and how many
   * bytes came until then; rejects after timeoutMs or when the output ends. One watch at a time.
   */
  next(text: string, timeoutMs: number): Promise<WatchMatch> {
    if (!text) throw new Error('TextWatch: nothing to watch for');
    if (this.want) throw new Error(`TextWatch: already watching for ${JSON.stringify(this.want.text)}`);
    if (this.endedWith) return Promise.reject(this.endedWith);
    this.tail = '';
    this.bytes = 0;
    return new Promise<WatchMatch>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.want = undefined;
        reject(new Error(`no ${JSON.stringify(text)} in the output within ${timeoutMs} ms`));
      }, timeoutMs);
      this.want = { text, resolve, reject, timer };
    });
  }
}
