// The extension activates in a real VS Code, registers its commands and opens the default connections.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { connectAll, describeConnections, EXTENSION_ID, getApi } from './helpers';

describe('activation', () => {
  it('activates and returns the {model, connections, tree} API', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    const api = await getApi();
    assert.equal(ext.isActive, true);
    assert.ok(Array.isArray(api.connections.all));
    assert.equal(typeof api.model.guests, 'function');
  });

  it('registers every command contributed in package.json', async () => {
    await getApi();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed: string[] = ext.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    assert.ok(contributed.length >= 12, `package.json contributes ${contributed.length} commands`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `commands in package.json but not registered: ${missing.join(', ')}`);
  });

  it('lists every default connection under "This machine", the root of the tree, and connects them', async function () {
    this.timeout(30_000);
    const api = await getApi();
    // the defaults a user gets: package.json's default of `virtscope.connections`
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const defaults: Array<{ id: string; label: string; uri?: string }> = ext.packageJSON.contributes.configuration.properties['virtscope.connections'].default;
    assert.deepEqual(
      defaults.map((d) => d.uri ?? d.id),
      ['qemu:///system', 'lxc:///system', 'lxc-tools', 'containers', 'test+unix:///default'],
    );
    const ids = api.connections.all.map((c) => c.config.id);
    assert.deepEqual(
      ids,
      defaults.map((c) => c.id),
    );
    // the top level is hosts: this machine first (no remote host is configured in the e2e settings)
    const hosts = api.tree.getChildren();
    assert.deepEqual(
      hosts.map((n) => (n.kind === 'host' ? n.host.id : `${n.kind}?`)),
      ['local'],
    );
    assert.equal(api.tree.getTreeItem(hosts[0]).label, 'This machine');
    await connectAll(api);
    const conns = api.tree.getChildren(hosts[0]);
    assert.deepEqual(
      conns.map((n) => (n.kind === 'connection' ? n.conn.config.id : `${n.kind}?`)),
      ids,
    );
    for (const [i, c] of api.connections.all.entries()) {
      const item = api.tree.getTreeItem(conns[i]);
      assert.equal(item.label, defaults[i].label);
      assert.equal(c.config.uri, defaults[i].uri);
    }
    assert.ok(
      api.connections.all.every((c) => c.status.state === 'connected'),
      describeConnections(api.connections.all),
    );
  });
});
