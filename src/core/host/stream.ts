// A long-running process as one byte stream: what libvirt's qemu+ssh does with virt-ssh-helper (or
// `nc -U`), and what `docker system dial-stdio` offers. Ending the stream kills the process.
import { Duplex } from 'node:stream';
import type { Host } from './host';

/** Spawns argv on `host`; its stdout is what the stream reads, its stdin what it writes. */
export function processStream(host: Host, argv: readonly string[]): Duplex {
  const p = host.spawn(argv);
  const d = Duplex.from({ readable: p.stdout, writable: p.stdin });
  let stderr = '';
  p.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)));
  void p.exited.then((e) => {
    if (d.destroyed) return;
    const why =
      e.error?.message ??
      (e.code ? `${argv[0]} on ${host.label} exited with ${e.code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}` : undefined);
    if (why) d.destroy(new Error(why));
  });
  d.on('close', () => void p.kill());
  return d;
}
