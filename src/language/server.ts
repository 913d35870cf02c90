// virtscope's language server (a separate Node process, bundled to dist/server.js; the extension
// starts it through vscode-languageclient over IPC, tests over stdio). Serves libvirt XML
// (languageId xml) and LXC container configs (languageId lxc-config).
//   initializationOptions: { schemaDir?: string, xmllint?: string, debounceMs?: number }
import {
  CodeActionKind,
  createConnection,
  Diagnostic,
  InitializeResult,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { findSchemaDir } from '../core/schema/model';
import { lxcCodeActions, lxcCompletion, lxcDiagnostics, lxcHover } from './lxcService';
import { XmlService } from './xmlService';

interface InitOptions {
  schemaDir?: string;
  xmllint?: string;
  debounceMs?: number;
}

const t0 = Date.now();
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let xml: XmlService = new XmlService({ schemaDir: findSchemaDir() });
let debounceMs = 200;
const timers = new Map<string, NodeJS.Timeout>();

function isLxc(doc: TextDocument): boolean {
  return doc.languageId === 'lxc-config';
}

connection.onInitialize((params): InitializeResult => {
  const o = (params.initializationOptions ?? {}) as InitOptions;
  const schemaDir = o.schemaDir ?? findSchemaDir();
  xml = new XmlService({ schemaDir, xmllint: o.xmllint });
  if (typeof o.debounceMs === 'number') debounceMs = o.debounceMs;
  connection.console.info(`virtscope language server: schemas ${schemaDir ?? '(none found)'}, xmllint ${o.xmllint ?? 'xmllint'}`);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['<', ' ', '"', "'", '/', '.', '='] },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'virtscope-language-server', version: '1' },
  };
});

connection.onInitialized(() => {
  connection.console.info(`virtscope language server ready in ${Date.now() - t0} ms`);
});

async function validate(doc: TextDocument): Promise<void> {
  const version = doc.version;
  let diagnostics: Diagnostic[];
  try {
    diagnostics = isLxc(doc) ? lxcDiagnostics(doc) : await xml.diagnostics(doc);
  } catch (e) {
    connection.console.error(`validating ${doc.uri}: ${(e as Error).stack ?? e}`);
    return;
  }
  // a newer version is on its way: its own run publishes
  const now = documents.get(doc.uri);
  if (!now || now.version !== version) return;
  await connection.sendDiagnostics({ uri: doc.uri, version, diagnostics });
}

function schedule(doc: TextDocument, delay: number): void {
  clearTimeout(timers.get(doc.uri));
  timers.set(
    doc.uri,
    setTimeout(() => {
      timers.delete(doc.uri);
      void validate(doc);
    }, delay),
  );
}

documents.onDidOpen((e) => schedule(e.document, 0));
documents.onDidChangeContent((e) => schedule(e.document, debounceMs));
documents.onDidClose((e) => {
  clearTimeout(timers.get(e.document.uri));
  timers.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onCompletion((p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc) return [];
  return isLxc(doc) ? lxcCompletion(doc, p.position) : xml.completion(doc, p.position);
});

connection.onHover((p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc) return null;
  return isLxc(doc) ? lxcHover(doc, p.position) : xml.hover(doc, p.position);
});

connection.onCodeAction((p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !isLxc(doc)) return [];
  return lxcCodeActions(p.textDocument.uri, p.context.diagnostics);
});

documents.listen(connection);
connection.listen();
