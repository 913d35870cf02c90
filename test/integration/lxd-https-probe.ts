// Run by lxd-client.test.ts INSIDE the LXD lab's hub netns (the members' HTTPS addresses exist only
// there): HTTPS with the trusted client certificate, the untrusted one, and a wrong pinned server
// certificate, against LXD_PROBE_URL (a member that is up). Prints one JSON object of what happened.
import * as fs from 'node:fs';
import { LxdApi } from '../../src/core/backends/lxd/api';
import { LxdClient, type LxdEndpoint } from '../../src/core/backends/lxd/client';
import type { LxdEvent } from '../../src/core/backends/lxd/types';

const e = process.env as Record<string, string>;
const read = (p: string) => fs.readFileSync(p, 'utf8');
const endpoint = (cert: string, key: string, serverCert: string): LxdEndpoint => ({
  kind: 'https',
  url: e.LXD_PROBE_URL ?? e.LXD_HTTPS_1,
  clientCert: read(cert),
  clientKey: read(key),
  serverCert,
});
const outcome = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: true, value: v }),
    (err: Error & { status?: number; lxdMessage?: string; presentedFingerprint?: string }) => ({
      ok: false,
      name: err.name,
      message: err.message,
      status: err.status,
      lxdMessage: err.lxdMessage,
      presented: err.presentedFingerprint,
    }),
  );

async function main() {
  const cluster = read(e.LXD_CLUSTER_CERT);
  const trusted = new LxdClient(endpoint(e.LXD_CLIENT_CERT, e.LXD_CLIENT_KEY, cluster));
  const api = new LxdApi(trusted);
  const server = await outcome(api.server().then((s) => ({ auth: s.auth, clustered: s.environment?.server_clustered })));
  const instances = await outcome(api.instances({ recursion: 1 }).then((l) => l.length));
  const events: LxdEvent[] = [];
  const sub = trusted.events(
    { types: ['lifecycle'] },
    (ev) => events.push(ev),
    () => undefined,
  );
  const eventsOpen = await outcome(sub.ready);
  sub.close();
  trusted.close();

  const untrusted = new LxdClient(endpoint(e.LXD_UNTRUSTED_CERT, e.LXD_UNTRUSTED_KEY, cluster));
  const untrustedServer = await outcome(new LxdApi(untrusted).server().then((s) => s.auth));
  const untrustedInstances = await outcome(new LxdApi(untrusted).instances({ recursion: 1 }));
  untrusted.close();

  // the client certificate stands in for a server certificate that is not the cluster's
  const wrong = new LxdClient(endpoint(e.LXD_CLIENT_CERT, e.LXD_CLIENT_KEY, read(e.LXD_CLIENT_CERT)));
  const wrongPin = await outcome(new LxdApi(wrong).server());
  const wrongPinEvents = await outcome(wrong.websocket('/1.0/events'));
  wrong.close();
  console.log(JSON.stringify({ server, instances, eventsOpen, untrustedServer, untrustedInstances, wrongPin, wrongPinEvents }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
