// The strongest baseline a user could pick for libvirt queries: one `virsh` shell kept open on the
// connection (libvirt's own C client on a kept connection, what virt-manager and virt-top do), fed
// commands and read until a marker echoed after them. Used by the sampler, inventory and host-objects
// benchmarks, with virsh(), one process per call.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** One `virsh -c URI ARGS…` process (the per-call baseline); resolves with its output. */
export function virsh(uri: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('virsh', ['-c', uri, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`virsh ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
  });
}

export class VirshShell {
  private readonly proc: ChildProcessWithoutNullStreams;
  private out = '';
  private seq = 0;
  private waiter: (() => void) | undefined;
  private exited: Error | undefined;

  constructor(uri: string) {
    this.proc = spawn('virsh', ['-q', '-c', uri], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.out += d;
      this.waiter?.();
    });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`virsh shell: ${d}`));
    // a shell that could not connect exits: run() says so (instead of an EPIPE thrown from the write)
    this.proc.stdin.on('error', () => undefined);
    this.proc.on('exit', (code) => {
      this.exited = new Error(`the long-lived virsh shell exited (${code})`);
      this.waiter?.();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Runs the commands (one per line) and resolves with everything they printed. */
  async run(...commands: string[]): Promise<string> {
    const mark = `VIRTSCOPE-MARK-${++this.seq}`;
    this.out = '';
    this.proc.stdin.write(`${commands.join('\n')}\necho ${mark}\n`);
    // the shell may echo each command line after its prompt ("virsh # echo MARK"): wait for the
    // marker at the start of a line, the echo command's own output
    const at = () => new RegExp(`(^|\\n)${mark}`).exec(this.out);
    for (let m = at(); !m; m = at()) {
      if (this.exited) throw this.exited;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
    return this.out.slice(0, at()!.index);
  }

  /** One `domstats` with the given groups; the number of domains in the reply and the wall time. */
  async domstats(groups: readonly string[]): Promise<{ wallMs: number; domains: number }> {
    const t0 = performance.now();
    const out = await this.run(`domstats ${groups.join(' ')}`);
    return { wallMs: performance.now() - t0, domains: (out.match(/^Domain: /gm) ?? []).length };
  }

  close(): void {
    this.proc.stdin.end('quit\n');
    setTimeout(() => this.proc.kill(), 2000).unref();
  }
}
