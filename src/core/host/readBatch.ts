// Reads asked of a host within one turn of the event loop go out together as one Host.readFiles: on a
// remote host one program run (one SSH channel) for all of them instead of a channel per file. A
// metrics tick makes one batch; every reader of the tick (the host's /proc, each guest's cgroup files)
// reads through it unchanged.
import type { Host } from './host';

type Waiter = { resolve: (text: string) => void; reject: (e: unknown) => void };

/** Each batch's view of a host → the host: what a cache per host keys on (a tick's view is new). */
const behind = new WeakMap<Host, Host>();

/** The host a batch's view reads from (any other host as it is). */
export function unbatched(host: Host): Host {
  return behind.get(host) ?? host;
}

export class ReadBatch {
  private readonly queued = new Map<Host, Map<string, Waiter[]>>();
  private readonly views = new Map<Host, Host>();
  private scheduled = false;

  /** `host` as it is, except that its readFile and readFiles join this batch. */
  of(host: Host): Host {
    let view = this.views.get(host);
    if (!view) {
      const readFile = (p: string) => this.read(host, p);
      const readFiles = (ps: readonly string[]) => this.readMany(host, ps);
      view = new Proxy(host, {
        get(target, prop) {
          if (prop === 'readFile') return readFile;
          if (prop === 'readFiles') return readFiles;
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      this.views.set(host, view);
      behind.set(view, host);
    }
    return view;
  }

  private read(host: Host, path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let files = this.queued.get(host);
      if (!files) this.queued.set(host, (files = new Map()));
      const waiters = files.get(path) ?? [];
      waiters.push({ resolve, reject });
      files.set(path, waiters);
      if (!this.scheduled) {
        this.scheduled = true;
        // after the microtasks: readers that await something already settled join this batch too
        setImmediate(() => this.flush());
      }
    });
  }

  private async readMany(host: Host, paths: readonly string[]): Promise<Map<string, string | Error>> {
    const out = new Map<string, string | Error>();
    await Promise.all(
      paths.map((p) =>
        this.read(host, p).then(
          (t) => out.set(p, t),
          (e: Error) => out.set(p, e),
        ),
      ),
    );
    return out;
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.queued];
    this.queued.clear();
    for (const [host, files] of batches) {
      host.readFiles([...files.keys()]).then(
        (got) => {
          for (const [p, waiters] of files) {
            const v = got.get(p) ?? new Error(`${p} was not read on ${host.label}`);
            for (const w of waiters) typeof v === 'string' ? w.resolve(v) : w.reject(v);
          }
        },
        (e: unknown) => files.forEach((waiters) => waiters.forEach((w) => w.reject(e))),
      );
    }
  }
}
