// Facts read straight from a libvirt domain XML (no full parse: the attributes needed here).

/** `<domain type='kvm'>` → 'kvm' (undefined when the root carries no type). */
export function domainVirtType(xml: string): string | undefined {
  return /<domain\b[^>]*\btype=(['"])([^'"]+)\1/.exec(xml)?.[2];
}

const unescape = (s: string) =>
  s
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The unescaped value of attribute `name` in an opening tag (`<target type='serial' port='0'>`). */
export function tagAttr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}=(['"])(.*?)\\1`).exec(tag);
  return m ? unescape(m[2]) : undefined;
}
