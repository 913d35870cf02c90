// Facts read straight from a libvirt domain XML (no full parse: the attributes needed here).

/** `<domain type='kvm'>` → 'kvm' (undefined when the root carries no type). */
export function domainVirtType(xml: string): string | undefined {
  return /<domain\b[^>]*\btype=(['"])([^'"]+)\1/.exec(xml)?.[2];
}
