// virtscope's language server (a separate Node process, bundled to dist/server.js; the extension
// starts it through vscode-languageclient over IPC, tests over stdio). Serves libvirt XML
// (languageId xml) and LXC container configs (languageId lxc-config).
//   initializationOptions: { schemaDir?: string, xmllint?: string, debounceMs?: number }
//   notification virtscope/documentSchemas: a document validated against another host's schemas
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
import { DOCUMENT_SCHEMAS, DocumentSchemasParams } from './notifications';
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
let xmllint: string | undefined;
/** Documents of another host, validated against its schemas (DOCUMENT_SCHEMAS): uri → schema directory. */
const documentSchemas = new Map<string, string>();
/** One service per schema directory (each keeps its schema models). */
const services = new Map<string, XmlService>();
let debounceMs = 200;
const timers = new Map<string, NodeJS.Timeout>();

function isLxc(doc: TextDocument): boolean {
  return doc.languageId === 'lxc-config';
}

connection.onInitialize((params): InitializeResult => {
  const o = (params.initializationOptions ?? {}) as InitOptions;
  const schemaDir = o.schemaDir ?? findSchemaDir();
  xmllint = o.xmllint;
  xml = new XmlService({ schemaDir, xmllint });
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

/** The XML service for a document: its host's schemas when the client named them, else the default. */
function xmlFor(uri: string): XmlService {
  const dir = documentSchemas.get(uri);
  if (!dir) return xml;
  let s = services.get(dir);
  if (!s) services.set(dir, (s = new XmlService({ schemaDir: dir, xmllint })));
  return s;
}

connection.onNotification(DOCUMENT_SCHEMAS, (p: DocumentSchemasParams) => {
  if (typeof p?.uri !== 'string') return;
  if (typeof p.schemaDir === 'string' && p.schemaDir) documentSchemas.set(p.uri, p.schemaDir);
  else documentSchemas.delete(p.uri);
  connection.console.info(`${p.uri}: schemas ${p.schemaDir ?? 'default'}${p.host ? ` (of ${p.host})` : ''}`);
  const doc = documents.get(p.uri);
  if (doc) schedule(doc, 0);
});

async function validate(doc: TextDocument): Promise<void> {
  const version = doc.version;
  let diagnostics: Diagnostic[];
  try {
    diagnostics = isLxc(doc) ? lxcDiagnostics(doc) : await xmlFor(doc.uri).diagnostics(doc);
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
  documentSchemas.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onCompletion((p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc) return [];
  return isLxc(doc) ? lxcCompletion(doc, p.position) : xmlFor(doc.uri).completion(doc, p.position);
});

connection.onHover((p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc) return null;
  return isLxc(doc) ? lxcHover(doc, p.position) : xmlFor(doc.uri).hover(doc, p.position);
});

connection.onCodeAction((p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !isLxc(doc)) return [];
  return lxcCodeActions(p.textDocument.uri, p.context.diagnostics);
});

documents.listen(connection);
connection.listen();
