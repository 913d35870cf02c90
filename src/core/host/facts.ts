// What a host is: kernel, CPUs, memory, read from its /proc (so a remote host answers for itself).
import * as os from 'node:os';
import type { Host } from './host';

export interface HostBasics {
  /** /proc/cpuinfo as read ('' when unreadable). */
  readonly cpuinfo: string;
  readonly cpus: number;
  readonly cpuModel?: string;
  readonly memBytes: number;
  /** "6.1.0-17-amd64" */
  readonly kernelRelease: string;
  /** "Linux" */
  readonly osType: string;
}

/** The host's basics; this machine's own figures (node:os) stand in for a file that cannot be read. */
export async function hostBasics(host: Host): Promise<HostBasics> {
  const read = (p: string) => host.readFile(p).catch(() => '');
  const [cpuinfo, meminfo, release, type] = await Promise.all([
    read('/proc/cpuinfo'),
    read('/proc/meminfo'),
    read('/proc/sys/kernel/osrelease'),
    read('/proc/sys/kernel/ostype'),
  ]);
  const memKb = Number(/^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo)?.[1]);
  const processors = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  return {
    cpuinfo,
    cpus: processors || os.cpus().length,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model,
    memBytes: memKb > 0 ? memKb * 1024 : os.totalmem(),
    kernelRelease: release.trim() || os.release(),
    osType: type.trim() || os.type(),
  };
}
