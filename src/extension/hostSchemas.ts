// Edit Definition on a remote host validates against that host's own libvirt schemas: when one of its
// libvirt definitions opens, the schemas are copied from the host (once per libvirt version, see
// src/core/schema/hostSchemas.ts) and the language server is told to use them for that document.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LOCAL_HOST_ID } from '../core/hosts';
import { hostSchemas } from '../core/schema/hostSchemas';
import type { VirtscopeLanguageClient } from '../language/client';
import type { EditingDeps } from './editing';

/** The connection id in a definition document's URI (`scheme:/<connection id>/<name>.xml`). */
function connectionIdOf(uri: vscode.Uri): string {
  return decodeURIComponent(uri.path.split('/')[1] ?? '');
}

async function useHostSchemas(doc: vscode.TextDocument, cacheRoot: string, deps: EditingDeps, client: VirtscopeLanguageClient): Promise<void> {
  const conn = deps.connections.byId(connectionIdOf(doc.uri));
  const h = conn && deps.model.hostOf(conn);
  if (!conn || !h || h.id === LOCAL_HOST_ID || conn.config.type !== 'libvirt') return;
  try {
    const s = await hostSchemas(h.host, h.id, cacheRoot);
    if (!s) {
      deps.log.warn(`${h.label}: no libvirt schemas found there; ${doc.uri.path} is validated against this machine's`);
      return;
    }
    deps.log.info(`${h.label}: libvirt ${s.version} schemas ${s.fetched ? 'copied' : 'cached'} in ${s.dir}`);
    await client.useSchemas(doc.uri, s.dir, h.label);
  } catch (e) {
    deps.log.warn(`${h.label}: cannot copy its libvirt schemas (${(e as Error).message}); ${doc.uri.path} is validated against this machine's`);
  }
}

/** Follows opened definition documents of `scheme`; remote libvirt ones get their host's schemas. */
export function followHostSchemas(context: vscode.ExtensionContext, scheme: string, deps: EditingDeps, client: VirtscopeLanguageClient): vscode.Disposable {
  const cacheRoot = path.join(context.globalStorageUri.fsPath, 'schemas');
  const opened = (d: vscode.TextDocument) => {
    if (d.uri.scheme === scheme && d.uri.path.endsWith('.xml')) void useHostSchemas(d, cacheRoot, deps, client);
  };
  for (const d of vscode.workspace.textDocuments) opened(d);
  return vscode.workspace.onDidOpenTextDocument(opened);
}
