// A minimal LSP client for tests and the bench: builds dist/server.js's bundle into a temp dir
// (the same esbuild options as scripts/build.mjs), spawns it over stdio, and speaks JSON-RPC to it.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { CompletionItem, CompletionList, Diagnostic, Hover, InitializeResult, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

const ROOT = path.resolve(__dirname, '..');

/** Bundles src/language/server.ts once per process (what `npm run build` writes to dist/server.js). */
let bundled: Promise<string> | undefined;
export function serverBundle(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-ls-'));
    // a run that never calls disposeServerBundle() (the bench, a failed test) still leaves nothing
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'server.js');
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'src/language/server.ts')],
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['*.node'],
      logLevel: 'warning',
    });
    return out;
  })();
  return bundled;
}

/** Removes the bundle's temp dir (a later serverBundle() builds it anew). */
export async function disposeServerBundle(): Promise<void> {
  const b = bundled;
  bundled = undefined;
  const file = await b?.catch(() => undefined);
  if (file) await fs.promises.rm(path.dirname(file), { recursive: true, force: true });
}

export class LspClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private waiters: Array<{ uri: string; version?: number; resolve: (p: PublishDiagnosticsParams) => void }> = [];
  private version = new Map<string, number>();
  initializeResult: InitializeResult | undefined;
  stderr = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly rpc: MessageConnection,
  ) {
    rpc.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const list = this.diagnostics.get(p.uri) ?? [];
      list.push(p);
      this.diagnostics.set(p.uri, list);
      this.waiters = this.waiters.filter((w) => {
        if (w.uri !== p.uri || (w.version !== undefined && p.version !== w.version)) return true;
        w.resolve(p);
        return false;
      });
    });
    rpc.onNotification('window/logMessage', () => undefined);
    rpc.onRequest('workspace/configuration', () => []);
    rpc.onRequest('client/registerCapability', () => null);
    rpc.onRequest('window/workDoneProgress/create', () => null);
  }

  /** Spawns the server (`node <bundle> --stdio`). */
  static async start(serverJs?: string): Promise<LspClient> {
    const file = serverJs ?? (await serverBundle());
    const proc = spawn(process.execPath, [file, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const rpc = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const c = new LspClient(proc, rpc);
    proc.stderr!.on('data', (d) => (c.stderr += d));
    rpc.listen();
    return c;
  }

  async initialize(initializationOptions: Record<string, unknown> = {}): Promise<InitializeResult> {
    this.initializeResult = await this.rpc.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        textDocument: {
          completion: { completionItem: { snippetSupport: true } },
          hover: { contentFormat: ['markdown'] },
          publishDiagnostics: { versionSupport: true },
        },
      },
      initializationOptions,
    });
    await this.rpc.sendNotification('initialized', {});
    return this.initializeResult;
  }

  /** Resolves with the next diagnostics published for `uri` (for `version`, if given). */
  nextDiagnostics(uri: string, version?: number, timeoutMs = 15_000): Promise<PublishDiagnosticsParams> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version} within ${timeoutMs} ms; server stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({
        uri,
        version,
        resolve: (p) => {
          clearTimeout(t);
          resolve(p);
        },
      });
    });
  }

  async open(uri: string, languageId: string, text: string): Promise<Diagnostic[]> {
    this.version.set(uri, 1);
    const next = this.nextDiagnostics(uri, 1);
    await this.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return (await next).diagnostics;
  }

  /** Replaces the whole text; resolves with that version's diagnostics. */
  async change(uri: string, text: string): Promise<Diagnostic[]> {
    const v = (this.version.get(uri) ?? 1) + 1;
    this.version.set(uri, v);
    const next = this.nextDiagnostics(uri, v);
    await this.rpc.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
    return (await next).diagnostics;
  }

  async close(uri: string): Promise<void> {
    await this.rpc.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  async completion(uri: string, line: number, character: number): Promise<CompletionItem[]> {
    const r = await this.rpc.sendRequest<CompletionItem[] | CompletionList | null>('textDocument/completion', {
      textDocument: { uri },
      position: { line, character },
    });
    return Array.isArray(r) ? r : (r?.items ?? []);
  }

  hover(uri: string, line: number, character: number): Promise<Hover | null> {
    return this.rpc.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
  }

  async shutdown(): Promise<void> {
    try {
      await Promise.race([this.rpc.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.rpc.sendNotification('exit');
    } catch {
      /* already gone */
    }
    this.rpc.dispose();
    await new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 2000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Position (line, character) of the first occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" is not in the document`);
  const before = text.slice(0, i + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}
