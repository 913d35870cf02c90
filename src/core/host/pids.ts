// Host processes of guests, read from what the host's managers leave on disk.
import * as path from 'node:path';
import type { Host } from './host';

/** Where libvirt keeps the pid files of running domains, per driver. */
export const LIBVIRT_PID_DIRS = { qemu: '/run/libvirt/qemu', 'libvirt-lxc': '/run/libvirt/lxc' } as const;

/**
 * The host pid of a running libvirt domain: its QEMU process, or its libvirt_lxc controller
 * (`/run/libvirt/{qemu,lxc}/NAME.pid`). undefined when there is none (not running, another host,
 * a name that cannot be a file name).
 */
export async function libvirtDomainPid(
  host: Host,
  kind: 'qemu' | 'libvirt-lxc',
  name: string,
  runDir: string = LIBVIRT_PID_DIRS[kind],
): Promise<number | undefined> {
  if (!name || /[/\0]/.test(name) || name === '.' || name === '..') return undefined;
  const text = await host.readFile(path.join(runDir, `${name}.pid`)).catch(() => undefined);
  const pid = text ? parseInt(text.trim(), 10) : NaN;
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}
