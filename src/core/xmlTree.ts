// A small element tree from XML text (saxes), for reading libvirt's documents (domain, snapshot,
// pool, volume, network XML) without regular expressions that trip over nested elements or entities.
import { SaxesParser } from 'saxes';

export interface XmlElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: XmlElement[];
  /** Text directly inside this element (entities decoded). */
  text: string;
}

/** The root element; throws on text that is not well-formed XML. */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('opentag', (t) => {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(t.attributes)) attrs[k] = String(v);
    const el: XmlElement = { name: t.name, attrs, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (s) => {
    if (stack.length) stack[stack.length - 1].text += s;
  });
  parser.on('closetag', () => void stack.pop());
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

/** The first child named `name` (a path 'a/b' walks down). */
export function child(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const part of path.split('/')) cur = cur?.children.find((c) => c.name === part);
  return cur;
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Trimmed text of the child at `path`, or undefined. */
export function textOf(el: XmlElement | undefined, path: string): string | undefined {
  const c = child(el, path);
  return c ? c.text.trim() : undefined;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text safe inside an element or a quoted attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

/** The element as XML text again (attributes and text escaped; whitespace-only text dropped). */
export function serializeXml(el: XmlElement, indent = ''): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}='${escapeXml(v)}'`)
    .join('');
  const text = el.text.trim() ? escapeXml(el.text) : '';
  if (!el.children.length) return `${indent}<${el.name}${attrs}${text ? `>${text}</${el.name}>` : '/>'}`;
  const inner = el.children.map((c) => serializeXml(c, `${indent}  `)).join('\n');
  return `${indent}<${el.name}${attrs}>${text}\n${inner}\n${indent}</${el.name}>`;
}
