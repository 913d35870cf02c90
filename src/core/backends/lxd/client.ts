// virtscope's own LXD / Incus REST client: JSON over HTTP on the daemon's unix socket (here, or on a
// host reached over SSH) or HTTPS with a client certificate and a pinned server certificate; async
// answers followed to their end through their operation; events and exec/console over websockets
// (`ws`). It speaks the `/1.0` API that LXD and Incus share; features are found by `api_extensions`.
import * as http from 'node:http';
import * as https from 'node:https';
import WebSocket from 'ws';
import { LxdCancelledError, LxdChangedError, LxdConnectError, LxdError, LxdNotCancellableError } from './errors';
import { EventDeduplicator } from './events';
import { endpointAgent, endpointLabel, endpointOrigin, type LxdEndpoint } from './transport';
import type { LxdEvent, LxdOperation, LxdResponse } from './types';

export { LxdError, LxdChangedError, LxdCancelledError, LxdNotCancellableError, LxdConnectError, LxdCertificateMismatchError } from './errors';
export { certificateFingerprint, presentedCertificate, type LxdEndpoint } from './transport';

/** Ordinary requests get an answer within this or fail; a wait on an operation gets its own deadline. */
export const LXD_REQUEST_TIMEOUT_MS = 30_000;

export interface LxdRequestOptions {
  signal?: AbortSignal;
  /** The project (LXD's `?project=`); the server's default project when absent. */
  project?: string;
  /** The cluster member to run it on (LXD's `?target=`). */
  target?: string;
  /** For PUT/PATCH: the ETag read with the object; a concurrent change then fails with LxdChangedError. */
  etag?: string;
  timeoutMs?: number;
}

export interface LxdRunOptions extends Omit<LxdRequestOptions, 'etag'> {
  /** Called with the operation as it changes (its metadata carries LXD's progress). */
  onProgress?: (op: LxdOperation) => void;
}

export interface LxdEventOptions {
  /** "lifecycle", "operation", "logging"; every type when absent. */
  types?: string[];
  project?: string;
  /** Events of every project (LXD's `all-projects`). */
  allProjects?: boolean;
}

export interface LxdEventSubscription {
  /** Settles when the websocket is open (rejects when it could not be opened). */
  readonly ready: Promise<void>;
  close(): void;
}

interface Exchange<T> {
  response: LxdResponse<T>;
  etag?: string;
}

const isFinal = (op: LxdOperation) => op.status_code >= 200;

/**
 * Set on every request and websocket: VS Code's extension host patches http(s).request to replace
 * the agent by its proxy agent (http.proxySupport "override", its default), which would dial "lxd"
 * or the server's address itself, without the socket, the pinned certificate or the client key. It
 * leaves requests with a socketPath alone; the endpoint's agent dials and ignores the value.
 */
const KEEP_OUR_AGENT = { socketPath: '/virtscope-lxd-endpoint' };

export class LxdClient {
  /** Where it talks to, for messages. */
  readonly label: string;
  private readonly agent: http.Agent;
  private readonly wsAgent: http.Agent;
  private readonly origin: URL;
  private readonly sockets = new Set<WebSocket>();
  private readonly log: (msg: string) => void;
  private closed = false;

  constructor(
    readonly endpoint: LxdEndpoint,
    opts: { log?: (msg: string) => void } = {},
  ) {
    this.label = endpointLabel(endpoint);
    this.agent = endpointAgent(endpoint, true);
    this.wsAgent = endpointAgent(endpoint, false, true);
    this.origin = endpointOrigin(endpoint);
    this.log = opts.log ?? (() => undefined);
  }

  /** GET, and the object's ETag (for a later PUT that must not overwrite a concurrent change). */
  async get<T>(path: string, opts: Omit<LxdRequestOptions, 'etag'> = {}): Promise<{ metadata: T; etag?: string }> {
    const { response, etag } = await this.exchange<T>('GET', path, undefined, opts);
    return { metadata: response.metadata, etag };
  }

  /** A GET whose answer is not JSON (the OpenMetrics text of /1.0/metrics). */
  async getText(path: string, opts: Omit<LxdRequestOptions, 'etag'> = {}): Promise<string> {
    const full = withQuery(path, opts.project, opts.target);
    const { status, text } = await this.send('GET', full, undefined, opts, `GET ${full}`);
    if (status < 400) return text;
    const parsed = parseJson<LxdResponse<unknown>>(text);
    throw errorFor(status, `GET ${full}`, parsed?.error ?? text.slice(0, 200), parsed?.error_code);
  }

  /** One request; an error answer (type "error" or HTTP >= 400) rejects with LxdError. */
  async request<T>(method: string, path: string, body?: unknown, opts: LxdRequestOptions = {}): Promise<LxdResponse<T>> {
    return (await this.exchange<T>(method, path, body, opts)).response;
  }

  /**
   * A request whose answer may be an operation: followed to its end (reporting progress), resolving
   * with the finished operation, or with the metadata of a sync answer. Aborting `signal` asks LXD to
   * cancel it; where LXD cannot, this rejects with LxdNotCancellableError saying so.
   */
  async run<T>(method: string, path: string, body?: unknown, opts: LxdRunOptions = {}): Promise<LxdOperation | T> {
    const res = await this.request<T | LxdOperation>(method, path, body, opts);
    if (res.type !== 'async') return res.metadata as T;
    return this.follow(res.metadata as LxdOperation, `${method} ${path}`, opts);
  }

  /** Waits for an operation (by its id or as returned by an async answer) to end. */
  async follow(op: LxdOperation, what: string, opts: LxdRunOptions = {}): Promise<LxdOperation> {
    const { signal, onProgress, project } = opts;
    const waitS = onProgress ? 1 : 30;
    let last = op;
    onProgress?.(op);
    while (!isFinal(last)) {
      if (signal?.aborted) return this.cancel(last, what, project);
      try {
        const path = `/1.0/operations/${encodeURIComponent(op.id)}/wait?timeout=${waitS}`;
        const next = (await this.get<LxdOperation>(path, { signal, project, timeoutMs: (waitS + 15) * 1000 })).metadata;
        if (changed(last, next)) onProgress?.(next);
        last = next;
      } catch (e) {
        if (signal?.aborted) return this.cancel(last, what, project);
        throw e;
      }
    }
    return finished(last, what);
  }

  private async cancel(op: LxdOperation, what: string, project?: string): Promise<LxdOperation> {
    const opPath = `/1.0/operations/${encodeURIComponent(op.id)}`;
    try {
      await this.request('DELETE', opPath, undefined, { project });
    } catch (e) {
      if (e instanceof LxdError && e.status !== 404) throw new LxdNotCancellableError(what, op.description, e.lxdMessage, op.location);
      if (!(e instanceof LxdError)) throw e;
    }
    this.log(`cancelled ${op.description} (${op.id})`);
    const end = await this.get<LxdOperation>(`${opPath}/wait?timeout=5`, { project }).then(
      (r) => r.metadata,
      () => undefined,
    );
    if (end && end.status === 'Success') return end; // it ended before the cancel reached it
    if (end && end.status === 'Failure') return finished(end, what);
    throw new LxdCancelledError(what, op.description);
  }

  /**
   * The events websocket: lifecycle and operation events of every member, each delivered once (a
   * copy emitted by another member is dropped). `onClose` runs once: with the error when the stream
   * broke, without one after close().
   */
  events(opts: LxdEventOptions, onEvent: (e: LxdEvent) => void, onClose: (err?: Error) => void): LxdEventSubscription {
    const q = new URLSearchParams();
    if (opts.types?.length) q.set('type', opts.types.join(','));
    if (opts.project) q.set('project', opts.project);
    if (opts.allProjects) q.set('all-projects', 'true');
    const dedup = new EventDeduplicator();
    let ws: WebSocket | undefined;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      onClose(err);
    };
    const ready = this.websocket(`/1.0/events${q.size ? `?${q}` : ''}`).then((socket) => {
      ws = socket;
      if (done) return socket.close();
      socket.on('message', (data) => {
        const e = parseEvent(data.toString());
        if (e && dedup.accept(e)) onEvent(e);
      });
      socket.on('error', (e) => finish(new LxdConnectError(this.label, `the event stream broke: ${e.message}`, { cause: e })));
      socket.on('close', () => finish(this.closed ? undefined : new LxdConnectError(this.label, 'the event stream was closed by the server')));
    });
    ready.catch((e: Error) => finish(e));
    const opened = ready.then(() => undefined);
    opened.catch(() => undefined); // reported through onClose: a caller need not await `ready`
    return {
      ready: opened,
      close: () => {
        finish();
        ws?.close();
      },
    };
  }

  /**
   * A websocket to `path` over the same endpoint (events, exec and console streams). It resolves
   * paused and resumes once the caller's continuation has run, so handlers attached right after the
   * `await` miss no message.
   */
  websocket(path: string): Promise<WebSocket> {
    // always as ws+unix, HTTPS too: ws then sets a socketPath, which VS Code's proxy patch leaves alone
    // (ws drops one given in the options; a wss:// request lost its agent to the patch, and with it the
    // pinned certificate and the client key). The agent dials, whatever the path says: TLS for HTTPS.
    const ws = new WebSocket(`ws+unix://${KEEP_OUR_AGENT.socketPath}:${path}`, { agent: this.wsAgent, handshakeTimeout: 15_000, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e instanceof LxdError || e.name.startsWith('Lxd') ? e : new LxdConnectError(this.label, e.message, { cause: e }));
      ws.on('error', onError);
      ws.once('unexpected-response', (_req, res) => {
        readBody(res).then((text) => {
          const parsed = parseJson<LxdResponse<unknown>>(text);
          reject(errorFor(res.statusCode ?? 0, `GET ${path}`, parsed?.error ?? text.slice(0, 200), parsed?.error_code));
          ws.terminate();
        }, onError);
      });
      ws.once('open', () => {
        ws.off('error', onError);
        this.sockets.add(ws);
        ws.once('close', () => this.sockets.delete(ws));
        ws.pause();
        resolve(ws);
        setImmediate(() => ws.resume());
      });
    });
  }

  /** Closes kept connections and open websockets. */
  close(): void {
    this.closed = true;
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.agent.destroy();
    this.wsAgent.destroy();
  }

  private async exchange<T>(method: string, path: string, body: unknown, opts: LxdRequestOptions): Promise<Exchange<T>> {
    const full = withQuery(path, opts.project, opts.target);
    const what = `${method} ${full}`;
    const t0 = performance.now();
    const { status, headers, text } = await this.send(method, full, body, opts, what);
    this.log(`${what} -> ${status} (${Math.round(performance.now() - t0)} ms)`);
    const parsed = parseJson<LxdResponse<T>>(text);
    if (!parsed || typeof parsed !== 'object' || !('type' in parsed)) {
      throw new LxdConnectError(this.label, `the answer to ${what} (HTTP ${status}) is not LXD's: ${text.slice(0, 200) || '(empty)'}`);
    }
    if (parsed.type === 'error' || status >= 400) throw errorFor(parsed.error_code || status, what, parsed.error ?? '', parsed.error_code);
    const etag = headers.etag;
    return { response: parsed, etag: typeof etag === 'string' ? etag : undefined };
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    opts: LxdRequestOptions,
    what: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (data) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    if (opts.etag) headers['If-Match'] = opts.etag;
    const timeoutMs = opts.timeoutMs ?? LXD_REQUEST_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const request = this.endpoint.kind === 'https' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        { agent: this.agent, ...KEEP_OUR_AGENT, method, host: this.origin.hostname, port: this.origin.port || undefined, path, headers, signal },
        (res) => {
          readBody(res).then((text) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }), reject);
        },
      );
      req.on('error', (e: Error) => {
        if (opts.signal?.aborted) return reject(opts.signal.reason ?? e);
        if (timeout.aborted) return reject(new LxdConnectError(this.label, `no answer to ${what} within ${timeoutMs / 1000} s`));
        reject(e.name.startsWith('Lxd') ? e : new LxdConnectError(this.label, e.message, { cause: e }));
      });
      req.end(data);
    });
  }
}

const changed = (a: LxdOperation, b: LxdOperation) =>
  a.updated_at !== b.updated_at || a.status !== b.status || JSON.stringify(a.metadata) !== JSON.stringify(b.metadata);

function finished(op: LxdOperation, what: string): LxdOperation {
  if (op.status === 'Cancelled') throw new LxdCancelledError(what, op.description);
  if (op.status_code >= 400) throw new LxdError(op.status_code, what, op.err || op.status);
  return op;
}

function errorFor(status: number, what: string, message: string, code?: number): LxdError {
  if (status === 412) return new LxdChangedError(what, message);
  return new LxdError(status, what, message, code);
}

/** `path` with LXD's project and target parameters added to any query it has. */
export function withQuery(path: string, project?: string, target?: string): string {
  if (!project && !target) return path;
  const u = new URL(path, 'http://lxd');
  if (project) u.searchParams.set('project', project);
  if (target) u.searchParams.set('target', target);
  return `${u.pathname}${u.search}`;
}

export function parseEvent(text: string): LxdEvent | undefined {
  const e = parseJson<LxdEvent>(text);
  return e && typeof e === 'object' && typeof e.type === 'string' && e.metadata && typeof e.metadata === 'object' ? e : undefined;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
