// Which guests each way in applies to, by kind and state: the palette's pick lists only these, and
// package.json's menus say the same with `viewItem` (test/unit/console-menus.test.ts compares them).
import { isContainerKind, type Guest } from '../model';

type G = Pick<Guest, 'kind' | 'state'>;

/** Open Console: libvirt domains and LXD instances with something running behind the console. */
export function canOpenConsole(g: G): boolean {
  const kinds = ['qemu', 'libvirt-lxc', 'lxd-container', 'lxd-vm'];
  return kinds.includes(g.kind) && (g.state === 'running' || g.state === 'paused');
}

/** Open Graphical Console: QEMU domains with a screen to show (running or paused). */
export function canOpenGraphicalConsole(g: G): boolean {
  return g.kind === 'qemu' && (g.state === 'running' || g.state === 'paused');
}

/** Open Shell: running containers of every kind (a VM has no way in without its own login). */
export function canOpenShell(g: G): boolean {
  return isContainerKind(g.kind) && g.state === 'running';
}

/** Show Log: every guest; a stopped one's log tells why it stopped. */
export function canShowLog(_g: G): boolean {
  return true;
}
