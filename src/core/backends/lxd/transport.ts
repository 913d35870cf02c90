// How bytes reach an LXD (or Incus) daemon: its unix socket (on this machine, or on a host reached
// over SSH through Host.connectUnix), or HTTPS with a client certificate and the server certificate
// PINNED. A cluster certificate names only the machine's hostname, so identity is checked against the
// pinned certificate itself (its SHA-256 fingerprint, as `lxc` shows it), never by DNS name, and the
// check runs before the socket is handed to HTTP: a wrong server never sees a request.
import { createHash, X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Host } from '../../host/host';
import { isThisMachine } from '../reach';
import { LxdCertificateMismatchError, LxdConnectError } from './errors';

export type LxdEndpoint =
  | { kind: 'unix'; socketPath: string; host?: Host }
  | {
      kind: 'https';
      /** "https://10.0.0.5:8443" */
      url: string;
      /** PEM of the client certificate and its key (trusted by the server with `lxc config trust add`). */
      clientCert: string;
      clientKey: string;
      /** PEM of the server's (or cluster's) certificate: pinned. */
      serverCert: string;
      /** SNI name to send, when the server wants one. */
      serverName?: string;
    };

/** LXD's fingerprint of a certificate: SHA-256 of its DER bytes, lowercase hex. */
export function certificateFingerprint(certPemOrDer: string | Buffer): string {
  const der = typeof certPemOrDer === 'string' ? new X509Certificate(certPemOrDer).raw : certPemOrDer;
  return createHash('sha256').update(der).digest('hex');
}

/** Where an endpoint is, for messages: "/var/lib/lxd/unix.socket on kvm1", "https://10.0.0.5:8443". */
export function endpointLabel(ep: LxdEndpoint): string {
  if (ep.kind === 'https') return ep.url;
  return isThisMachine(ep.host) ? ep.socketPath : `${ep.socketPath} on ${ep.host!.label}`;
}

type Connect = (done: (err: Error | null, socket?: Duplex) => void) => void;

/** The dialer of an endpoint: one new stream per call. */
function dialer(ep: LxdEndpoint): Connect {
  if (ep.kind === 'https') return pinnedTlsDialer(ep);
  const { socketPath, host } = ep;
  if (!isThisMachine(host)) {
    return (done) =>
      host!.connectUnix(socketPath).then(
        (s) => done(null, s),
        (e: Error) => done(new LxdConnectError(endpointLabel(ep), e.message, { cause: e })),
      );
  }
  return (done) => {
    const s = net.connect(socketPath);
    const onError = (e: Error) => done(new LxdConnectError(socketPath, e.message, { cause: e }));
    s.once('error', onError);
    s.once('connect', () => {
      s.off('error', onError);
      done(null, s);
    });
  };
}

function pinnedTlsDialer(ep: Extract<LxdEndpoint, { kind: 'https' }>): Connect {
  const url = new URL(ep.url);
  const pinned = certificateFingerprint(ep.serverCert);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 8443);
  return (done) => {
    const s = tls.connect({
      host,
      port,
      cert: ep.clientCert,
      key: ep.clientKey,
      // the chain is not checked by a CA: the presented certificate must BE the pinned one
      rejectUnauthorized: false,
      servername: ep.serverName ?? (net.isIP(host) ? undefined : host),
      ALPNProtocols: ['http/1.1'],
    });
    const onError = (e: Error) => done(new LxdConnectError(ep.url, e.message, { cause: e }));
    s.once('error', onError);
    s.once('secureConnect', () => {
      s.off('error', onError);
      const raw = s.getPeerCertificate()?.raw;
      const presented = raw ? certificateFingerprint(raw) : '(none)';
      if (presented !== pinned) {
        s.destroy();
        return done(new LxdCertificateMismatchError(ep.url, presented, pinned));
      }
      done(null, s);
    });
  };
}

/**
 * An HTTP(S) agent whose every connection comes from the endpoint's dialer; `keepAlive` for REST
 * requests (one connection reused, the cheap path), off for websockets (each keeps its own).
 * `plain`: an http.Agent even for HTTPS (the dialer does the TLS), for websockets sent as ws+unix.
 */
export function endpointAgent(ep: LxdEndpoint, keepAlive: boolean, plain = false): http.Agent {
  const agent = ep.kind === 'https' && !plain ? new https.Agent({ keepAlive }) : new http.Agent({ keepAlive });
  const dial = dialer(ep);
  agent.createConnection = ((_opts: unknown, done: (err: Error | null, s?: Duplex) => void) => {
    dial(done);
    return undefined;
  }) as unknown as typeof agent.createConnection;
  return agent;
}

/** The base of request URLs: the https origin, or a placeholder host for a unix socket. */
export function endpointOrigin(ep: LxdEndpoint): URL {
  return ep.kind === 'https' ? new URL(ep.url) : new URL('http://lxd');
}

/**
 * The certificate a server presents, without trusting it: what "Add LXD…" shows the user to pin
 * (as `lxc remote add` does). Sends no request.
 */
export function presentedCertificate(url: string, opts: { timeoutMs?: number; serverName?: string } = {}): Promise<{ pem: string; fingerprint: string }> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host,
      port: Number(u.port || 8443),
      rejectUnauthorized: false,
      servername: opts.serverName ?? (net.isIP(host) ? undefined : host),
    });
    s.setTimeout(opts.timeoutMs ?? 10_000, () => s.destroy(new Error('no TLS handshake within the time allowed')));
    s.once('error', (e) => reject(new LxdConnectError(url, e.message, { cause: e })));
    s.once('secureConnect', () => {
      const raw = s.getPeerCertificate()?.raw;
      s.destroy();
      if (!raw) return reject(new LxdConnectError(url, 'the server presented no certificate'));
      const b64 = raw.toString('base64').replace(/(.{64})/g, '$1\n');
      resolve({ pem: `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`, fingerprint: certificateFingerprint(raw) });
    });
  });
}
