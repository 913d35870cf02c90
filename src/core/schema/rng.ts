// RELAX NG (XML syntax) loader: reads a schema file with saxes, follows <include> (with overriding
// defines), <grammar> nesting, <define combine>, <ref>/<parentRef>, and yields one pattern tree whose
// refs point at their grammar's defines. Only what completion and hover need is kept; validation
// is xmllint's job (see xmllint.ts), so nothing here decides validity.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SaxesParser } from 'saxes';

/** Where a pattern was written: schema file (base name) and 1-based line. */
export interface Loc {
  readonly file: string;
  readonly line: number;
}

export type NameClass =
  | { readonly kind: 'name'; readonly ns: string; readonly local: string }
  | { readonly kind: 'anyName'; readonly except?: NameClass }
  | { readonly kind: 'nsName'; readonly ns: string; readonly except?: NameClass }
  | { readonly kind: 'choice'; readonly items: readonly NameClass[] };

export type Pattern =
  | { readonly t: 'element'; readonly name: NameClass; content: Pattern; readonly loc: Loc; doc?: string; define?: string }
  | { readonly t: 'attribute'; readonly name: NameClass; content: Pattern; readonly loc: Loc; readonly doc?: string }
  | { readonly t: 'choice' | 'interleave' | 'group'; readonly items: Pattern[] }
  | { readonly t: 'optional' | 'zeroOrMore' | 'oneOrMore' | 'mixed' | 'list'; readonly content: Pattern }
  | { readonly t: 'ref'; readonly name: string; readonly scope: Scope }
  | { readonly t: 'value'; readonly value: string; readonly type: string }
  | { readonly t: 'data'; readonly type: string; readonly params: Readonly<Record<string, string>>; readonly except?: Pattern }
  | { readonly t: 'text' | 'empty' | 'notAllowed' };

export interface Define {
  pattern: Pattern;
  combine?: 'choice' | 'interleave';
  readonly loc: Loc;
  doc?: string;
}

/** One <grammar>: its defines and start; nested grammars see their parent for <parentRef>. */
export class Scope {
  readonly defines = new Map<string, Define>();
  start: Pattern | undefined;
  constructor(readonly parent?: Scope) {}

  resolve(name: string): Define | undefined {
    return this.defines.get(name);
  }
}

/** A parsed XML element of a schema file (only what the compiler needs). */
interface Node {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: Node[];
  text: string;
  readonly line: number;
  /** The comment right before this element (only whitespace between). */
  readonly comment?: string;
  /** Inherited `ns` attribute. */
  readonly ns: string;
}

export class RngError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line ? `:${line}` : ''}: ${message}` : message);
    this.name = 'RngError';
  }
}

function parseXmlFile(file: string): Node {
  const text = fs.readFileSync(file, 'utf8');
  const parser = new SaxesParser({ position: true, fileName: path.basename(file) });
  const stack: Node[] = [];
  let root: Node | undefined;
  let pendingComment: string | undefined;
  parser.on('comment', (c) => {
    pendingComment = c.trim().replace(/\s*\n\s*/g, ' ');
  });
  parser.on('text', (t) => {
    if (stack.length) stack[stack.length - 1].text += t;
    if (t.trim()) pendingComment = undefined;
  });
  parser.on('opentag', (tag) => {
    const attrs = tag.attributes as Record<string, string>;
    const parent = stack[stack.length - 1];
    const node: Node = {
      name: tag.name,
      attrs,
      children: [],
      text: '',
      line: parser.line,
      comment: pendingComment,
      ns: attrs.ns ?? parent?.ns ?? '',
    };
    pendingComment = undefined;
    if (parent) parent.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on('closetag', () => {
    stack.pop();
    pendingComment = undefined;
  });
  parser.on('error', (e) => {
    throw new RngError(e.message, path.basename(file));
  });
  parser.write(text).close();
  if (!root) throw new RngError('empty schema file', path.basename(file));
  return root;
}

/** Names of RELAX NG elements; anything else (a:documentation, foreign markup) is skipped. */
const RNG_ELEMENTS = new Set([
  'grammar',
  'start',
  'define',
  'include',
  'div',
  'element',
  'attribute',
  'choice',
  'interleave',
  'group',
  'optional',
  'zeroOrMore',
  'oneOrMore',
  'mixed',
  'list',
  'ref',
  'parentRef',
  'externalRef',
  'value',
  'data',
  'param',
  'except',
  'text',
  'empty',
  'notAllowed',
  'name',
  'anyName',
  'nsName',
]);

function rngChildren(n: Node): Node[] {
  return n.children.filter((c) => RNG_ELEMENTS.has(c.name));
}

/** Loads one schema file into a Scope (its start is the document pattern). Files are cached per loader. */
export class RngLoader {
  private readonly files = new Map<string, Node>();
  /** Every file read, for cache keys (mtimes). */
  readonly read = new Set<string>();

  constructor(private readonly dir: string) {}

  private file(href: string, from?: string): { node: Node; file: string } {
    const file = path.resolve(from ? path.dirname(from) : this.dir, href);
    let node = this.files.get(file);
    if (!node) {
      node = parseXmlFile(file);
      this.files.set(file, node);
      this.read.add(file);
    }
    return { node, file };
  }

  /** The top-level pattern of `href` (a <grammar>'s start, or a bare pattern). */
  load(href: string): { scope: Scope; start: Pattern } {
    const { node, file } = this.file(href);
    const scope = new Scope();
    if (node.name === 'grammar') {
      this.grammarInto(scope, node, file, new Set());
      if (!scope.start) throw new RngError('grammar has no <start>', path.basename(file));
      return { scope, start: scope.start };
    }
    return { scope, start: this.pattern(node, scope, file) };
  }

  /** Adds a grammar's components to `scope`, skipping defines (and start) overridden by an including <include>. */
  private grammarInto(scope: Scope, g: Node, file: string, overridden: ReadonlySet<string>): void {
    for (const c of rngChildren(g)) this.component(scope, c, file, overridden);
  }

  private component(scope: Scope, c: Node, file: string, overridden: ReadonlySet<string>): void {
    const loc = { file: path.basename(file), line: c.line };
    switch (c.name) {
      case 'start': {
        if (overridden.has('\0start')) return;
        const p = this.group(rngChildren(c), scope, file);
        scope.start = scope.start ? combine(scope.start, p, c.attrs.combine) : p;
        return;
      }
      case 'define': {
        const name = c.attrs.name;
        if (!name) throw new RngError('<define> without name', loc.file, loc.line);
        if (overridden.has(name)) return;
        const p = this.group(rngChildren(c), scope, file);
        if (p.t === 'element') {
          p.define ??= name;
          p.doc ??= c.comment;
        }
        const existing = scope.defines.get(name);
        const mode = (c.attrs.combine as 'choice' | 'interleave' | undefined) ?? existing?.combine;
        if (existing) {
          existing.pattern = combine(existing.pattern, p, mode);
          existing.combine = mode;
          existing.doc ??= c.comment;
        } else {
          scope.defines.set(name, { pattern: p, combine: mode, loc, doc: c.comment });
        }
        return;
      }
      case 'div':
        this.grammarInto(scope, c, file, overridden);
        return;
      case 'include': {
        const href = c.attrs.href;
        if (!href) throw new RngError('<include> without href', loc.file, loc.line);
        const inc = this.file(href, file);
        if (inc.node.name !== 'grammar') throw new RngError(`${href} is not a <grammar>`, loc.file, loc.line);
        const own = new Set(overridden);
        for (const k of rngChildren(c)) {
          if (k.name === 'define' && k.attrs.name) own.add(k.attrs.name);
          if (k.name === 'start') own.add('\0start');
        }
        this.grammarInto(scope, inc.node, inc.file, own);
        // the include's own children replace what they override
        for (const k of rngChildren(c)) this.component(scope, k, file, overridden);
        return;
      }
      default:
        throw new RngError(`unexpected <${c.name}> in <grammar>`, loc.file, loc.line);
    }
  }

  /** Several child patterns in a row form a group. */
  private group(nodes: Node[], scope: Scope, file: string): Pattern {
    const ps = nodes.map((n) => this.pattern(n, scope, file));
    if (ps.length === 0) return { t: 'empty' };
    return ps.length === 1 ? ps[0] : { t: 'group', items: ps };
  }

  private pattern(n: Node, scope: Scope, file: string): Pattern {
    const loc = { file: path.basename(file), line: n.line };
    const kids = rngChildren(n);
    switch (n.name) {
      case 'element':
      case 'attribute': {
        let name: NameClass;
        let rest = kids;
        if (n.attrs.name !== undefined) {
          // attributes are in no namespace unless ns is given on the attribute itself
          const ns = n.name === 'attribute' ? (n.attrs.ns ?? '') : n.ns;
          name = { kind: 'name', ns, local: localOf(n.attrs.name) };
        } else {
          if (!kids.length) throw new RngError(`<${n.name}> without a name`, loc.file, loc.line);
          name = this.nameClass(kids[0], n.name === 'attribute');
          rest = kids.slice(1);
        }
        const content: Pattern = rest.length ? this.group(rest, scope, file) : n.name === 'attribute' ? { t: 'text' } : { t: 'empty' };
        return n.name === 'element' ? { t: 'element', name, content, loc, doc: n.comment } : { t: 'attribute', name, content, loc, doc: n.comment };
      }
      case 'choice':
      case 'interleave':
      case 'group':
        return { t: n.name, items: kids.map((k) => this.pattern(k, scope, file)) };
      case 'optional':
      case 'zeroOrMore':
      case 'oneOrMore':
      case 'mixed':
      case 'list':
        return { t: n.name, content: this.group(kids, scope, file) };
      case 'ref':
        return { t: 'ref', name: n.attrs.name, scope };
      case 'parentRef':
        if (!scope.parent) throw new RngError('<parentRef> outside a nested grammar', loc.file, loc.line);
        return { t: 'ref', name: n.attrs.name, scope: scope.parent };
      case 'externalRef': {
        const ext = this.file(n.attrs.href, file);
        const s = new Scope(scope);
        if (ext.node.name !== 'grammar') return this.pattern(ext.node, s, ext.file);
        this.grammarInto(s, ext.node, ext.file, new Set());
        return s.start ?? { t: 'notAllowed' };
      }
      case 'grammar': {
        const s = new Scope(scope);
        this.grammarInto(s, n, file, new Set());
        return s.start ?? { t: 'notAllowed' };
      }
      case 'value':
        return { t: 'value', value: n.text, type: n.attrs.type ?? 'token' };
      case 'data': {
        const params: Record<string, string> = {};
        let except: Pattern | undefined;
        for (const k of kids) {
          if (k.name === 'param') params[k.attrs.name] = k.text;
          else if (k.name === 'except') except = this.group(rngChildren(k), scope, file);
        }
        return { t: 'data', type: n.attrs.type ?? 'string', params, except };
      }
      case 'text':
      case 'empty':
      case 'notAllowed':
        return { t: n.name };
      default:
        throw new RngError(`unexpected <${n.name}>`, loc.file, loc.line);
    }
  }

  private nameClass(n: Node, attribute: boolean): NameClass {
    const kids = rngChildren(n);
    const except = () => {
      const e = kids.find((k) => k.name === 'except');
      if (!e) return undefined;
      const items = rngChildren(e).map((k) => this.nameClass(k, attribute));
      return items.length === 1 ? items[0] : { kind: 'choice' as const, items };
    };
    switch (n.name) {
      case 'name':
        return { kind: 'name', ns: attribute ? (n.attrs.ns ?? '') : n.ns, local: localOf(n.text.trim()) };
      case 'anyName':
        return { kind: 'anyName', except: except() };
      case 'nsName':
        return { kind: 'nsName', ns: n.ns, except: except() };
      case 'choice':
        return { kind: 'choice', items: kids.map((k) => this.nameClass(k, attribute)) };
      default:
        throw new RngError(`unexpected name class <${n.name}>`);
    }
  }
}

function localOf(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

function combine(a: Pattern, b: Pattern, mode: string | undefined): Pattern {
  const t = mode === 'interleave' ? 'interleave' : 'choice';
  if (a.t === t) return { t, items: [...a.items, b] };
  return { t, items: [a, b] };
}
