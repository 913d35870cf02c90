// Does a value fit an attribute's or a text's value pattern? For pointing at the culprit where
// xmllint only says "Extra element devices in interleave". Conservative: whatever this cannot
// judge (unknown datatypes, lists, patterns JS cannot read) counts as accepted, so the model never
// contradicts xmllint's verdict on a valid document.
import type { Pattern } from './rng';

type DataPattern = Extract<Pattern, { t: 'data' }>;

/** Accepted by `p` (a value pattern, refs resolved by `deref`)? */
export function acceptsValue(p: Pattern, value: string, deref: (p: Pattern) => Pattern, seen = new Set<Pattern>()): boolean {
  if (seen.has(p)) return true;
  seen.add(p);
  try {
    switch (p.t) {
      case 'value':
        return p.type === 'string' ? p.value === value : collapse(p.value) === collapse(value);
      case 'data':
        return dataAccepts(p, value);
      case 'ref':
        return acceptsValue(deref(p), value, deref, seen);
      case 'choice':
        return p.items.some((i) => acceptsValue(i, value, deref, seen));
      case 'empty':
        return value === '';
      case 'notAllowed':
        return false;
      default:
        return true; // text, list, group …: not judged here
    }
  } finally {
    seen.delete(p);
  }
}

function collapse(s: string): string {
  return s.trim().replace(/\s+/g, ' ');
}

const INTEGER_RANGES: Readonly<Record<string, [bigint | undefined, bigint | undefined]>> = {
  integer: [undefined, undefined],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  short: [-32768n, 32767n],
  byte: [-128n, 127n],
  unsignedInt: [0n, 2n ** 32n - 1n],
  unsignedLong: [0n, 2n ** 64n - 1n],
  unsignedShort: [0n, 65535n],
  unsignedByte: [0n, 255n],
  positiveInteger: [1n, undefined],
  nonNegativeInteger: [0n, undefined],
  negativeInteger: [undefined, -1n],
  nonPositiveInteger: [undefined, 0n],
};

function dataAccepts(d: DataPattern, raw: string): boolean {
  const value = d.type === 'string' ? raw : collapse(raw);
  if (d.params.pattern !== undefined) {
    const re = xsdRegex(d.params.pattern);
    if (re && !re.test(value)) return false;
  }
  const range = INTEGER_RANGES[d.type];
  if (range) {
    if (!/^[+-]?\d+$/.test(value)) return false;
    const n = BigInt(value);
    const [lo, hi] = range;
    if ((lo !== undefined && n < lo) || (hi !== undefined && n > hi)) return false;
    return withinFacets(d, Number(n));
  }
  if (d.type === 'decimal' || d.type === 'double' || d.type === 'float') {
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value) && !(d.type !== 'decimal' && /^(-?INF|NaN)$/.test(value))) return false;
    return withinFacets(d, Number(value));
  }
  if (d.type === 'boolean') return /^(true|false|0|1)$/.test(value);
  const len = [...value].length;
  if (d.params.length !== undefined && len !== Number(d.params.length)) return false;
  if (d.params.minLength !== undefined && len < Number(d.params.minLength)) return false;
  if (d.params.maxLength !== undefined && len > Number(d.params.maxLength)) return false;
  return true;
}

function withinFacets(d: DataPattern, n: number): boolean {
  const p = d.params;
  if (p.minInclusive !== undefined && n < Number(p.minInclusive)) return false;
  if (p.maxInclusive !== undefined && n > Number(p.maxInclusive)) return false;
  if (p.minExclusive !== undefined && n <= Number(p.minExclusive)) return false;
  if (p.maxExclusive !== undefined && n >= Number(p.maxExclusive)) return false;
  return true;
}

const regexCache = new Map<string, RegExp | null>();

/** An XML Schema regular expression (always anchored) as a JS one; null when JS cannot read it. */
function xsdRegex(src: string): RegExp | null {
  let re = regexCache.get(src);
  if (re !== undefined) return re;
  try {
    // \i, \c (XML name characters) and character-class subtraction have no JS equivalent
    re = /\\[icIC]|-\[/.test(src) ? null : new RegExp(`^(?:${src})$`, 'u');
  } catch {
    re = null;
  }
  regexCache.set(src, re);
  return re;
}
