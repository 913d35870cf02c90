// The one way to make a Docker/Podman API client (backend, exec, metrics): a deadline on every
// ordinary request, none on long-lived streams (events, exec output), which may be idle for hours.
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type Docker from 'dockerode';
import type { Host } from '../host/host';
import { isThisMachine } from './reach';

/** dockerode loads with the first engine client, not at activation (the build makes it dist/dockerode.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, by design
const dockerode = (): typeof Docker => require('dockerode');

export const ENGINE_REQUEST_TIMEOUT_MS = 15_000;

/** An engine request that got no complete answer within its deadline. */
export class EngineTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly socketPath: string,
    what: string,
    ms: number,
  ) {
    super(`no answer to ${what} within ${Math.round(ms / 100) / 10} s`);
    this.name = 'EngineTimeoutError';
  }
}

interface DialOptions {
  path?: string;
  method?: string;
  isStream?: boolean;
  hijack?: boolean;
  abortSignal?: AbortSignal;
}
type DialCallback = (err: unknown, data?: unknown) => void;
interface Dialer {
  dial(options: DialOptions, callback: DialCallback): void;
}

/**
 * dockerode's own `timeout` is a socket idle timeout that also hits the events stream (an idle
 * engine then "drops" every few seconds), so it is not used. Instead each non-stream request gets
 * an abort deadline. A request that brings its own abortSignal brings its own deadline (e.g. a
 * stop that waits for the container, or an exec bounded by its own timeout).
 */
export function engineClient(socketPath: string, requestTimeoutMs = ENGINE_REQUEST_TIMEOUT_MS, host?: Host): Docker {
  const agent = engineAgent(host);
  const Dockerode = dockerode();
  const docker = agent ? new Dockerode({ socketPath, agent } as Docker.DockerOptions) : new Dockerode({ socketPath });
  const modem = docker.modem as unknown as Dialer;
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    if (options.isStream || options.hijack || options.abortSignal) return dial(options, callback);
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, requestTimeoutMs);
    const what = `${options.method ?? 'GET'} ${(options.path ?? '').replace(/\?$/, '')}`;
    dial({ ...options, abortSignal: ac.signal }, (err, data) => {
      clearTimeout(timer);
      callback(timedOut ? new EngineTimeoutError(socketPath, what, requestTimeoutMs) : err, data);
    });
  };
  return docker;
}

/**
 * For a host that is not this machine: an HTTP agent whose connections are the host's streams to the socket (an SSH forward for a remote
 * host): one per request, as with a local socket path; events and exec streams keep theirs.
 */
export function engineAgent(host: Host | undefined): http.Agent | undefined {
  if (isThisMachine(host)) return undefined; // node opens the socket path itself
  const agent = new http.Agent({ keepAlive: false });
  agent.createConnection = ((options: { socketPath?: string }, done: (err: Error | null, s?: Socket) => void) => {
    host!.connectUnix(options.socketPath ?? '').then(
      (s) => done(null, s as Socket),
      (e: Error) => done(e),
    );
    return undefined;
  }) as unknown as typeof agent.createConnection;
  return agent;
}
