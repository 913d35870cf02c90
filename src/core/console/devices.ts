// The character devices a console can attach to, read from a domain's XML. libvirt lists the
// primary console twice on QEMU (<console target type='serial'> is <serial port 0>, same alias):
// one entry per alias.
import type { ConsoleDevice } from './types';
import { tagAttr } from '../domainXml';

/** The opening tag of the first `<name …>` inside `body`. */
function child(body: string, name: string): string | undefined {
  return new RegExp(`<${name}\\b[^>]*>`).exec(body)?.[0];
}

function describe(d: Omit<ConsoleDevice, 'label'>): string {
  const what = d.target === 'serial' || d.target === 'isa-serial' ? `serial port ${d.port ?? 0}` : d.target ? `${d.target} console` : d.element;
  return `${d.alias ?? d.element} — ${what} (${d.type})`;
}

/** <console> and <serial> devices of the domain XML, pty ones first, one per alias. */
export function consoleDevices(xml: string): ConsoleDevice[] {
  const devices = /<devices\b[^>]*>([\s\S]*?)<\/devices>/.exec(xml)?.[1] ?? '';
  const out: ConsoleDevice[] = [];
  const seen = new Set<string>();
  for (const m of devices.matchAll(/<(console|serial)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/g)) {
    const element = m[1] as 'console' | 'serial';
    const body = m[3] ?? '';
    const target = child(body, 'target');
    const alias = tagAttr(child(body, 'alias') ?? '', 'name');
    if (alias && seen.has(alias)) continue;
    if (alias) seen.add(alias);
    const port = target ? tagAttr(target, 'port') : undefined;
    const d = {
      alias,
      element,
      type: tagAttr(`<x ${m[2]}>`, 'type') ?? 'pty',
      target: (target && tagAttr(target, 'type')) || (element === 'serial' ? 'serial' : ''),
      port: port !== undefined && /^\d+$/.test(port) ? Number(port) : undefined,
    };
    out.push({ ...d, label: describe(d) });
  }
  // without aliases (a stopped domain's XML) the serial console still names its serial port
  const serialPorts = new Set(out.filter((d) => d.element === 'serial').map((d) => d.port ?? 0));
  const unique = out.filter((d) => d.alias || !(d.element === 'console' && d.target === 'serial' && serialPorts.has(d.port ?? 0)));
  return unique.sort((a, b) => Number(b.type === 'pty') - Number(a.type === 'pty'));
}
