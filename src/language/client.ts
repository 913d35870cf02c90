// Starts virtscope's language server (dist/server.js, a separate Node process over IPC) with
// vscode-languageclient — only once a document it serves is open: libvirt XML in virtscope's own
// schemes, and LXC configs anywhere.
import * as vscode from 'vscode';
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { DOCUMENT_SCHEMAS, DocumentSchemasParams } from './notifications';

/** vscode-languageclient loads with the first document the server serves (the build makes it dist/languageclient.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, by design
const languageClient = (): typeof import('vscode-languageclient/node') => require('vscode-languageclient/node');

export const LXC_LANGUAGE = 'lxc-config';
/** Editable libvirt definitions: XML with its own id, so auto-save can be off for them alone. */
export const LIBVIRT_XML_LANGUAGE = 'libvirt-xml';

export function documentSelector(schemes: readonly string[]): Array<{ scheme?: string; language: string }> {
  return [...schemes.map((scheme) => ({ scheme, language: 'xml' })), { language: LIBVIRT_XML_LANGUAGE }, { language: LXC_LANGUAGE }];
}

export class VirtscopeLanguageClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly schemes: readonly string[],
  ) {
    this.subs.push(vscode.workspace.onDidOpenTextDocument((d) => this.maybeStart(d)));
    for (const d of vscode.workspace.textDocuments) this.maybeStart(d);
  }

  private serves(d: vscode.TextDocument): boolean {
    return d.languageId === LXC_LANGUAGE || d.languageId === LIBVIRT_XML_LANGUAGE || (d.languageId === 'xml' && this.schemes.includes(d.uri.scheme));
  }

  private maybeStart(d: vscode.TextDocument): void {
    if (!this.client && !this.starting && this.serves(d)) void this.start();
  }

  /** Starts the server (once); resolves when it is ready. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const t0 = Date.now();
      const { LanguageClient, TransportKind } = languageClient();
      const module = this.context.asAbsolutePath('dist/server.js');
      const serverOptions: ServerOptions = {
        run: { module, transport: TransportKind.ipc },
        debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
      };
      const clientOptions: LanguageClientOptions = {
        documentSelector: documentSelector(this.schemes),
        outputChannel: this.log,
        initializationOptions: {},
      };
      const client = new LanguageClient('virtscope.language', 'virtscope language server', serverOptions, clientOptions);
      try {
        await client.start();
        this.client = client;
        this.log.info(`language server started in ${Date.now() - t0} ms (${module})`);
      } catch (e) {
        this.log.error(`language server did not start: ${e instanceof Error ? e.message : String(e)}`);
        this.starting = undefined;
        throw e;
      }
    })();
    return this.starting;
  }

  /** Validates `uri` against the schemas in `schemaDir` (a remote host's own); undefined: the default again. */
  async useSchemas(uri: vscode.Uri, schemaDir: string | undefined, host?: string): Promise<void> {
    await this.start();
    const p: DocumentSchemasParams = { uri: uri.toString(), schemaDir, host };
    await this.client?.sendNotification(DOCUMENT_SCHEMAS, p);
  }

  get running(): boolean {
    return !!this.client?.isRunning();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    void this.client?.stop().catch(() => undefined);
  }
}
