// Run INSIDE the LXD lab's hub namespace (lxd-cluster.sh exec-hub) by lxd-https.test.ts: the lab's
// HTTPS addresses exist only there. Prints one JSON line with what happened.
import { readFileSync } from 'node:fs';
import { LxdBackend } from '../../../src/core/backends/lxdBackend';
import { makeClientCertificate, trustClient } from '../../../src/core/backends/lxdTrust';
import { presentedCertificate } from '../../../src/core/backends/lxd/client';
import { certificateFingerprint } from '../../../src/core/backends/lxd/transport';

const [url, clusterCertFile, token, otherCertFile] = process.argv.slice(2);

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  const seen = await presentedCertificate(url);
  const pinned = readFileSync(clusterCertFile, 'utf8');
  out.presented = seen.fingerprint;
  out.pinnedMatches = seen.fingerprint === certificateFingerprint(pinned);
  const client = await makeClientCertificate();
  out.clientFingerprint = certificateFingerprint(client.cert);
  const creds = await trustClient(url, seen.pem, client, { token });
  const b = new LxdBackend({ id: 'lxd/tls', type: 'lxd', url, fingerprint: seen.fingerprint }, { credentials: async () => creds });
  await b.connect();
  out.instances = (await b.list()).length;
  out.members = b.members().map((m) => `${m.name}:${m.status}`);
  await b.close();
  // the same client with another certificate pinned: refused before any request
  const wrong = new LxdBackend(
    { id: 'lxd/wrong', type: 'lxd', url },
    { credentials: async () => ({ ...creds, serverCert: readFileSync(otherCertFile, 'utf8') }) },
  );
  out.wrongPin = await wrong.connect().then(
    () => 'connected',
    (e: Error) => e.message,
  );
  await wrong.close();
  console.log(JSON.stringify(out));
}

void main().catch((e: Error) => {
  console.log(JSON.stringify({ error: e.message }));
  process.exitCode = 1;
});
