// Language features for libvirt XML (domain, network, pool, …): diagnostics from xmllint against
// libvirt's own RELAX NG schema, made more precise with the schema model where libxml2's message is
// vague; completion and hover from the same schema.
import { SaxesParser } from 'saxes';
import {
  CompletionItem,
  CompletionItemKind,
  Diagnostic,
  DiagnosticSeverity,
  Hover,
  InsertTextFormat,
  MarkupKind,
  Position,
  Range,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import * as path from 'node:path';
import { AttributeInfo, ChildInfo, DocElement, ElementPattern, loadSchema, ROOT_SCHEMAS, SchemaModel, ValueSpace } from '../core/schema/model';
import { ancestry, contextAt, namespaceOf, scan, ScanResult, ScanTag } from '../core/schema/xmlScan';
import { oversize, refusal, validateXml, ValidatorMissingError, XmlProblem } from '../core/schema/xmllint';

export interface XmlServiceOptions {
  /** Directory with libvirt's *.rng; undefined: none installed. */
  readonly schemaDir?: string;
  readonly xmllint?: string;
}

/** Conventional prefixes of libvirt's extension namespaces (what libvirt itself writes). */
const NS_PREFIX: Readonly<Record<string, string>> = {
  'http://libvirt.org/schemas/domain/qemu/1.0': 'qemu',
  'http://libvirt.org/schemas/domain/lxc/1.0': 'lxc',
  'http://libvirt.org/schemas/domain/bhyve/1.0': 'bhyve',
  'http://libvirt.org/schemas/domain/xen/1.0': 'xen',
  'http://libvirt.org/schemas/domain/vmware/1.0': 'vmware',
  'http://libvirt.org/schemas/network/dnsmasq/1.0': 'dnsmasq',
  'http://libvirt.org/schemas/storagepool/fs/1.0': 'fs',
  'http://libvirt.org/schemas/storagepool/rbd/1.0': 'rbd',
};

export class XmlService {
  constructor(private readonly opts: XmlServiceOptions) {}

  /** The schema file for a document, from its root element. */
  schemaFor(r: ScanResult): { root?: string; file?: string } {
    const root = r.tags.find((t) => t.name && !t.name.startsWith('?'))?.name;
    const rng = root ? ROOT_SCHEMAS[root] : undefined;
    return { root, file: rng && this.opts.schemaDir ? path.join(this.opts.schemaDir, rng) : undefined };
  }

  model(r: ScanResult): SchemaModel | undefined {
    const f = this.schemaFor(r).file;
    if (!f) return undefined;
    try {
      return loadSchema(f);
    } catch {
      return undefined;
    }
  }

  // ---- diagnostics ------------------------------------------------------------------------

  async diagnostics(doc: TextDocument): Promise<Diagnostic[]> {
    const text = doc.getText();
    // too large (no scan of it either) or pointing at other files: that one word, nothing else
    const refused = refusal(text);
    if (refused) return [toDiagnostic(refused)];
    const r = scan(text);
    const { root, file } = this.schemaFor(r);
    const out: Diagnostic[] = [];
    let problems: XmlProblem[];
    try {
      problems = await validateXml(text, file, { xmllint: this.opts.xmllint });
    } catch (e) {
      if (!(e instanceof ValidatorMissingError)) throw e;
      problems = wellFormedness(text);
      out.push(info(rootRange(doc, r), `${e.message}. Only well-formedness is checked.`, DiagnosticSeverity.Warning));
    }
    for (const p of problems) out.push(toDiagnostic(p));
    if (root && !file) {
      const why = this.opts.schemaDir
        ? `<${root}> is not a libvirt document type virtscope knows a schema for`
        : `libvirt's RELAX NG schemas are not installed (looked for domain.rng in /usr/share/libvirt/schemas): only well-formedness is checked`;
      out.push(info(rootRange(doc, r), why, DiagnosticSeverity.Information));
    }
    // xmllint is the judge; where it found the document invalid, the model points at the culprit
    if (problems.some((p) => p.source === 'schema')) {
      const model = this.model(r);
      if (model) {
        for (const d of this.modelDiagnostics(doc, r, model)) {
          if (!out.some((o) => o.range.start.line === d.range.start.line && o.message === d.message)) out.push(d);
        }
        pointToCulprits(out, r, doc);
      }
    }
    return out;
  }

  /** Precise complaints from the schema model: unknown children/attributes, values outside an enumeration. */
  modelDiagnostics(doc: TextDocument, r: ScanResult, model: SchemaModel): Diagnostic[] {
    const out: Diagnostic[] = [];
    const text = doc.getText();
    const range = (a: number, b: number) => Range.create(doc.positionAt(a), doc.positionAt(b));
    // each element resolved from its parent's patterns: one pass over the document
    const resolved = new Map<number, ElementPattern[]>();
    const childrenOf = new Map<number, ChildInfo[]>();
    const kids = childNames(r);
    r.tags.forEach((t, i) => {
      if (!t.name || t.name.startsWith('?')) return;
      const pathTags = ancestry(r, i);
      const els = docPath(pathTags);
      const me = els[els.length - 1];
      const parentPats = t.parent >= 0 ? resolved.get(t.parent) : undefined;
      if (t.parent >= 0 && !parentPats?.length) return; // an ancestor is already wrong
      if (parentPats) {
        const parents = els.slice(0, -1);
        let allowed = childrenOf.get(t.parent);
        if (!allowed) childrenOf.set(t.parent, (allowed = model.childrenOf(parentPats, parents[parents.length - 1].attrs)));
        if (!allowed.some((c) => c.name === me.local && c.ns === me.ns) && !allowsAnyElement(model, parentPats, parents)) {
          const parent = parents[parents.length - 1].local;
          out.push(schemaDiag(range(t.nameStart, t.nameEnd), `<${t.name}> is not allowed in <${parent}>. Allowed: ${list(allowed.map((c) => c.name))}`));
          return;
        }
      }
      const pats = model.step(parentPats, els[els.length - 2]?.attrs, me);
      resolved.set(i, pats);
      if (!pats.length) return;
      const attrs = model.attributesOf(pats, els[els.length - 1].attrs);
      const anyAttr = pats.some((p) => model.attributePatterns(p.content, els[els.length - 1].attrs).some((a) => a.name.kind !== 'name'));
      for (const a of t.attrs) {
        if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
        const { ns, local } = namespaceOf(pathTags, a.name, true);
        const spec = attrs.find((x) => x.name === local && x.ns === ns);
        if (!spec) {
          if (!anyAttr)
            out.push(
              schemaDiag(range(a.nameStart, a.nameEnd), `Attribute ${a.name} is not allowed on <${t.name}>. Allowed: ${list(attrs.map((x) => x.name))}`),
            );
          continue;
        }
        if (a.value !== undefined && onlyValues(spec.values) && !spec.values.values.includes(a.value)) {
          out.push(schemaDiag(range(a.valueStart!, a.valueEnd!), `"${a.value}" is not allowed for ${t.name}/@${a.name}: one of ${list(spec.values.values)}`));
        } else if (a.value !== undefined && !a.value.includes('&') && !spec.patterns.some((p) => model.accepts(p.content, a.value!))) {
          out.push(schemaDiag(range(a.valueStart!, a.valueEnd!), `"${a.value}" is not allowed for ${t.name}/@${a.name}: ${describeValues(spec.values)}`));
        }
      }
      if (t.closed) out.push(...missingParts(model, pats, t, kids.get(i) ?? new Set(), range(t.nameStart, t.nameEnd)));
      const conflict = conflictMessage(model, pats, t.name, me.attrs);
      if (conflict) out.push(schemaDiag(range(t.nameStart, t.nameEnd), conflict));
      // text content with enumerated values
      if (t.closed && !t.selfClosing && t.close) {
        const inner = text.slice(t.end, t.close.start);
        if (!inner.includes('<')) {
          const vs = model.textValuesOf(pats);
          const v = inner.trim();
          if (v && onlyValues(vs) && !vs.values.includes(v)) {
            const s = t.end + inner.indexOf(v);
            out.push(schemaDiag(range(s, s + v.length), `"${v}" is not allowed in <${t.name}>: one of ${list(vs.values)}`));
          } else if (v && !v.includes('&') && !pats.some((p) => model.acceptsText(p.content, v))) {
            const s = t.end + inner.indexOf(v);
            out.push(schemaDiag(range(s, s + v.length), `"${v}" is not allowed in <${t.name}>: ${describeValues(vs)}`));
          }
        }
      }
    });
    return out;
  }

  // ---- completion -------------------------------------------------------------------------

  completion(doc: TextDocument, pos: Position): CompletionItem[] {
    const text = doc.getText();
    if (oversize(text)) return []; // its diagnostic says why
    const offset = doc.offsetAt(pos);
    const r = scan(text);
    const model = this.model(r);
    const ctx = contextAt(text, offset, r);
    const rng = (a: number, b: number) => Range.create(doc.positionAt(a), doc.positionAt(b));
    switch (ctx.kind) {
      case 'elementName': {
        if (!model) return [];
        const parents = docPath(ctx.parents);
        const hasMore = !!ctx.tag && (ctx.tag.attrs.length > 0 || ctx.tag.closed);
        const present = siblingsOf(r, ctx.parents, ctx.tag);
        return this.elementItems(model, parents, ctx.parents, rng(ctx.from, ctx.tag ? ctx.tag.nameEnd : offset), !hasMore, '', present);
      }
      case 'attributeName': {
        if (!model) return [];
        const els = docPath(ctx.path);
        const tag = ctx.path[ctx.path.length - 1];
        const present = new Set(tag.attrs.map((a) => a.name));
        const current = text.slice(ctx.from, ctx.to);
        const attrs = model.attributes(els);
        const followedByValue = tag.attrs.some((a) => a.nameStart === ctx.from && a.valueStart !== undefined);
        return attrs.filter((a) => !present.has(a.name) || a.name === current).map((a, i) => attributeItem(a, i, rng(ctx.from, ctx.to), !followedByValue));
      }
      case 'attributeValue': {
        if (!model) return [];
        const els = docPath(ctx.path);
        // without this attribute's current value, so other alternatives stay visible
        const last = els[els.length - 1];
        const attrs = { ...last.attrs };
        delete attrs[ctx.attr.name];
        const spec = model.attributes([...els.slice(0, -1), { ...last, attrs }]).find((a) => a.name === ctx.attr.name);
        if (!spec) return [];
        return valueItems(spec.values, rng(ctx.from, ctx.to), `${last.local}/@${spec.name}`);
      }
      case 'endTag': {
        if (!ctx.open) return [];
        return [
          {
            label: `/${ctx.open.name}`,
            kind: CompletionItemKind.Property,
            filterText: ctx.open.name,
            textEdit: { range: rng(ctx.from, ctx.to), newText: `${ctx.open.name}>` },
            detail: 'close the open element',
          },
        ];
      }
      case 'text': {
        if (!model) return [];
        const els = docPath(ctx.path);
        const items: CompletionItem[] = [];
        if (els.length) items.push(...valueItems(model.textValues(els), rng(ctx.from, ctx.to), `<${els[els.length - 1].local}>`));
        items.push(...this.elementItems(model, els, ctx.path, rng(ctx.from, ctx.to), true, '<', siblingsOf(r, ctx.path, undefined)));
        return items;
      }
      default:
        return [];
    }
  }

  /** Children the schema allows here, less those that may stand only once and already do (`present`). */
  private elementItems(
    model: SchemaModel,
    parents: DocElement[],
    parentTags: ScanTag[],
    range: Range,
    full: boolean,
    lead: string,
    present: ReadonlySet<string>,
  ): CompletionItem[] {
    const children = model.children(parents).filter((c) => c.repeatable || !present.has(c.name));
    return children.map((c, i) => {
      const qname = qualified(c, parentTags);
      const item: CompletionItem = {
        label: qname,
        kind: CompletionItemKind.Class,
        detail: `${c.required ? 'required' : 'optional'} element${LIBVIRT_WRITES.has(c.name) ? ' (libvirt writes it itself)' : ''} · ${model.file}`,
        sortText: `${LIBVIRT_WRITES.has(c.name) ? 9 : c.required ? 0 : 1}${String(i).padStart(4, '0')}`,
        filterText: lead + qname,
        documentation: { kind: MarkupKind.Markdown, value: describeElement(model, c.patterns, undefined) },
      };
      if (!full) {
        item.textEdit = { range, newText: qname };
        return item;
      }
      const attrs = model.attributesOf(c.patterns).filter((a) => a.required);
      let n = 1;
      const attrText = attrs.map((a) => ` ${a.name}="${snippetValue(a.values, n++)}"`).join('');
      const empty = c.patterns.every((p) => model.isEmptyElement(p));
      const body = empty ? `${attrText}/>` : `${attrText}>$0</${qname}>`;
      item.insertTextFormat = InsertTextFormat.Snippet;
      item.textEdit = { range, newText: `${lead}${qname}${body}` };
      return item;
    });
  }

  // ---- hover ------------------------------------------------------------------------------

  hover(doc: TextDocument, pos: Position): Hover | null {
    const text = doc.getText();
    const big = oversize(text);
    if (big) return { contents: { kind: MarkupKind.Markdown, value: `virtscope: no hover or completion here: ${big}` } };
    const offset = doc.offsetAt(pos);
    const r = scan(text);
    const model = this.model(r);
    if (!model) return null;
    const rng = (a: number, b: number) => Range.create(doc.positionAt(a), doc.positionAt(b));
    for (let i = r.tags.length - 1; i >= 0; i--) {
      const t = r.tags[i];
      const inStart = offset >= t.nameStart && offset <= t.nameEnd;
      const inEnd = t.close && offset >= t.close.nameStart && offset <= t.close.nameEnd;
      const els = () => docPath(ancestry(r, i));
      if (inStart || inEnd) {
        const pats = model.resolve(els());
        if (!pats.length) return null;
        return {
          contents: { kind: MarkupKind.Markdown, value: describeElement(model, pats, els()[els().length - 1].attrs) },
          range: inStart ? rng(t.nameStart, t.nameEnd) : rng(t.close!.nameStart, t.close!.nameEnd),
        };
      }
      if (offset > t.start && offset < t.end) {
        for (const a of t.attrs) {
          const inName = offset >= a.nameStart && offset <= a.nameEnd;
          const inValue = a.valueStart !== undefined && offset >= a.valueStart && offset <= a.valueEnd!;
          if (!inName && !inValue) continue;
          // without this attribute's own value, so every value it may take is shown
          const path = els();
          const last = path[path.length - 1];
          const others = { ...last.attrs };
          delete others[a.name];
          const spec = model.attributes([...path.slice(0, -1), { ...last, attrs: others }]).find((x) => x.name === a.name);
          if (!spec) return null;
          return {
            contents: { kind: MarkupKind.Markdown, value: describeAttribute(spec, t.name, a.value) },
            range: inName ? rng(a.nameStart, a.nameEnd) : rng(a.valueStart!, a.valueEnd!),
          };
        }
        return null;
      }
    }
    return null;
  }
}

// ---- helpers -------------------------------------------------------------------------------

/** Elements libvirt records itself (job and driver state): offered last. */
const LIBVIRT_WRITES: ReadonlySet<string> = new Set(['privateData', 'mirror']);

/** Local names of the children already in the innermost of `parents`, less `typing` (the tag being written). */
function siblingsOf(r: ScanResult, parents: readonly ScanTag[], typing: ScanTag | undefined): Set<string> {
  const parent = parents[parents.length - 1];
  const at = parent ? r.tags.indexOf(parent) : -1;
  if (parent && at < 0) return new Set();
  return new Set(r.tags.filter((t) => t.parent === at && t !== typing && t.name && !t.name.startsWith('?')).map((t) => t.name.slice(t.name.indexOf(':') + 1)));
}

function docPath(tags: readonly ScanTag[]): DocElement[] {
  return tags.map((t, i) => {
    const { ns, local } = namespaceOf(tags.slice(0, i + 1), t.name);
    const attrs: Record<string, string> = {};
    for (const a of t.attrs) if (a.value !== undefined && !a.name.includes(':')) attrs[a.name] = a.value;
    return { local, ns, attrs };
  });
}

function qualified(c: ChildInfo, parents: readonly ScanTag[]): string {
  if (!c.ns) return c.name;
  for (let k = parents.length - 1; k >= 0; k--) {
    const decl = parents[k].attrs.find((a) => a.name.startsWith('xmlns:') && a.value === c.ns);
    if (decl) return `${decl.name.slice(6)}:${c.name}`;
  }
  return `${NS_PREFIX[c.ns] ?? 'ns'}:${c.name}`;
}

function allowsAnyElement(model: SchemaModel, parents: ElementPattern[], path: DocElement[]): boolean {
  const attrs = path[path.length - 1].attrs;
  return parents.some((p) => model.childPatterns(p.content, attrs).some((c) => c.name.kind !== 'name'));
}

/** Required attributes and children the element at tag `i` lacks (required by every pattern it may match). */
function missingParts(model: SchemaModel, pats: readonly ElementPattern[], t: ScanTag, haveKids: ReadonlySet<string>, at: Range): Diagnostic[] {
  const out: Diagnostic[] = [];
  const haveAttrs = new Set(t.attrs.filter((a) => !a.name.includes(':')).map((a) => a.name));
  const needAttrs = intersectSets(pats.map((p) => new Set(model.requiredAttrValues(p.content).keys())));
  const lacking = [...needAttrs].filter((n) => !haveAttrs.has(n));
  if (lacking.length) out.push(schemaDiag(at, `<${t.name}> needs the attribute${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')}`));
  const needKids = intersectSets(pats.map((p) => model.requiredChildren(p.content)));
  const absent = [...needKids].filter((n) => !haveKids.has(n));
  if (absent.length) out.push(schemaDiag(at, `<${t.name}> needs ${absent.map((n) => `a <${n}>`).join(' and ')} child element${absent.length > 1 ? 's' : ''}`));
  return out;
}

/**
 * xmllint often blames the enclosing element ("Extra element devices in interleave"); where the
 * model found something inside it, that complaint names the first such line.
 */
function pointToCulprits(out: Diagnostic[], r: ScanResult, doc: TextDocument): void {
  const precise = out.filter((d) => d.source === 'libvirt schema');
  for (const d of out) {
    if (d.source !== 'libvirt schema (xmllint)') continue;
    const at = doc.offsetAt(d.range.start);
    const t = r.tags.find((x) => x.nameStart === at || x.start === at);
    if (!t) continue;
    const end = t.close?.end ?? t.end;
    const inside = precise.find((p) => {
      const o = doc.offsetAt(p.range.start);
      return o > t.nameEnd && o < end && p.range.start.line !== d.range.start.line;
    });
    if (inside) d.message += ` — the culprit: line ${inside.range.start.line + 1}: ${inside.message}`;
  }
}

/** Local names of each element's children, by the parent's tag index (one pass). */
function childNames(r: ScanResult): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const c of r.tags) {
    if (c.parent < 0 || !c.name || c.name.startsWith('?')) continue;
    let set = out.get(c.parent);
    if (!set) out.set(c.parent, (set = new Set()));
    set.add(c.name.slice(c.name.indexOf(':') + 1));
  }
  return out;
}

/** An attribute combination no variant of the element accepts, said with what each variant needs. */
function conflictMessage(model: SchemaModel, pats: readonly ElementPattern[], name: string, attrs: Readonly<Record<string, string>>): string | undefined {
  const conflicts = pats.map((p) => model.attributeConflict(p.content, attrs));
  if (!conflicts.length || conflicts.some((c) => !c)) return undefined;
  const alts = conflicts.flatMap((c) => c!).filter((alt) => alt.length);
  if (!alts.length) return undefined;
  const used = [...new Set(alts.flatMap((alt) => alt.map((a) => a.name)))];
  const have = used.map((n) => `${n}="${attrs[n]}"`).join(' ');
  const needs = [...new Set(alts.map((alt) => alt.map((a) => `${a.name} one of ${list(a.values, 8)}`).join(' and ')))];
  return `<${name} ${have}> fits none of the schema's variants: it needs ${needs.join('; or ')}`;
}

function intersectSets(sets: ReadonlySet<string>[]): Set<string> {
  if (!sets.length) return new Set();
  return new Set([...sets[0]].filter((x) => sets.every((s) => s.has(x))));
}

function onlyValues(v: ValueSpace): boolean {
  return v.values.length > 0 && !v.text && v.datatypes.length === 0;
}

function list(xs: readonly string[], max = 12): string {
  if (!xs.length) return '(none)';
  return xs.length > max ? `${xs.slice(0, max).join(', ')}, … (${xs.length - max} more)` : xs.join(', ');
}

function snippetEscape(s: string): string {
  return s.replace(/[$}\\,|]/g, '\\$&');
}

function snippetValue(v: ValueSpace, n: number): string {
  if (v.values.length && v.values.length <= 30) return `\${${n}|${v.values.map(snippetEscape).join(',')}|}`;
  return `$${n}`;
}

function attributeItem(a: AttributeInfo, i: number, range: Range, withValue: boolean): CompletionItem {
  return {
    label: a.name,
    kind: CompletionItemKind.Field,
    detail: `${a.required ? 'required' : 'optional'} attribute${a.values.values.length ? `: ${list(a.values.values, 6)}` : a.values.datatypes.length ? `: ${a.values.datatypes[0]}` : ''}`,
    sortText: `${a.required ? 0 : 1}${String(i).padStart(4, '0')}`,
    insertTextFormat: InsertTextFormat.Snippet,
    textEdit: { range, newText: withValue ? `${a.name}="${snippetValue(a.values, 1)}"` : a.name },
    documentation: { kind: MarkupKind.Markdown, value: describeAttribute(a, undefined, undefined) },
  };
}

function valueItems(v: ValueSpace, range: Range, where: string): CompletionItem[] {
  return v.values.map((value, i) => ({
    label: value,
    kind: CompletionItemKind.EnumMember,
    detail: `value of ${where}`,
    sortText: String(i).padStart(4, '0'),
    textEdit: { range, newText: value },
  }));
}

function describeValues(v: ValueSpace): string {
  const parts: string[] = [];
  if (v.values.length) parts.push(`one of ${v.values.map((x) => `\`${x}\``).join(', ')}`);
  for (const d of v.datatypes) parts.push(d);
  if (v.text) parts.push('text');
  return parts.join(' · or ') || 'empty';
}

export function describeElement(model: SchemaModel, pats: readonly ElementPattern[], attrs: Readonly<Record<string, string>> | undefined): string {
  const first = pats[0];
  const name = first.name.kind === 'name' ? first.name.local : '*';
  const lines: string[] = [];
  const where = pats.map((p) => `${p.loc.file}:${p.loc.line}${p.define ? ` (\`${p.define}\`)` : ''}`);
  lines.push(`**<${name}>** — element of libvirt's \`${model.file}\``);
  const doc = pats.map((p) => p.doc).find(Boolean);
  if (doc) lines.push('', doc);
  const as = model.attributesOf(pats, attrs);
  if (as.length) {
    lines.push('', '**Attributes**');
    for (const a of as.slice(0, 25)) lines.push(`- \`${a.name}\`${a.required ? ' (required)' : ''}: ${describeValues(a.values)}`);
    if (as.length > 25) lines.push(`- … ${as.length - 25} more`);
  }
  const kids = new Map<string, boolean>();
  for (const p of pats) {
    const req = model.requiredChildren(p.content);
    for (const c of model.childPatterns(p.content, attrs))
      if (c.name.kind === 'name') kids.set(c.name.local, (kids.get(c.name.local) ?? false) || req.has(c.name.local));
  }
  if (kids.size) lines.push('', `**Children**: ${[...kids].map(([k, r]) => (r ? `\`${k}\` (required)` : `\`${k}\``)).join(', ')}`);
  const text = mergeText(model, pats);
  if (text) lines.push('', `**Content**: ${text}`);
  lines.push('', `_Defined at ${[...new Set(where)].slice(0, 3).join(', ')}_`);
  return lines.join('\n');
}

function mergeText(model: SchemaModel, pats: readonly ElementPattern[]): string {
  const v = pats.map((p) => model.valueSpace(p.content));
  const values = [...new Set(v.flatMap((x) => x.values))];
  const datatypes = [...new Set(v.flatMap((x) => x.datatypes))];
  const text = v.some((x) => x.text);
  if (!values.length && !datatypes.length && !text) return '';
  return describeValues({ values, datatypes, text });
}

export function describeAttribute(a: AttributeInfo, element: string | undefined, value: string | undefined): string {
  const lines = [`**${a.name}** — ${a.required ? 'required' : 'optional'} attribute${element ? ` of <${element}>` : ''}`];
  const doc = a.patterns.map((p) => p.doc).find(Boolean);
  if (doc) lines.push('', doc);
  lines.push('', `**Value**: ${describeValues(a.values)}`);
  if (value !== undefined && a.values.values.length && !a.values.text && !a.values.datatypes.length && !a.values.values.includes(value)) {
    lines.push('', `⚠ \`${value}\` is not one of the allowed values`);
  }
  lines.push('', `_Defined at ${[...new Set(a.patterns.map((p) => `${p.loc.file}:${p.loc.line}`))].slice(0, 3).join(', ')}_`);
  return lines.join('\n');
}

function toDiagnostic(p: XmlProblem): Diagnostic {
  return {
    range: Range.create(p.line, p.character, p.endLine, p.endCharacter),
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : p.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
    message: p.message,
    source: p.source === 'xml' ? 'xml' : p.source === 'schema' ? 'libvirt schema (xmllint)' : p.source === 'refused' ? 'virtscope' : 'xmllint',
  };
}

function schemaDiag(range: Range, message: string): Diagnostic {
  return { range, severity: DiagnosticSeverity.Error, message, source: 'libvirt schema' };
}

function info(range: Range, message: string, severity: DiagnosticSeverity): Diagnostic {
  return { range, severity, message, source: 'virtscope' };
}

function rootRange(doc: TextDocument, r: ScanResult): Range {
  const t = r.tags.find((x) => x.name && !x.name.startsWith('?'));
  return t ? Range.create(doc.positionAt(t.nameStart), doc.positionAt(t.nameEnd)) : Range.create(0, 0, 0, 1);
}

/** Well-formedness with saxes, for when xmllint is missing. */
function wellFormedness(text: string): XmlProblem[] {
  const parser = new SaxesParser({ position: true });
  const out: XmlProblem[] = [];
  parser.on('error', (e) => {
    const line = Math.max(0, parser.line - 1);
    const character = Math.max(0, parser.column - 1);
    out.push({ line, character, endLine: line, endCharacter: character + 1, severity: 'error', message: e.message.replace(/^\d+:\d+: /, ''), source: 'xml' });
  });
  try {
    parser.write(text).close();
  } catch {
    /* reported through 'error' */
  }
  return out.slice(0, 20);
}
