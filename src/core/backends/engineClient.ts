// The one way to make a Docker/Podman API client (backend, exec, metrics): a deadline on every
// ordinary request, none on long-lived streams (events, exec output), which may be idle for hours.
import Docker from 'dockerode';

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
export function engineClient(socketPath: string, requestTimeoutMs = ENGINE_REQUEST_TIMEOUT_MS): Docker {
  const docker = new Docker({ socketPath });
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
