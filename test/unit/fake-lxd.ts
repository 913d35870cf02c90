// A small fake LXD on a unix socket (HTTP and websockets), for what the real daemon cannot do on
// demand (an operation that never ends, a reply that hangs or is not LXD's) and to replay answers
// recorded from the real one (test/unit/fixtures/lxd/). Leaves nothing behind after close().
import * as fs from 'node:fs';
import * as http from 'node:http';
import httpModule from 'node:http';
import httpsModule from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocketServer } from 'ws';
import { LxdClient } from '../../src/core/backends/lxd/client';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

export async function fakeLxd(handler: Handler) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-lxd-'));
  const socketPath = path.join(dir, 'unix.socket');
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, body, res);
    });
  });
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(socketPath, r));
  const client = new LxdClient({ kind: 'unix', socketPath });
  return {
    client,
    socketPath,
    seen,
    wss,
    async close() {
      client.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
export const sync = (res: http.ServerResponse, metadata: unknown) =>
  json(res, 200, { type: 'sync', status: 'Success', status_code: 200, operation: '', error_code: 0, error: '', metadata });
export const lxdError = (res: http.ServerResponse, code: number, error: string) =>
  json(res, code, { type: 'error', status: '', status_code: 0, operation: '', error_code: code, error, metadata: null });

/** A recorded answer of the real LXD (test/unit/fixtures/lxd/NAME.json): { request, status, body }. */
export function recorded<T = unknown>(name: string): { request: string; status: number; body: T } {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'lxd', `${name}.json`), 'utf8'));
}

/** Answers with a recorded answer, as the real LXD gave it. */
export function replay(res: http.ServerResponse, name: string): void {
  const r = recorded(name);
  if (typeof r.body !== 'string') return json(res, r.status, r.body);
  // a text answer (the OpenMetrics of /1.0/metrics)
  res.writeHead(r.status, { 'Content-Type': 'text/plain; version=0.0.4' });
  res.end(r.body);
}

/** A fake LXD answering each "METHOD path-prefix" with a recorded answer (by name), or a function's; the first prefix that matches wins. */
export async function replaying(routes: [string, string | ((res: http.ServerResponse) => void)][]) {
  return fakeLxd((req, _b, res) => {
    const asked = `${req.method} ${req.url}`;
    const hit = routes.find(([prefix]) => asked.startsWith(prefix));
    if (!hit) return void res.writeHead(500).end(`no recorded answer for ${asked}`);
    if (typeof hit[1] === 'string') replay(res, hit[1]);
    else hit[1](res);
  });
}

/**
 * What VS Code's extension host does to http(s).request (@vscode/proxy-agent, http.proxySupport
 * "override", its default): a request without a socketPath gets the proxy agent instead of its own.
 * Emulated with a plain agent of the module's kind; returns the undo.
 */
export function vscodeProxyPatch(): () => void {
  const originals = { http: httpModule.request, https: httpsModule.request };
  const patch = (mod: typeof httpModule | typeof httpsModule, original: typeof http.request, Agent: typeof http.Agent) =>
    function (this: unknown, ...args: unknown[]) {
      const o = (typeof args[0] === 'object' && !(args[0] instanceof URL) ? args[0] : args[1]) as http.RequestOptions | undefined;
      if (o && !o.socketPath) o.agent = new Agent();
      return (original as (...a: unknown[]) => http.ClientRequest).apply(mod, args);
    } as typeof http.request;
  httpModule.request = patch(httpModule, originals.http, httpModule.Agent);
  httpsModule.request = patch(
    httpsModule,
    originals.https as typeof http.request,
    httpsModule.Agent as unknown as typeof http.Agent,
  ) as typeof httpsModule.request;
  return () => {
    httpModule.request = originals.http;
    httpsModule.request = originals.https;
  };
}
