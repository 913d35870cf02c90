// Files a feature reads again and again (the host's /proc, every tick). On this machine they stay
// open and are read again from offset 0: the kernel regenerates a /proc file on every read from the
// start, and this saves the open, fstat and close of a readFileSync per file per tick. On another
// host they are read together through Host.readFiles (one program run there).
import { closeSync, openSync, readSync } from 'node:fs';
import type { Host } from './host';
import { LocalHost } from './local';

export interface KeptFiles {
  /** Each file's whole text now, undefined where it is missing or unreadable. */
  readMany(paths: readonly string[]): Promise<Array<string | undefined>>;
  /** Closes whatever is held open; a later read opens it again. */
  close(): void;
}

/** Kept-open files of this machine, read synchronously (tiny, generated in memory, never on disk). */
export class ProcFiles implements KeptFiles {
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

  async readMany(paths: readonly string[]): Promise<Array<string | undefined>> {
    return paths.map((p) => this.readOpt(p));
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** Another host's files: read afresh each time, all at once, nothing held. */
class ReadThrough implements KeptFiles {
  constructor(private readonly host: Host) {}

  async readMany(paths: readonly string[]): Promise<Array<string | undefined>> {
    const got = await this.host.readFiles(paths).catch(() => new Map<string, string | Error>());
    return paths.map((p) => {
      const v = got.get(p);
      return typeof v === 'string' ? v : undefined;
    });
  }

  close(): void {}
}

/** Files of `host` to read repeatedly: kept open on this machine, read through the host elsewhere. */
export function keptFiles(host: Host): KeptFiles {
  return host instanceof LocalHost ? new ProcFiles() : new ReadThrough(host);
}
