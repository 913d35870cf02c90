// Trusting virtscope on an LXD (or Incus) server over HTTPS, as `lxc remote add` does: a client
// certificate made here (openssl, argv only), sent with the server's join token or trust password to
// POST /1.0/certificates over a connection pinned to the server certificate the user saw and accepted.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { BackendError } from '../model';
import { LxdApi } from './lxd/api';
import { LxdClient } from './lxd/client';
import type { LxdCredentials } from './lxdBackend';

const run = promisify(execFile);

/** A new self-signed client certificate and its key (EC P-384, 10 years, CN=virtscope), never written to disk (both on openssl's stdout). */
export async function makeClientCertificate(): Promise<{ cert: string; key: string }> {
  const { stdout } = await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp384r1',
      '-sha384',
      '-nodes',
      '-keyout',
      '-',
      '-days',
      '3650',
      '-subj',
      '/CN=virtscope',
    ],
    { timeout: 20_000 },
  );
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(stdout)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(stdout)?.[0];
  if (!key || !cert) throw new BackendError('openssl made no certificate');
  return { cert, key };
}

export type TrustSecret = { readonly token: string } | { readonly password: string };

/**
 * Makes the server trust `client` (with a join token or the trust password), unless it does already.
 * Resolves with the credentials to keep; rejects with LXD's own refusal.
 */
export async function trustClient(url: string, serverCert: string, client: { cert: string; key: string }, secret: TrustSecret): Promise<LxdCredentials> {
  const creds: LxdCredentials = { clientCert: client.cert, clientKey: client.key, serverCert };
  const lxd = new LxdClient({ kind: 'https', url, ...creds });
  try {
    const api = new LxdApi(lxd);
    if ((await api.server()).auth === 'trusted') return creds;
    const certificate = new X509Certificate(client.cert).raw.toString('base64');
    // LXD 5.0 takes the join token as `password`; newer LXD and Incus as `trust_token`
    const body = 'token' in secret ? { password: secret.token, trust_token: secret.token } : { password: secret.password };
    await lxd.request('POST', '/1.0/certificates', { type: 'client', name: 'virtscope', certificate, ...body });
    if ((await api.server()).auth !== 'trusted') throw new BackendError(`${url} took the certificate but does not trust it`);
    return creds;
  } finally {
    lxd.close();
  }
}
