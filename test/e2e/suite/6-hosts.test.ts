// Remote hosts in the real extension host: a `virtscope.hosts` entry becomes a top-level node after
// "This machine"; one that cannot be reached (a closed port on loopback) is unreachable with SSH's own
// reason, and this machine's connections and guests are not disturbed. The setting is put back after.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { connectAll, describeConnections, getApi, waitFor } from './helpers';

const cfg = () => vscode.workspace.getConfiguration('virtscope');

describe('remote hosts', () => {
  after(async () => {
    await cfg().update('hosts', undefined, vscode.ConfigurationTarget.Global);
  });

  it("an unreachable host shows SSH's reason at the top level; this machine is as it was", async function () {
    this.timeout(45_000);
    const api = await getApi();
    await connectAll(api, ['test']);
    const localBefore = api.model.host('local')!.connections;
    await cfg().update('hosts', [{ id: 'nowhere', destination: 'root@127.0.0.1', port: 1 }], vscode.ConfigurationTarget.Global);
    const h = await waitFor(
      () => api.model.host('nowhere'),
      5_000,
      () => 'the host from virtscope.hosts is in the model',
    );
    await waitFor(
      () => h.status.state === 'unreachable',
      30_000,
      () => `nowhere is ${JSON.stringify(h.status)}`,
    );
    assert.match(h.status.state === 'unreachable' ? h.status.reason : '', /port 1: Connection refused/);
    const roots = api.tree.getChildren();
    assert.deepEqual(
      roots.map((n) => api.tree.getTreeItem(n).label),
      ['This machine', 'root@127.0.0.1'],
    );
    assert.equal(api.tree.getTreeItem(roots[1]).description, 'unreachable');
    const kids = api.tree.getChildren(roots[1]).map((n) => String(api.tree.getTreeItem(n).label));
    assert.match(kids[0], /Connection refused/);
    const localNow = api.model.host('local')!.connections;
    assert.ok(localNow.length === localBefore.length && localNow.every((c, i) => c === localBefore[i]), 'the same connections: not rebuilt');
    assert.equal(api.connections.byId('test')?.status.state, 'connected', describeConnections(api.connections.all));
  });
});
