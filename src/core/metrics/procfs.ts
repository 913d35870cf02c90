// The host's /proc files, kept open while the sampler runs and read again from offset 0 each tick:
// the kernel regenerates a /proc file on every read from the start, and this saves the open, fstat
// and close of a readFileSync per file per tick (about half the syscall time of the host reading).
import { closeSync, openSync, readSync } from 'node:fs';

export class ProcFiles {
  private readonly fds = new Map<string, number>();
  private buf = Buffer.allocUnsafe(16 * 1024);

  /** The whole file now; throws as readFileSync would when it cannot be opened or read. */
  read(path: string): string {
    let fd = this.fds.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'r');
      this.fds.set(path, fd);
    }
    try {
      for (;;) {
        // a file that fills the buffer may have more: read it again, whole, into a larger one
        const n = readSync(fd, this.buf, 0, this.buf.length, 0);
        if (n < this.buf.length) return this.buf.toString('utf8', 0, n);
        this.buf = Buffer.allocUnsafe(this.buf.length * 2);
      }
    } catch (e) {
      this.fds.delete(path);
      closeSync(fd);
      throw e;
    }
  }

  /** The file, or undefined when it is missing or unreadable (PSI off, an older kernel). */
  readOpt(path: string): string | undefined {
    try {
      return this.read(path);
    } catch {
      return undefined;
    }
  }

  /** Closes every file; a later read opens it again. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
