// HTTPS with a pinned server certificate, against a local TLS server (loopback) with certificates made
// for the test: the pinned one is accepted and the client certificate reaches the server; any other is
// refused at the handshake, naming the presented fingerprint, before a single request is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { certificateFingerprint, LxdCertificateMismatchError, LxdClient, presentedCertificate } from '../../src/core/backends/lxd/client';
import { vscodeProxyPatch } from './fake-lxd';

function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const [cert, key] = [path.join(dir, `${name}.crt`), path.join(dir, `${name}.key`)];
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    key,
    '-out',
    cert,
  ];
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
}

test('the pinned certificate is accepted, another refused before any request', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-lxdtls-'));
  const server = selfSigned(dir, 'server');
  const other = selfSigned(dir, 'other');
  const client = selfSigned(dir, 'client');
  fs.rmSync(dir, { recursive: true, force: true });
  const seen: string[] = [];
  const srv = https.createServer({ ...server, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push(`${req.method} ${req.url} from ${peer.raw ? certificateFingerprint(peer.raw) : 'nobody'}`);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ type: 'sync', status_code: 200, metadata: { auth: 'trusted' } }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const endpoint = { kind: 'https' as const, url, clientCert: client.cert, clientKey: client.key };
  try {
    const wrong = new LxdClient({ ...endpoint, serverCert: other.cert });
    await assert.rejects(wrong.get('/1.0'), (e: Error) => {
      assert.ok(e instanceof LxdCertificateMismatchError);
      assert.equal(e.presentedFingerprint, certificateFingerprint(server.cert));
      assert.match(
        e.message,
        new RegExp(
          `presented the certificate with fingerprint ${certificateFingerprint(server.cert)}, not the pinned one \\(${certificateFingerprint(other.cert)}\\); nothing was sent`,
        ),
      );
      return true;
    });
    await assert.rejects(wrong.websocket('/1.0/events'), LxdCertificateMismatchError);
    wrong.close();
    assert.deepEqual(seen, [], 'no request reached the server');

    const right = new LxdClient({ ...endpoint, serverCert: server.cert });
    assert.deepEqual((await right.get('/1.0')).metadata, { auth: 'trusted' });
    right.close();
    assert.deepEqual(seen, [`GET /1.0 from ${certificateFingerprint(client.cert)}`]);

    const shown = await presentedCertificate(url);
    assert.equal(shown.fingerprint, certificateFingerprint(server.cert));
    assert.equal(certificateFingerprint(shown.pem), shown.fingerprint);
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});

test("under VS Code's proxy patch of http(s).request, REST and the events websocket keep the pinned TLS and the client certificate", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-lxdtls-'));
  const server = selfSigned(dir, 'server');
  const client = selfSigned(dir, 'client');
  fs.rmSync(dir, { recursive: true, force: true });
  const from = (s: TLSSocket) => {
    const raw = s.getPeerCertificate()?.raw;
    return raw ? certificateFingerprint(raw) : 'nobody';
  };
  const seen: string[] = [];
  const srv = https.createServer({ ...server, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    seen.push(`${req.method} ${req.url} from ${from(req.socket as TLSSocket)}`);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ type: 'sync', status_code: 200, metadata: { auth: 'trusted' } }));
  });
  const wss = new WebSocketServer({ server: srv });
  wss.on('connection', (ws, req) => {
    seen.push(`websocket ${req.url} from ${from(req.socket as TLSSocket)}`);
    ws.send(JSON.stringify({ type: 'lifecycle', timestamp: '', metadata: { action: 'instance-started', source: '/1.0/instances/c1' } }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const lxd = new LxdClient({ kind: 'https', url, clientCert: client.cert, clientKey: client.key, serverCert: server.cert });
  const undo = vscodeProxyPatch();
  try {
    assert.deepEqual((await lxd.get('/1.0', { timeoutMs: 3000 })).metadata, { auth: 'trusted' });
    const action = await new Promise<string>((resolve, reject) => {
      const sub = lxd.events(
        { types: ['lifecycle'] },
        (e) => (sub.close(), resolve((e.metadata as { action: string }).action)),
        (err) => err && reject(err),
      );
    });
    assert.equal(action, 'instance-started');
    const me = certificateFingerprint(client.cert);
    assert.deepEqual(seen, [`GET /1.0 from ${me}`, `websocket /1.0/events?type=lifecycle from ${me}`]);
  } finally {
    undo();
    lxd.close();
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});
