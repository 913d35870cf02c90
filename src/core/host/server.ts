// Servers the host runs for a measurement (iperf3 -s, sockperf sr), optionally inside a network
// namespace. Ready means: the kernel shows a LISTEN socket on the port in the server's own network
// namespace (/proc/PID/net/tcp{,6}) — no guessing from its output, which differs between versions.
// A remote host's process has no pid here (SSH runs it): the table of the namespace it runs in is read.
import type { Host, HostChild } from './host';
import { inNetns } from './net';

const READY_TIMEOUT_MS = 10_000;
const TCP_LISTEN = '0A';

/** Does a /proc/net/tcp{,6} table show a socket listening on `port`? */
export function listensOn(table: string, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1]?.endsWith(hex) && f[3] === TCP_LISTEN;
  });
}

export class HostServer {
  private child: HostChild | undefined;
  output = '';

  constructor(
    readonly host: Host,
    readonly argv: readonly string[],
    /** The network namespace `argv` enters (where its socket is looked for when the host gives no pid). */
    readonly netns?: string,
  ) {}

  /** Starts it and waits until it listens on `port`; rejects (after stopping it) with its own output otherwise. */
  async start(port: number, signal?: AbortSignal, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const child = this.host.spawn(this.argv);
    this.child = child;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    void child.exited.then((e) => e.error && (this.output += e.error.message));
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs && !signal?.aborted && !child.done) {
      if (await this.listening(child.pid, port)) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    await this.stop();
    await child.exited;
    throw new Error(
      `${this.argv.join(' ')} did not start listening on ${this.host.label}: ${this.output.trim().slice(0, 300) || (signal?.aborted ? 'cancelled' : 'no output')}`,
    );
  }

  private async listening(pid: number | undefined, port: number): Promise<boolean> {
    if (pid === undefined) {
      try {
        return listensOn((await this.host.run(inNetns(this.netns, ['cat', '/proc/net/tcp', '/proc/net/tcp6']), { timeoutMs: 10_000 })).stdout, port);
      } catch {
        return false; // not there yet, or the host cannot say: asked again until the server exits
      }
    }
    const read = (f: string) => this.host.readFile(`/proc/${pid}/net/${f}`).catch(() => '');
    const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
    return listensOn(v4, port) || listensOn(v6, port);
  }

  /** Stops it with everything it started; true when it was still running. */
  async stop(): Promise<boolean> {
    const c = this.child;
    if (!c || c.done) return false;
    await c.kill();
    return true;
  }
}

export interface IperfServerOptions {
  /** Address to bind (-B). */
  bind: string;
  /** Network namespace (name under /run/netns) to run it in. */
  netns?: string;
  firstPort: number;
  /** Ports tried upwards from firstPort while one is in use (default 20). */
  ports?: number;
  signal?: AbortSignal;
}

/** An iperf3 server for one test (-1), on the first free port from firstPort. */
export async function startIperfServer(host: Host, o: IperfServerOptions): Promise<{ server: HostServer; port: number }> {
  const ports = o.ports ?? 20;
  const where = `${o.bind}${o.netns ? ` (netns ${o.netns})` : ''} on ${host.label}`;
  for (let port = o.firstPort; port < o.firstPort + ports; port++) {
    const server = new HostServer(host, inNetns(o.netns, ['iperf3', '-s', '-1', '--forceflush', '-B', o.bind, '-p', String(port)]), o.netns);
    try {
      await server.start(port, o.signal);
      return { server, port };
    } catch (e) {
      if (o.signal?.aborted) throw e;
      if (/is not installed or not on PATH/.test(server.output)) throw new Error(`iperf3 is not installed on ${host.label} (apt-get install iperf3)`);
      if (!/in use/i.test(server.output)) throw new Error(`iperf3 server on ${where}, port ${port}, did not start: ${server.output.trim().slice(0, 300)}`);
    }
  }
  throw new Error(`no free port for iperf3 on ${where} in ${o.firstPort}–${o.firstPort + ports - 1}`);
}
