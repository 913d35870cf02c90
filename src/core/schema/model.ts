// What a RELAX NG grammar allows at a place in a document, for completion and hover: the child
// elements, attributes and enumerated values of the element at an element path. The grammar is
// walked lazily from the pattern tree (rng.ts); results that do not depend on the document are
// memoised per pattern. Where a content model is a <choice> guarded by attribute values
// (<disk type="file"> vs type="block"), alternatives that contradict the document's attributes are
// left out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acceptsValue } from './datatypes';
import { NameClass, Pattern, RngLoader } from './rng';

export type ElementPattern = Extract<Pattern, { t: 'element' }>;
export type AttributePattern = Extract<Pattern, { t: 'attribute' }>;

/** Values an attribute or text content may take. */
export interface ValueSpace {
  /** Enumerated <value>s, in schema order. */
  readonly values: string[];
  /** <data> types (`unsignedInt`, `string` with pattern …), described. */
  readonly datatypes: string[];
  /** Free text allowed (<text/>). */
  readonly text: boolean;
}

/** An element of the document as far as the grammar needs to know it. */
export interface DocElement {
  readonly local: string;
  readonly ns: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export interface AttributeInfo {
  readonly name: string;
  readonly ns: string;
  readonly required: boolean;
  readonly patterns: AttributePattern[];
  readonly values: ValueSpace;
}

export interface ChildInfo {
  readonly name: string;
  readonly ns: string;
  readonly required: boolean;
  /** May appear more than once in this parent. */
  readonly repeatable: boolean;
  readonly patterns: ElementPattern[];
}

export function nameOf(n: NameClass): { ns: string; local: string } | undefined {
  return n.kind === 'name' ? { ns: n.ns, local: n.local } : undefined;
}

export function nameMatches(n: NameClass, ns: string, local: string): boolean {
  switch (n.kind) {
    case 'name':
      return n.local === local && n.ns === ns;
    case 'anyName':
      return !n.except || !nameMatches(n.except, ns, local);
    case 'nsName':
      return n.ns === ns && (!n.except || !nameMatches(n.except, ns, local));
    case 'choice':
      return n.items.some((i) => nameMatches(i, ns, local));
  }
}

function deref(p: Pattern): Pattern {
  if (p.t !== 'ref') return p;
  const d = p.scope.resolve(p.name);
  return d ? d.pattern : { t: 'notAllowed' };
}

type ReqMap = Map<string, Set<string> | null>;

export class SchemaModel {
  private readonly reqAttrMemo = new WeakMap<Pattern, ReqMap>();
  private readonly reqChildMemo = new WeakMap<Pattern, Set<string>>();
  private readonly attrValueMemo = new WeakMap<Pattern, ReqMap>();

  constructor(
    /** The document's top-level pattern. */
    readonly start: Pattern,
    /** The schema file it came from (base name), for hover. */
    readonly file: string,
  ) {}

  /** Element patterns a content pattern allows as children (not crossing into them). */
  childPatterns(content: Pattern, attrs?: Readonly<Record<string, string>>): ElementPattern[] {
    const out = new Set<ElementPattern>();
    this.walk(content, attrs, (p) => {
      if (p.t === 'element') out.add(p);
    });
    return [...out];
  }

  /**
   * Child element names a content pattern allows more than once (reached under zeroOrMore or
   * oneOrMore). Every other child may stand there at most once.
   */
  repeatableChildren(content: Pattern, attrs?: Readonly<Record<string, string>>): Set<string> {
    const out = new Set<string>();
    const seen = [new Set<Pattern>(), new Set<Pattern>()];
    const go = (p: Pattern, many: boolean): void => {
      const mark = seen[many ? 1 : 0];
      if (mark.has(p)) return;
      mark.add(p);
      const inner = (q: Pattern) => go(q, many || p.t === 'zeroOrMore' || p.t === 'oneOrMore');
      switch (p.t) {
        case 'element': {
          const n = nameOf(p.name);
          if (n && many) out.add(n.local);
          return;
        }
        case 'ref':
          return inner(deref(p));
        case 'choice': {
          const fit = attrs ? p.items.filter((i) => !this.contradicts(i, attrs)) : p.items;
          return (fit.length ? fit : p.items).forEach(inner);
        }
        case 'group':
        case 'interleave':
          return p.items.forEach(inner);
        case 'optional':
        case 'zeroOrMore':
        case 'oneOrMore':
        case 'mixed':
          return inner(p.content);
        default:
          return;
      }
    };
    go(content, false);
    return out;
  }

  /** Attribute patterns a content pattern allows on its element. */
  attributePatterns(content: Pattern, attrs?: Readonly<Record<string, string>>): AttributePattern[] {
    const out = new Set<AttributePattern>();
    this.walk(content, attrs, (p) => {
      if (p.t === 'attribute') out.add(p);
    });
    return [...out];
  }

  /**
   * Visits element and attribute patterns reachable from `p` without entering an element or an
   * attribute. `attrs` (the document's attributes) prunes choice alternatives they contradict.
   */
  private walk(
    p: Pattern,
    attrs: Readonly<Record<string, string>> | undefined,
    visit: (p: Pattern) => void,
    seen = new Set<Pattern>(),
    onChoice?: (alternatives: readonly Pattern[]) => void,
  ): void {
    if (seen.has(p)) return;
    seen.add(p);
    switch (p.t) {
      case 'element':
      case 'attribute':
        visit(p);
        return;
      case 'ref':
        this.walk(deref(p), attrs, visit, seen, onChoice);
        return;
      case 'choice': {
        onChoice?.(p.items);
        let items = p.items;
        if (attrs) {
          const fit = items.filter((i) => !this.contradicts(i, attrs));
          if (fit.length) items = fit;
        }
        for (const i of items) this.walk(i, attrs, visit, seen, onChoice);
        return;
      }
      case 'group':
      case 'interleave':
        for (const i of p.items) this.walk(i, attrs, visit, seen, onChoice);
        return;
      case 'optional':
      case 'zeroOrMore':
      case 'oneOrMore':
      case 'mixed':
        this.walk(p.content, attrs, visit, seen, onChoice);
        return;
      default:
        return;
    }
  }

  /**
   * Where the document's attributes fit none of a choice's alternatives (`<disk type="file"
   * device="lun">`): for each alternative, the attributes it would need otherwise (name → its
   * values). Undefined when every choice has an alternative that fits.
   */
  attributeConflict(content: Pattern, attrs: Readonly<Record<string, string>>): { name: string; values: string[] }[][] | undefined {
    let found: { name: string; values: string[] }[][] | undefined;
    // walked with the attributes, so choices inside alternatives they rule out are not judged
    this.walk(
      content,
      attrs,
      () => {},
      new Set(),
      (items) => {
        if (found || items.length < 2) return;
        if (!items.every((i) => this.contradicts(i, attrs))) return;
        found = items.map((i) =>
          [...this.attrValues(i)]
            .filter(([name, values]) => attrs[name] !== undefined && values && !values.has(attrs[name]))
            .map(([name, values]) => ({ name, values: [...values!] })),
        );
      },
    );
    return found;
  }

  /**
   * Does this alternative only allow other values for an attribute the document sets? (Its
   * attributes, optional ones included, that take enumerated values only.)
   */
  private contradicts(p: Pattern, attrs: Readonly<Record<string, string>>): boolean {
    for (const [name, values] of this.attrValues(p)) {
      const have = attrs[name];
      if (have !== undefined && values && !values.has(have)) return true;
    }
    return false;
  }

  /** Every attribute an alternative allows on its element → its enumerated values (null: any value). */
  private attrValues(p: Pattern): ReqMap {
    let r = this.attrValueMemo.get(p);
    if (r) return r;
    const map: ReqMap = new Map();
    this.walk(p, undefined, (q) => {
      if (q.t !== 'attribute') return;
      const n = nameOf(q.name);
      if (!n || n.ns) return;
      const vs = this.valueSpace(q.content);
      const set = vs.values.length && !vs.text && !vs.datatypes.length ? new Set(vs.values) : null;
      map.set(n.local, map.has(n.local) ? union(map.get(n.local)!, set) : set);
    });
    r = map;
    this.attrValueMemo.set(p, r);
    return r;
  }

  /** Attributes a pattern requires (name → the enumerated values it allows, or null for any). */
  requiredAttrValues(p: Pattern, stack = new Set<Pattern>()): ReqMap {
    const memo = this.reqAttrMemo.get(p);
    if (memo) return memo;
    if (stack.has(p)) return new Map();
    stack.add(p);
    let r: ReqMap = new Map();
    switch (p.t) {
      case 'attribute': {
        const n = nameOf(p.name);
        if (n && !n.ns) {
          const vs = this.valueSpace(p.content);
          r.set(n.local, vs.values.length && !vs.text && !vs.datatypes.length ? new Set(vs.values) : null);
        }
        break;
      }
      case 'ref':
        r = this.requiredAttrValues(deref(p), stack);
        break;
      case 'group':
      case 'interleave':
        for (const i of p.items) for (const [k, v] of this.requiredAttrValues(i, stack)) r.set(k, r.has(k) ? intersect(r.get(k)!, v) : v);
        break;
      case 'choice': {
        const alts = possible(p.items).map((i) => this.requiredAttrValues(i, stack));
        if (!alts.length) break;
        for (const [k, v] of alts[0]) {
          if (alts.every((a) => a.has(k)))
            r.set(
              k,
              alts.reduce<Set<string> | null>((acc, a) => union(acc, a.get(k)!), v),
            );
        }
        break;
      }
      case 'oneOrMore':
        r = this.requiredAttrValues(p.content, stack);
        break;
      default:
        break;
    }
    stack.delete(p);
    this.reqAttrMemo.set(p, r);
    return r;
  }

  /** Child element names a content pattern requires. */
  requiredChildren(p: Pattern, stack = new Set<Pattern>()): Set<string> {
    const memo = this.reqChildMemo.get(p);
    if (memo) return memo;
    if (stack.has(p)) return new Set();
    stack.add(p);
    let r = new Set<string>();
    switch (p.t) {
      case 'element': {
        const n = nameOf(p.name);
        if (n) r.add(n.local);
        break;
      }
      case 'ref':
        r = this.requiredChildren(deref(p), stack);
        break;
      case 'group':
      case 'interleave':
        for (const i of p.items) for (const k of this.requiredChildren(i, stack)) r.add(k);
        break;
      case 'choice': {
        const alts = possible(p.items).map((i) => this.requiredChildren(i, stack));
        if (alts.length) for (const k of alts[0]) if (alts.every((a) => a.has(k))) r.add(k);
        break;
      }
      case 'oneOrMore':
        r = this.requiredChildren(p.content, stack);
        break;
      default:
        break;
    }
    stack.delete(p);
    this.reqChildMemo.set(p, r);
    return r;
  }

  /** Does `value` fit a value pattern (an attribute's content)? True where it cannot tell. */
  accepts(p: Pattern, value: string): boolean {
    return acceptsValue(p, value, deref);
  }

  /**
   * Does `value` fit an element's text content? True where it cannot tell: free text, child
   * elements, or no value pattern at all.
   */
  acceptsText(content: Pattern, value: string): boolean {
    const vals: Pattern[] = [];
    let open = false;
    const seen = new Set<Pattern>();
    const go = (q: Pattern): void => {
      if (seen.has(q)) return;
      seen.add(q);
      if (q.t === 'value' || q.t === 'data') vals.push(q);
      else if (q.t === 'text' || q.t === 'mixed' || q.t === 'element' || q.t === 'list') open = true;
      else if (q.t === 'ref') go(deref(q));
      else if (q.t === 'choice' || q.t === 'group' || q.t === 'interleave') q.items.forEach(go);
      else if (q.t === 'optional' || q.t === 'zeroOrMore' || q.t === 'oneOrMore') go(q.content);
    };
    go(content);
    return open || !vals.length || vals.some((v) => this.accepts(v, value));
  }

  /** Values of an attribute's content, or the text content of an element (not crossing children). */
  valueSpace(p: Pattern): ValueSpace {
    const values: string[] = [];
    const datatypes: string[] = [];
    let text = false;
    const seen = new Set<Pattern>();
    const go = (q: Pattern) => {
      if (seen.has(q)) return;
      seen.add(q);
      switch (q.t) {
        case 'value':
          if (!values.includes(q.value)) values.push(q.value);
          return;
        case 'data': {
          const d = describeData(q);
          if (!datatypes.includes(d)) datatypes.push(d);
          return;
        }
        case 'text':
        case 'mixed':
          text = true;
          if (q.t === 'mixed') go(q.content);
          return;
        case 'ref':
          go(deref(q));
          return;
        case 'choice':
        case 'group':
        case 'interleave':
          for (const i of q.items) go(i);
          return;
        case 'optional':
        case 'zeroOrMore':
        case 'oneOrMore':
        case 'list':
          go(q.content);
          return;
        default:
          return;
      }
    };
    go(p);
    return { values, datatypes, text };
  }

  /** The element patterns that may stand at `path` (root first); empty when the path is not in the grammar. */
  resolve(pathEls: readonly DocElement[]): ElementPattern[] {
    let current: ElementPattern[] | undefined;
    for (let i = 0; i < pathEls.length; i++) {
      current = this.step(current, pathEls[i - 1]?.attrs, pathEls[i]);
      if (!current.length) return [];
    }
    return current ?? [];
  }

  /**
   * One level down: the patterns of `el` as a child of `parents` (the root when undefined), whose
   * document element has `parentAttrs`. Lets a caller walking a whole document resolve each element
   * from its parent's result.
   */
  step(parents: readonly ElementPattern[] | undefined, parentAttrs: Readonly<Record<string, string>> | undefined, el: DocElement): ElementPattern[] {
    const candidates = parents ? dedupe(parents.flatMap((p) => this.childPatterns(p.content, parentAttrs))) : this.childPatterns(this.start);
    return candidates.filter((p) => nameMatches(p.name, el.ns, el.local));
  }

  /** Elements allowed as children of the element at `path` (or as the root when `path` is empty). */
  children(pathEls: readonly DocElement[]): ChildInfo[] {
    if (!pathEls.length) return this.childrenOf(undefined, undefined);
    const parents = this.resolve(pathEls);
    return parents.length ? this.childrenOf(parents, pathEls[pathEls.length - 1].attrs) : [];
  }

  /** Children allowed in elements matching `parents` (the root when undefined) with the document's `attrs`. */
  childrenOf(parents: readonly ElementPattern[] | undefined, attrs: Readonly<Record<string, string>> | undefined): ChildInfo[] {
    const pats = parents ? dedupe(parents.flatMap((p) => this.childPatterns(p.content, attrs))) : this.childPatterns(this.start);
    const required = parents ? intersectAll(parents.map((p) => this.requiredChildren(p.content))) : new Set<string>();
    const repeatable = new Set(parents ? parents.flatMap((p) => [...this.repeatableChildren(p.content, attrs)]) : []);
    const byName = new Map<string, ChildInfo>();
    for (const p of pats) {
      const n = nameOf(p.name);
      if (!n) continue;
      const key = `${n.ns}\0${n.local}`;
      const have = byName.get(key);
      if (have) have.patterns.push(p);
      else byName.set(key, { name: n.local, ns: n.ns, required: required.has(n.local), repeatable: repeatable.has(n.local), patterns: [p] });
    }
    return [...byName.values()];
  }

  /** Attributes allowed on the element at `path` (the last entry's attributes prune alternatives). */
  attributes(pathEls: readonly DocElement[]): AttributeInfo[] {
    const els = this.resolve(pathEls);
    const attrs = pathEls[pathEls.length - 1]?.attrs;
    return this.attributesOf(els, attrs);
  }

  attributesOf(els: readonly ElementPattern[], attrs?: Readonly<Record<string, string>>): AttributeInfo[] {
    const required = intersectAll(els.map((e) => new Set(this.requiredAttrValues(e.content).keys())));
    const byName = new Map<string, { name: string; ns: string; patterns: AttributePattern[] }>();
    for (const e of els) {
      for (const a of this.attributePatterns(e.content, attrs)) {
        const n = nameOf(a.name);
        if (!n) continue;
        const key = `${n.ns}\0${n.local}`;
        const have = byName.get(key);
        if (have) {
          if (!have.patterns.includes(a)) have.patterns.push(a);
        } else byName.set(key, { name: n.local, ns: n.ns, patterns: [a] });
      }
    }
    return [...byName.values()].map((b) => ({
      ...b,
      required: !b.ns && required.has(b.name),
      values: mergeSpaces(b.patterns.map((p) => this.valueSpace(p.content))),
    }));
  }

  /** Text content values of the element at `path` (ignoring child elements). */
  textValues(pathEls: readonly DocElement[]): ValueSpace {
    return this.textValuesOf(this.resolve(pathEls));
  }

  textValuesOf(els: readonly ElementPattern[]): ValueSpace {
    return mergeSpaces(els.map((e) => this.valueSpace(e.content)));
  }

  /** Can the element hold nothing at all (so completion writes `<name/>`)? */
  isEmptyElement(p: ElementPattern): boolean {
    const vs = this.valueSpace(p.content);
    return !vs.text && !vs.values.length && !vs.datatypes.length && this.childPatterns(p.content).length === 0;
  }
}

/** Choice alternatives that can match at all (libvirt's no-op `<notAllowed/>` defines combined by choice are not). */
function possible(items: readonly Pattern[]): readonly Pattern[] {
  return items.filter((i) => deref(i).t !== 'notAllowed');
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function intersect(a: Set<string> | null, b: Set<string> | null): Set<string> | null {
  if (!a) return b;
  if (!b) return a;
  return new Set([...a].filter((x) => b.has(x)));
}

function union(a: Set<string> | null, b: Set<string> | null): Set<string> | null {
  if (!a || !b) return null;
  return new Set([...a, ...b]);
}

function intersectAll(sets: Set<string>[]): Set<string> {
  if (!sets.length) return new Set();
  return new Set([...sets[0]].filter((x) => sets.every((s) => s.has(x))));
}

function mergeSpaces(spaces: ValueSpace[]): ValueSpace {
  const values: string[] = [];
  const datatypes: string[] = [];
  let text = false;
  for (const s of spaces) {
    for (const v of s.values) if (!values.includes(v)) values.push(v);
    for (const d of s.datatypes) if (!datatypes.includes(d)) datatypes.push(d);
    text ||= s.text;
  }
  return { values, datatypes, text };
}

/** `unsignedInt`, `string matching [a-z]+`, `int ≥ 1` … */
export function describeData(d: Extract<Pattern, { t: 'data' }>): string {
  const parts: string[] = [d.type];
  const p = d.params;
  if (p.pattern) parts.push(`matching \`${p.pattern}\``);
  if (p.minInclusive !== undefined) parts.push(`≥ ${p.minInclusive}`);
  if (p.minExclusive !== undefined) parts.push(`> ${p.minExclusive}`);
  if (p.maxInclusive !== undefined) parts.push(`≤ ${p.maxInclusive}`);
  if (p.maxExclusive !== undefined) parts.push(`< ${p.maxExclusive}`);
  if (p.length !== undefined) parts.push(`length ${p.length}`);
  if (p.minLength !== undefined) parts.push(`length ≥ ${p.minLength}`);
  if (p.maxLength !== undefined) parts.push(`length ≤ ${p.maxLength}`);
  return parts.join(' ');
}

// ---- loading and caching ------------------------------------------------------------------

/** Where libvirt installs its schemas (Debian/Fedora: /usr/share/libvirt/schemas). */
export const SCHEMA_DIRS = ['/usr/share/libvirt/schemas', '/usr/local/share/libvirt/schemas'];

export function findSchemaDir(dirs: readonly string[] = SCHEMA_DIRS): string | undefined {
  return dirs.find((d) => fs.existsSync(path.join(d, 'domain.rng')));
}

interface Cached {
  readonly model: SchemaModel;
  readonly files: ReadonlyMap<string, number>;
}
const cache = new Map<string, Cached>();

/**
 * The model of a schema file (e.g. /usr/share/libvirt/schemas/domain.rng), cached until one of the
 * files it includes changes (mtime), so an upgraded libvirt is picked up without a restart.
 */
export function loadSchema(schemaFile: string): SchemaModel {
  const hit = cache.get(schemaFile);
  if (hit && [...hit.files].every(([f, m]) => mtime(f) === m)) return hit.model;
  const loader = new RngLoader(path.dirname(schemaFile));
  const { start } = loader.load(path.basename(schemaFile));
  const model = new SchemaModel(start, path.basename(schemaFile));
  cache.set(schemaFile, { model, files: new Map([...loader.read].map((f) => [f, mtime(f)])) });
  return model;
}

function mtime(f: string): number {
  try {
    return fs.statSync(f).mtimeMs;
  } catch {
    return -1;
  }
}

/** Which libvirt schema validates a document, by its root element. */
export const ROOT_SCHEMAS: Readonly<Record<string, string>> = {
  domain: 'domain.rng',
  network: 'network.rng',
  networkport: 'networkport.rng',
  pool: 'storagepool.rng',
  volume: 'storagevol.rng',
  interface: 'interface.rng',
  secret: 'secret.rng',
  filter: 'nwfilter.rng',
  filterbinding: 'nwfilterbinding.rng',
  domainsnapshot: 'domainsnapshot.rng',
  domaincheckpoint: 'domaincheckpoint.rng',
  domainbackup: 'domainbackup.rng',
  device: 'nodedev.rng',
  capabilities: 'capability.rng',
  domainCapabilities: 'domaincaps.rng',
};
