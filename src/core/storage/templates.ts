// Minimal storage pool and network definitions for "New Storage Pool…" / "New Network…": valid
// against libvirt's storagepool.rng / network.rng as they are; the user edits and saves them.
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');

/** A directory pool: valid against storagepool.rng as it is; the user picks the directory. */
export function poolTemplate(name: string, dir: string): string {
  return `<pool type='dir'>
  <name>${xmlEscape(name)}</name>
  <target>
    <path>${xmlEscape(dir)}</path>
  </target>
</pool>
`;
}

/** An isolated network (no <forward>: guests reach each other and the host only); valid against network.rng. */
export function networkTemplate(name: string, subnet: string): string {
  return `<network>
  <name>${xmlEscape(name)}</name>
  <!-- no <forward>: isolated. <forward mode='nat'/> would route the guests out through the host -->
  <ip address='${subnet}.1' prefix='24'>
    <dhcp>
      <range start='${subnet}.100' end='${subnet}.199'/>
    </dhcp>
  </ip>
</network>
`;
}
