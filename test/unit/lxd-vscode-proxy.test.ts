// Inside VS Code's extension host, http(s).request is patched (@vscode/proxy-agent, http.proxySupport
// "override" by default): a request without a socketPath gets the proxy agent instead of its own, so
// an LXD client dialling through its own agent reached "lxd" (or the server's address) by DNS and TCP,
// without the unix socket, the pinned certificate or the client key. The patch below does what that
// one does to the agent (its own code leaves requests with a socketPath alone); the client must still
// reach the fake daemon, for REST and for the events websocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeLxd, sync, vscodeProxyPatch } from './fake-lxd';

test("the LXD client keeps its own agent under VS Code's proxy patch of http.request (REST and websocket)", async () => {
  const lxd = await fakeLxd((req, _body, res) => sync(res, { api_extensions: [], auth: 'trusted', public: false, api_status: 'stable', api_version: '1.0' }));
  lxd.wss.on('connection', (ws) =>
    ws.send(JSON.stringify({ type: 'lifecycle', timestamp: '', metadata: { action: 'instance-started', source: '/1.0/instances/c1' } })),
  );
  let undo = () => {};
  try {
    undo = vscodeProxyPatch();
    const r = await lxd.client.get<{ auth: string }>('/1.0', { timeoutMs: 3000 });
    assert.equal(r.metadata.auth, 'trusted');
    const got = await new Promise<string>((resolve, reject) => {
      const sub = lxd.client.events(
        {},
        (e) => (sub.close(), resolve((e.metadata as { action: string }).action)),
        (err) => err && reject(err),
      );
    });
    assert.equal(got, 'instance-started');
  } finally {
    undo();
    await lxd.close();
  }
});
