// A long-running process as one byte stream: what libvirt's qemu+ssh does with virt-ssh-helper (or
// `nc -U`), and what `docker system dial-stdio` offers. Ending the stream kills the process.
import { Duplex } from 'node:stream';
import type { Host } from './host';

/**
 * Spawns argv on `host`; its stdout is what the stream reads, its stdin what it writes. A process that
 * fails ends the stream with its own reason (its exit and last line of stderr), never with a broken
 * pipe of the write that found it gone: the end of its output waits for its exit to say which.
 */
export function processStream(host: Host, argv: readonly string[]): Duplex {
  const p = host.spawn(argv);
  let stderr = '';
  p.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)));
  p.stdin.on('error', () => undefined); // the exit says why
  const d = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (!p.stdin.write(chunk)) p.stdin.once('drain', () => cb());
      else cb();
    },
    final(cb) {
      p.stdin.end();
      cb();
    },
    read() {
      p.stdout.resume();
    },
  });
  p.stdout.on('data', (b: Buffer) => {
    if (!d.push(b)) p.stdout.pause();
  });
  // the host's own error as it is (an SSH outage stays one for reach.ts), else the exit and stderr's last line
  const why = p.exited.then((e): Error | undefined => {
    const tail = stderr.trim().split('\n').pop();
    return e.error ?? (e.code ? new Error(`${argv[0]} on ${host.label} exited with ${e.code}${tail ? `: ${tail}` : ''}`) : undefined);
  });
  // a failed process ends the stream at once, read or not
  void why.then((err) => err && !d.destroyed && d.destroy(err));
  p.stdout.on('end', () => {
    void why.then((err) => {
      if (d.destroyed) return;
      if (err) d.destroy(err);
      else d.push(null);
    });
  });
  d.on('close', () => void p.kill());
  return d;
}
