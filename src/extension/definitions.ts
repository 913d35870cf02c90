// Read-only definition documents (domain XML, LXC config, container inspect JSON), served from the
// host under the `virtscope-def` scheme so nothing is written to disk.
import * as vscode from 'vscode';
import { DefinitionLanguage } from '../core/model';
import { Connections } from './connections';

export const DEF_SCHEME = 'virtscope-def';

const EXT: Record<DefinitionLanguage, string> = { xml: 'xml', json: 'json', 'lxc-config': 'conf', yaml: 'yaml' };

/** virtscope-def:/<connection>/<name>.<ext>?<guest id> */
export function definitionUri(connId: string, guestName: string, guestId: string, language: DefinitionLanguage): vscode.Uri {
  const safe = guestName.replace(/[/\\]/g, '_');
  return vscode.Uri.from({
    scheme: DEF_SCHEME,
    path: `/${encodeURIComponent(connId)}/${safe}.${EXT[language]}`,
    query: new URLSearchParams({ conn: connId, guest: guestId }).toString(),
  });
}

export class DefinitionProvider implements vscode.TextDocumentContentProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly connections: Connections) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const conn = this.connections.byId(q.get('conn') ?? '');
    if (!conn) throw new Error(`No connection "${q.get('conn')}" (was it removed from virtscope.connections?)`);
    const def = await conn.requireBackend().definition(q.get('guest') ?? '');
    return def.text;
  }

  refresh(uri: vscode.Uri): void {
    this.emitter.fire(uri);
  }
}
