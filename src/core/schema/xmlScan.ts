// A tolerant XML scanner for editing: finds tags, attributes and nesting in a document that is
// being typed (unclosed tags, missing quotes), and tells what the cursor is in. Well-formedness is
// not judged here (xmllint does that); this only has to guess sensibly.

export interface ScanAttr {
  readonly name: string;
  readonly nameStart: number;
  readonly nameEnd: number;
  /** Value without quotes (undefined when there is no `=` yet). */
  readonly value?: string;
  /** Offset just after the opening quote. */
  readonly valueStart?: number;
  /** Offset of the closing quote (or where the value stops when unterminated). */
  readonly valueEnd?: number;
}

export interface ScanTag {
  readonly name: string;
  /** Offset of `<`. */
  readonly start: number;
  readonly nameStart: number;
  readonly nameEnd: number;
  /** Offset just after `>`, or where the unterminated tag stops. */
  end: number;
  readonly closed: boolean;
  readonly selfClosing: boolean;
  readonly attrs: ScanAttr[];
  /** Index of the parent tag in `tags`, -1 for the root. */
  readonly parent: number;
  /** The matching end tag, when there is one. */
  close?: { start: number; nameStart: number; nameEnd: number; end: number };
}

export interface ScanResult {
  readonly tags: ScanTag[];
}

const NAME_CHAR = /[^\s=/>"'<]/;
/** Markup that holds no elements: comments, CDATA, processing instructions, DOCTYPE. */
const SKIPPED: ReadonlyArray<readonly [string, string]> = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
  ['<!', '>'],
];

/** Scans the whole text. */
export function scan(text: string): ScanResult {
  const tags: ScanTag[] = [];
  const stack: number[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    i = lt;
    const skip = SKIPPED.find(([open]) => text.startsWith(open, i));
    if (skip) {
      const e = text.indexOf(skip[1], i + skip[0].length);
      i = e < 0 ? n : e + skip[1].length;
      continue;
    }
    if (text[i + 1] === '/') {
      // end tag
      let j = i + 2;
      const nameStart = j;
      while (j < n && NAME_CHAR.test(text[j])) j++;
      const name = text.slice(nameStart, j);
      const gt = findTagEnd(text, j);
      const end = gt.end;
      // pop to the matching open tag, if any
      for (let s = stack.length - 1; s >= 0; s--) {
        if (tags[stack[s]].name === name) {
          tags[stack[s]].close = { start: i, nameStart, nameEnd: j, end };
          stack.length = s;
          break;
        }
      }
      i = end;
      continue;
    }
    // start tag
    let j = i + 1;
    const nameStart = j;
    while (j < n && NAME_CHAR.test(text[j])) j++;
    const name = text.slice(nameStart, j);
    const attrs: ScanAttr[] = [];
    let closed = false;
    let selfClosing = false;
    for (;;) {
      while (j < n && /\s/.test(text[j])) j++;
      if (j >= n) break;
      const c = text[j];
      if (c === '>') {
        closed = true;
        j++;
        break;
      }
      if (c === '/' && text[j + 1] === '>') {
        closed = true;
        selfClosing = true;
        j += 2;
        break;
      }
      if (c === '<') break; // an unterminated tag: the next tag starts here
      if (!NAME_CHAR.test(c)) {
        j++;
        continue;
      }
      const an = j;
      while (j < n && NAME_CHAR.test(text[j])) j++;
      const ae = j;
      let k = j;
      while (k < n && /\s/.test(text[k])) k++;
      if (text[k] !== '=') {
        attrs.push({ name: text.slice(an, ae), nameStart: an, nameEnd: ae });
        continue;
      }
      k++;
      while (k < n && /[ \t]/.test(text[k])) k++;
      const q = text[k];
      if (q === '"' || q === "'") {
        const vs = k + 1;
        let ve = text.indexOf(q, vs);
        // an unterminated value stops at the end of the line or at '<'
        const stop = firstOf(text, vs, ['\n', '<']);
        let terminated = true;
        if (ve < 0 || (stop >= 0 && stop < ve)) {
          ve = stop < 0 ? n : stop;
          terminated = false;
        }
        attrs.push({ name: text.slice(an, ae), nameStart: an, nameEnd: ae, value: text.slice(vs, ve), valueStart: vs, valueEnd: ve });
        j = terminated ? ve + 1 : ve;
      } else {
        const vs = k;
        while (k < n && !/[\s>]/.test(text[k]) && text[k] !== '<') k++;
        attrs.push({ name: text.slice(an, ae), nameStart: an, nameEnd: ae, value: text.slice(vs, k), valueStart: vs, valueEnd: k });
        j = k;
      }
    }
    const idx = tags.length;
    tags.push({
      name,
      start: i,
      nameStart,
      nameEnd: nameStart + name.length,
      end: j,
      closed,
      selfClosing,
      attrs,
      parent: stack.length ? stack[stack.length - 1] : -1,
    });
    if (!selfClosing && name) stack.push(idx);
    i = j > i ? j : i + 1;
  }
  return { tags };
}

function findTagEnd(text: string, from: number): { end: number } {
  const gt = text.indexOf('>', from);
  const lt = text.indexOf('<', from);
  if (gt < 0) return { end: lt < 0 ? text.length : lt };
  if (lt >= 0 && lt < gt) return { end: lt };
  return { end: gt + 1 };
}

function firstOf(text: string, from: number, chars: string[]): number {
  let best = -1;
  for (const c of chars) {
    const p = text.indexOf(c, from);
    if (p >= 0 && (best < 0 || p < best)) best = p;
  }
  return best;
}

/** The chain of tags from the root to `idx` (inclusive). */
export function ancestry(r: ScanResult, idx: number): ScanTag[] {
  const out: ScanTag[] = [];
  for (let i = idx; i >= 0; i = r.tags[i].parent) out.unshift(r.tags[i]);
  return out;
}

export type CursorContext =
  | { readonly kind: 'elementName'; readonly parents: ScanTag[]; readonly from: number; readonly prefix: string; readonly tag?: ScanTag }
  | { readonly kind: 'attributeName'; readonly path: ScanTag[]; readonly from: number; readonly to: number; readonly prefix: string }
  | { readonly kind: 'attributeValue'; readonly path: ScanTag[]; readonly attr: ScanAttr; readonly from: number; readonly to: number; readonly prefix: string }
  | { readonly kind: 'endTag'; readonly open?: ScanTag; readonly from: number; readonly to: number }
  | { readonly kind: 'text'; readonly path: ScanTag[]; readonly from: number; readonly to: number; readonly prefix: string }
  | { readonly kind: 'none' };

/** What the cursor at `offset` is in: a tag name, attribute name or value, an end tag, or text. */
export function contextAt(text: string, offset: number, r: ScanResult = scan(text)): CursorContext {
  // the innermost tag whose span contains the offset
  let inTag = -1;
  for (let i = 0; i < r.tags.length; i++) {
    const t = r.tags[i];
    if (t.start < offset && (offset < t.end || (!t.closed && offset <= t.end))) inTag = i;
    if (t.start >= offset) break;
  }
  if (inTag >= 0) {
    const t = r.tags[inTag];
    const path = ancestry(r, inTag);
    if (offset <= t.nameEnd) {
      return { kind: 'elementName', parents: path.slice(0, -1), from: t.nameStart, prefix: text.slice(t.nameStart, offset), tag: t };
    }
    for (const a of t.attrs) {
      if (a.valueStart !== undefined && offset >= a.valueStart && offset <= a.valueEnd!) {
        return { kind: 'attributeValue', path, attr: a, from: a.valueStart, to: a.valueEnd!, prefix: text.slice(a.valueStart, offset) };
      }
      if (offset >= a.nameStart && offset <= a.nameEnd) {
        return { kind: 'attributeName', path, from: a.nameStart, to: a.nameEnd, prefix: text.slice(a.nameStart, offset) };
      }
    }
    return { kind: 'attributeName', path, from: offset, to: offset, prefix: '' };
  }
  // an end tag being typed: "</" … offset
  const before = text.slice(Math.max(0, offset - 200), offset);
  const endM = /<\/([^\s<>]*)$/.exec(before);
  if (endM) {
    const from = offset - endM[1].length;
    const open = openAt(r, offset - endM[0].length);
    const lineEnd = text.indexOf('\n', offset);
    const rest = text.slice(offset, lineEnd < 0 ? text.length : lineEnd);
    const gt = /^[^\s<>]*>?/.exec(rest)![0].length;
    return { kind: 'endTag', open: open >= 0 ? r.tags[open] : undefined, from, to: offset + gt };
  }
  const open = openAt(r, offset);
  const path = open >= 0 ? ancestry(r, open) : [];
  // text between tags: the word before the cursor
  const wm = /[^\s<>]*$/.exec(before)![0];
  const lineEnd = text.indexOf('<', offset);
  const after = /^[^\s<>]*/.exec(text.slice(offset, lineEnd < 0 ? text.length : lineEnd))![0];
  return { kind: 'text', path, from: offset - wm.length, to: offset + after.length, prefix: wm };
}

/** The innermost element open at `offset` (between tags), or -1. */
export function openAt(r: ScanResult, offset: number): number {
  let best = -1;
  for (let i = 0; i < r.tags.length; i++) {
    const t = r.tags[i];
    if (t.start >= offset) break;
    if (t.selfClosing || !t.name || t.end > offset) continue;
    if (!t.close || t.close.start >= offset) best = i;
  }
  return best;
}

/** Namespace URI of a prefixed name, from xmlns declarations on the tag and its ancestors. */
export function namespaceOf(path: readonly ScanTag[], qname: string, isAttribute = false): { ns: string; local: string } {
  const i = qname.indexOf(':');
  const prefix = i < 0 ? '' : qname.slice(0, i);
  const local = i < 0 ? qname : qname.slice(i + 1);
  if (!prefix && isAttribute) return { ns: '', local };
  const decl = prefix ? `xmlns:${prefix}` : 'xmlns';
  for (let k = path.length - 1; k >= 0; k--) {
    const a = path[k].attrs.find((x) => x.name === decl);
    if (a) return { ns: a.value ?? '', local };
  }
  return { ns: prefix === 'xml' ? 'http://www.w3.org/XML/1998/namespace' : '', local };
}
