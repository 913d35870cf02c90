// Validation with libxml2's own tools: `xmllint --noout --relaxng <schema> <file>` (Debian package
// libxml2-utils). libvirt validates with the same libxml2 RELAX NG engine (virt-xml-validate,
// `virsh define --validate`, VIR_DOMAIN_DEFINE_VALIDATE), so a document xmllint accepts is one
// libvirt's schema check accepts, message for message. Run with execFile on a temp file; its
// `file:line:` messages become problems with positions.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExecError, run } from '../exec';

export type Severity = 'error' | 'warning' | 'info';

export interface XmlProblem {
  /** 0-based line and character range. */
  readonly line: number;
  readonly character: number;
  readonly endLine: number;
  readonly endCharacter: number;
  readonly severity: Severity;
  readonly message: string;
  /** 'xml' (well-formedness), 'schema' (RELAX NG validity), 'validator' (xmllint itself), 'refused' (not validated, and why). */
  readonly source: 'xml' | 'schema' | 'validator' | 'refused';
}

export interface ValidateOptions {
  /** xmllint binary (default: `xmllint` on PATH). */
  xmllint?: string;
  timeoutMs?: number;
  /** Larger documents are not validated (default MAX_VALIDATE_BYTES). */
  maxBytes?: number;
}

/** Above this, validation (and the language server's scans) would take seconds and hundreds of MB. */
export const MAX_VALIDATE_BYTES = 2 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 20_000;

export const DECLARATIONS_REFUSED = 'libvirt definitions take no DOCTYPE or entity declarations; this one is not read';

export class ValidatorMissingError extends Error {
  constructor(readonly binary: string) {
    super(`${binary} was not found: install libxml2-utils (sudo apt-get install libxml2-utils) for schema validation`);
    this.name = 'ValidatorMissingError';
  }
}

/**
 * Validates `text` against `schemaFile` (or only parses it when schemaFile is undefined).
 * Resolves with the problems found (empty: valid). Rejects with ValidatorMissingError when there
 * is no xmllint.
 */
export async function validateXml(text: string, schemaFile: string | undefined, opts: ValidateOptions = {}): Promise<XmlProblem[]> {
  const refused = refusal(text, opts.maxBytes);
  if (refused) return [refused];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'virtscope-xml-'));
  const file = path.join(dir, 'document.xml');
  const bin = opts.xmllint ?? 'xmllint';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    await fs.writeFile(file, withoutEncodingDecl(text), 'utf8');
    // no --loaddtd/--noent/--xinclude: nothing but this file is to be read (--relaxng implies
    // entity substitution in xmllint, hence the refusal of any declaration above)
    const args = ['--noout', '--nonet', ...(schemaFile ? ['--relaxng', schemaFile] : []), file];
    let stderr = '';
    try {
      stderr = (await run(bin, args, { timeoutMs })).stderr;
    } catch (e) {
      if (e instanceof ExecError && e.notFound) throw new ValidatorMissingError(bin);
      if (!(e instanceof ExecError)) throw e;
      if (e.exitCode === null) return [notValidated(`xmllint took over ${+(timeoutMs / 1000).toFixed(1)} s: validation given up`)];
      stderr = e.stderr;
    }
    return parseXmllintOutput(stderr, file, text);
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Where the text declares a DOCTYPE or an entity (anywhere: a comment is no reason to look closer). */
export function declarationOffset(text: string): number | undefined {
  const m = /<!(?:DOCTYPE|ENTITY)/i.exec(text);
  return m ? m.index : undefined;
}

/** A DOCTYPE could name any file (or define entities that expand without end): never handed on. */
function declarationProblem(text: string): XmlProblem | undefined {
  const at = declarationOffset(text);
  if (at === undefined) return undefined;
  const before = text.slice(0, at);
  const line = before.split('\n').length - 1;
  const character = at - (before.lastIndexOf('\n') + 1);
  return { line, character, endLine: line, endCharacter: character + '<!DOCTYPE'.length, severity: 'error', message: DECLARATIONS_REFUSED, source: 'refused' };
}

/** The text's size in MB when it is over `maxBytes`. */
export function oversize(text: string, maxBytes = MAX_VALIDATE_BYTES): string | undefined {
  // cheap bound first: a UTF-8 byte count walks the whole string
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > maxBytes ? `the document is ${(bytes / 1024 / 1024).toFixed(1)} MB, over the ${fmtMb(maxBytes)} limit for validation` : undefined;
}

function fmtMb(bytes: number): string {
  const mb = bytes / 1024 / 1024;
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

/** Why `text` is not to be validated at all (a declaration, its size), as the one problem to show. */
export function refusal(text: string, maxBytes = MAX_VALIDATE_BYTES): XmlProblem | undefined {
  const why = oversize(text, maxBytes);
  return why ? notValidated(why) : declarationProblem(text);
}

function notValidated(why: string): XmlProblem {
  return { line: 0, character: 0, endLine: 0, endCharacter: 1, severity: 'info', message: `not validated: ${why}`, source: 'refused' };
}

/** The file is written as UTF-8 whatever the text declares; blank the declaration (same length, same columns). */
function withoutEncodingDecl(text: string): string {
  return text.replace(/^(\uFEFF?<\?xml\b[^>]*?\s)(encoding\s*=\s*(["'])[^"']*\3)/, (_m, head: string, decl: string) => head + ' '.repeat(decl.length));
}

/**
 * Parses xmllint's stderr. Forms:
 *   FILE:LINE: parser error : MESSAGE            (then the source excerpt and a caret line)
 *   FILE:LINE: element NAME: Relax-NG validity error : MESSAGE
 *   Relax-NG validity error : MESSAGE            (no position: attached to the last one)
 *   FILE fails to validate / FILE validates
 */
export function parseXmllintOutput(stderr: string, file: string, text: string): XmlProblem[] {
  const src = text.split('\n');
  const lines = stderr.split('\n');
  const out: XmlProblem[] = [];
  let last: { line: number; element?: string } | undefined;
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const posRe = new RegExp(`^${esc}:(\\d+): (?:element (\\S+): )?([^:]*?(error|warning)) : (.*)$`);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.trim() || l === `${file} validates` || l === `${file} fails to validate`) continue;
    const m = posRe.exec(l);
    if (!m && OTHER_FILE.test(l)) {
      // a message about another file (an entity it pulled in): its excerpt is that file's content
      const caret = lines.slice(i + 1, i + 5).findIndex((x) => /^\s*\^\s*$/.test(x));
      i += caret >= 0 ? caret + 1 : 1;
      const message = OTHER_FILE.exec(l)![1].trim();
      if (!out.some((p) => p.message === message)) out.push({ ...elementRange(src, 0, undefined), severity: 'error', message, source: 'xml' });
      continue;
    }
    if (m) {
      const line = Math.max(0, parseInt(m[1], 10) - 1);
      const element = m[2];
      const kind = m[3];
      const severity: Severity = m[4] === 'warning' ? 'warning' : 'error';
      const message = m[5].trim();
      const isParser = !/Relax-NG/i.test(kind);
      if (isParser) {
        // the excerpt and caret line follow: locate the column
        const excerpt = lines[i + 1];
        const caret = lines[i + 2];
        let col = 0;
        if (excerpt !== undefined && caret !== undefined && /^\s*\^\s*$/.test(caret)) {
          const at = caret.indexOf('^');
          const srcLine = src[line] ?? '';
          const k = srcLine.indexOf(excerpt);
          col = k >= 0 ? k + at : Math.min(at, srcLine.length);
          i += 2;
        }
        const srcLine = src[line] ?? '';
        out.push({ line, character: col, endLine: line, endCharacter: Math.max(col + 1, Math.min(srcLine.length, col + 1)), severity, message, source: 'xml' });
      } else {
        out.push({ ...elementRange(src, line, element), severity, message, source: 'schema' });
      }
      last = { line, element };
      continue;
    }
    const bare = /^(?:.*?)(Relax-NG (?:validity|parser) error|validity error|parser error|warning) : (.*)$/.exec(l);
    if (bare) {
      const message = bare[2].trim();
      // "Extra element on_crash in interleave": no line, but the element is named
      const named = /\b[Ee]lement (\S+)/.exec(message)?.[1];
      const found = named ? findElement(src, named) : undefined;
      const where = found ?? (last ? elementRange(src, last.line, last.element) : elementRange(src, 0, undefined));
      // the same message twice at one place helps nobody
      if (!out.some((p) => p.message === message && p.line === where.line)) {
        out.push({
          ...where,
          severity: /warning/.test(bare[1]) ? 'warning' : 'error',
          message,
          source: /parser/.test(bare[1]) && !/Relax-NG/.test(bare[1]) ? 'xml' : 'schema',
        });
      }
      continue;
    }
    // anything else xmllint says (schema could not be compiled, I/O errors): keep it visible
    if (!/^\s*\^?\s*$/.test(l) && !l.startsWith(' ')) {
      out.push({ ...elementRange(src, 0, undefined), severity: 'error', message: l.replace(file, 'document').trim(), source: 'validator' });
    }
  }
  // libxml2 follows a precise complaint with generic ones about the enclosing elements
  const precise = out.filter((p) => !VAGUE.test(p.message) && !EXTRA.test(p.message));
  const extra = out.filter((p) => {
    const m = EXTRA.exec(p.message);
    return m && !precise.some((q) => q.message.includes(`element ${m[1]}`));
  });
  const kept = [...precise, ...extra];
  return kept.length ? kept.sort((a, b) => a.line - b.line || a.character - b.character) : out;
}

/** `OTHERFILE:LINE: parser error : MESSAGE`, followed by an excerpt of that file. */
const OTHER_FILE = /^\S+:\d+: (?:[^:]*?(?:error|warning)) : (.*)$/;
const VAGUE = /^(Invalid sequence in interleave|Element \S+ failed to validate (content|attributes))$/;
const EXTRA = /^Extra element (\S+) in interleave$/;

function findElement(src: string[], element: string): ReturnType<typeof elementRange> | undefined {
  const re = new RegExp(`<(?:[\\w.-]+:)?${element.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s/>]|$)`);
  for (let i = 0; i < src.length; i++) if (re.test(src[i])) return elementRange(src, i, element);
  return undefined;
}

/** The element's name on its start-tag line, or the line's text. */
function elementRange(src: string[], line: number, element: string | undefined): { line: number; character: number; endLine: number; endCharacter: number } {
  const s = src[line] ?? '';
  if (element) {
    const re = new RegExp(`<(?:[\\w.-]+:)?${element.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s/>]|$)`);
    const m = re.exec(s);
    if (m) return { line, character: m.index + 1, endLine: line, endCharacter: m.index + 1 + element.length };
  }
  const first = s.search(/\S/);
  return { line, character: Math.max(0, first), endLine: line, endCharacter: Math.max(first + 1, s.length) };
}
