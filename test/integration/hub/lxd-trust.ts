// Run INSIDE the LXD lab's hub namespace (lxd-cluster.sh exec-hub) by lxd-https.test.ts: the lab's
// HTTPS addresses exist only there. Prints one JSON line with what happened.
import { readFileSync } from 'node:fs';
import { LxdBackend } from '../../../src/core/backends/lxdBackend';
import { makeClientCertificate, trustClient } from '../../../src/core/backends/lxdTrust';
import { presentedCertificate } from '../../../src/core/backends/lxd/client';
import { certificateFingerprint } from '../../../src/core/backends/lxd/transport';

const [url, clusterCertFile, token, otherCertFile] = process.argv.slice(2);

/** A project made and removed over HTTPS: the lifecycle event that says so, read on the events websocket (over the same TLS). */
async function projectEvent(b: LxdBackend): Promise<string> {
  const name = `t-https-${process.pid}`;
  const client = b.api.client;
  let sub: ReturnType<typeof client.events> | undefined;
  const got = new Promise<string>((resolve, reject) => {
    sub = client.events(
      // a project's own events belong to no project: only the all-projects stream has them
      { types: ['lifecycle'], allProjects: true },
      (e) => {
        const md = e.metadata as { action?: string; source?: string };
        if (md.source === `/1.0/projects/${name}`) resolve(String(md.action));
      },
      (err) => err && reject(err),
    );
  });
  try {
    await sub!.ready;
    await client.request('POST', '/1.0/projects', { name, config: {} });
    return await Promise.race([got, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('no event within 5 s')), 5000))]);
  } finally {
    sub?.close();
    await client.request('DELETE', `/1.0/projects/${name}`).catch(() => undefined);
  }
}

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
  out.eventOverHttps = await projectEvent(b);
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
  // a connection left open must not keep the test waiting for its timeout
  process.exit(1);
});
