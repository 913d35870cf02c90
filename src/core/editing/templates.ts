// Minimal definitions that the host accepts as they are ("New Guest from Template…"): the user
// edits and saves them. Each is valid against libvirt's schema for its driver, or liblxc's parser.
import type { Host } from '../host/host';
import { GuestKind } from '../model';

/** What a QEMU template needs of the host it is made for (a remote host answers for itself). */
export interface TemplateHostFacts {
  /** `uname -m`: x86_64, aarch64… */
  readonly arch: string;
  /** Has /dev/kvm: libvirt refuses type='kvm' without it, plain QEMU emulation then. */
  readonly kvm: boolean;
}

/** This host's facts for the templates. */
export async function templateFactsOf(host: Host): Promise<TemplateHostFacts> {
  const [arch, kvm] = await Promise.all([
    host.run(['uname', '-m']).then(
      (r) => r.stdout.trim(),
      () => '',
    ),
    host.exists('/dev/kvm'),
  ]);
  return { arch: arch || 'x86_64', kvm };
}

export interface Template {
  readonly label: string;
  readonly description: string;
  readonly kind: GuestKind;
  readonly language: 'xml' | 'lxc-config';
  readonly text: (name: string, host: TemplateHostFacts) => string;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const QEMU_TEMPLATE: Template = {
  label: 'QEMU/KVM virtual machine',
  description: '1 vCPU, 1 GiB, no disk yet (an example disk is commented out)',
  kind: 'qemu',
  language: 'xml',
  text: (name, host) => `<domain type='${host.kvm ? 'kvm' : 'qemu'}'>
  <name>${xmlEscape(name)}</name>
  <description>Created with virtscope</description>
  <memory unit='MiB'>1024</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='${host.arch}'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <!--
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/${xmlEscape(name)}.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    -->
    <console type='pty'/>
  </devices>
</domain>
`,
};

export const LIBVIRT_LXC_TEMPLATE: Template = {
  label: 'libvirt-LXC container',
  description: 'shares the host root file system read-only, runs /bin/sh',
  kind: 'libvirt-lxc',
  language: 'xml',
  text: (name) => `<domain type='lxc'>
  <name>${xmlEscape(name)}</name>
  <description>Created with virtscope</description>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/'/>
      <target dir='/'/>
      <readonly/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
`,
};

export const TEST_TEMPLATE: Template = {
  label: 'libvirt test-driver domain',
  description: 'for the test:/// driver',
  kind: 'qemu',
  language: 'xml',
  text: (name) => `<domain type='test'>
  <name>${xmlEscape(name)}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type>hvm</type>
  </os>
</domain>
`,
};

export const LXC_TEMPLATE: Template = {
  label: 'LXC container (lxc-tools)',
  description: 'a config and an empty rootfs directory to fill (e.g. with debootstrap)',
  kind: 'lxc',
  language: 'lxc-config',
  text: (name) => `# Container "${name}", created with virtscope. Keys: man 5 lxc.container.conf
# Put a root file system into the rootfs directory before starting it.
lxc.rootfs.path = dir:__LXCPATH__/${name}/rootfs
lxc.uts.name = ${name}
lxc.net.0.type = empty
lxc.tty.max = 4
lxc.pty.max = 16
lxc.autodev = 1
lxc.mount.auto = proc:mixed sys:ro cgroup:mixed
`,
};

/** The templates that fit a connection (by libvirt URI scheme, or lxc-tools). */
export function templatesFor(type: 'libvirt' | 'lxc' | 'docker', uri?: string): Template[] {
  if (type === 'lxc') return [LXC_TEMPLATE];
  if (type !== 'libvirt' || !uri) return [];
  const scheme = (/^([a-z0-9]+)/i.exec(uri)?.[1] ?? '').toLowerCase();
  if (scheme === 'lxc') return [LIBVIRT_LXC_TEMPLATE];
  if (scheme === 'test') return [TEST_TEMPLATE];
  return [QEMU_TEMPLATE];
}

/** A template's text for a name; lxc-tools templates need the lxcpath. */
export function renderTemplate(t: Template, name: string, host: TemplateHostFacts, lxcPath = '/var/lib/lxc'): string {
  return t.text(name, host).replace(/__LXCPATH__/g, lxcPath);
}
