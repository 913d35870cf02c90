// Language features for LXC container configs (lxc.container.conf(5)): unknown and renamed keys,
// values outside a key's documented list, key and value completion, hover, quick fixes.
import {
  CodeAction,
  CodeActionKind,
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
import { KeyInfo, lintLxcConfig, LXC_KEYS, LXC_KEYS_SOURCE, lookupKey } from '../core/lxcconf/keys';

export function lxcDiagnostics(doc: TextDocument): Diagnostic[] {
  return lintLxcConfig(doc.getText()).map((p) => ({
    range: Range.create(p.line, p.start, p.line, p.end),
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    message: p.message,
    source: 'lxc.container.conf(5)',
    data: p.replacement ? { replacement: p.replacement } : undefined,
  }));
}

export function describeKey(k: KeyInfo): string {
  const lines = [`**${k.key}** — ${k.section}`, '', k.doc.replace(/\n/g, '\n\n')];
  if (k.values?.length) lines.push('', `**Values**: ${k.values.map((v) => `\`${v}\``).join(', ')}`);
  else lines.push('', `**Value**: ${k.form}`);
  lines.push('', `_${LXC_KEYS_SOURCE.split(';')[0]}_`);
  return lines.join('\n');
}

/** `lxc.net.[i].type` → a snippet `lxc.net.${1:0}.type`; other placeholders become tab stops. */
function keySnippet(k: KeyInfo, netIndex: string): string {
  let n = 1;
  return k.key.replace(/\[([^\]]+)\]/g, (_m, what: string) => (what === 'i' ? `\${${n++}:${netIndex}}` : `\${${n++}:${what.replace(/[$}\\]/g, '')}}`));
}

export function lxcCompletion(doc: TextDocument, pos: Position): CompletionItem[] {
  const line = doc.getText(Range.create(pos.line, 0, pos.line + 1, 0)).replace(/\r?\n$/, '');
  const before = line.slice(0, pos.character);
  if (/^\s*#/.test(before)) return [];
  const eq = line.indexOf('=');
  if (eq < 0 || pos.character <= eq) {
    // completing the key: replace the word under the cursor
    const ks = before.search(/\S*$/);
    const ke = eq < 0 ? line.length : line.slice(0, eq).trimEnd().length;
    const range = Range.create(pos.line, ks, pos.line, Math.max(ke, pos.character));
    // the interface index in use nearby, so lxc.net keys continue the same device
    const text = doc.getText();
    const idx = [...text.slice(0, doc.offsetAt(Position.create(pos.line, 0))).matchAll(/^\s*lxc\.net\.(\d+)\./gm)].pop()?.[1] ?? '0';
    return LXC_KEYS.map((k, i) => ({
      label: k.key,
      kind: CompletionItemKind.Property,
      detail: k.values?.length ? k.values.join(' | ') : k.form,
      sortText: String(i).padStart(4, '0'),
      filterText: k.key.replace(/\[i\]/g, idx),
      insertTextFormat: InsertTextFormat.Snippet,
      textEdit: { range, newText: eq < 0 ? `${keySnippet(k, idx)} = ` : keySnippet(k, idx) },
      documentation: { kind: MarkupKind.Markdown, value: describeKey(k) },
      command: eq < 0 && k.values?.length ? { title: 'values', command: 'editor.action.triggerSuggest' } : undefined,
    }));
  }
  const key = line.slice(0, eq).trim();
  const info = lookupKey(key);
  if (!info?.values?.length) return [];
  const vs = eq + 1 + /^\s*/.exec(line.slice(eq + 1))![0].length;
  const range = Range.create(pos.line, Math.min(vs, pos.character), pos.line, Math.max(line.trimEnd().length, pos.character));
  return info.values.map((v, i) => ({
    label: v,
    kind: CompletionItemKind.EnumMember,
    detail: `value of ${info.key}`,
    sortText: String(i).padStart(4, '0'),
    textEdit: { range, newText: v },
  }));
}

export function lxcHover(doc: TextDocument, pos: Position): Hover | null {
  const line = doc.getText(Range.create(pos.line, 0, pos.line + 1, 0)).replace(/\r?\n$/, '');
  const m = /^(\s*)([^\s=#]+)/.exec(line);
  if (!m) return null;
  const start = m[1].length;
  const end = start + m[2].length;
  const eq = line.indexOf('=');
  if (pos.character < start || (eq >= 0 ? pos.character > line.length : pos.character > end)) return null;
  const info = lookupKey(m[2]);
  if (!info) return null;
  return { contents: { kind: MarkupKind.Markdown, value: describeKey(info) }, range: Range.create(pos.line, start, pos.line, end) };
}

export function lxcCodeActions(uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    const rep = (d.data as { replacement?: string } | undefined)?.replacement;
    if (!rep || d.source !== 'lxc.container.conf(5)') continue;
    out.push({
      title: `Change to ${rep}`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [uri]: [{ range: d.range, newText: rep }] } },
    });
  }
  return out;
}
