// Lifecycle verbs through the commands, and changes made outside VS Code, on the test driver's
// domain "test" (always there; the lab guests are not touched here).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { connectAll, ensureTestDomainRunning, getApi, guestNode, virsh, waitFor } from './helpers';

describe('lifecycle on test+unix:///default', () => {
  before(async function () {
    this.timeout(30_000);
    await ensureTestDomainRunning();
    const api = await getApi();
    await connectAll(api, ['test']);
    const node = await guestNode(api, 'test', 'test');
    await waitFor(
      () => node.guest?.state === 'running',
      5_000,
      () => `test is ${node.guest?.state}, expected running`,
    );
  });
  after(async () => {
    await ensureTestDomainRunning();
  });

  it('virtscope.suspend then virtscope.resume change the state and the row', async () => {
    const api = await getApi();
    const node = await guestNode(api, 'test', 'test');
    await vscode.commands.executeCommand('virtscope.suspend', node);
    await waitFor(
      () => node.guest?.state === 'paused',
      3_000,
      () => `after suspend: ${node.guest?.state}`,
    );
    assert.equal((await virsh('domstate', 'test')).trim(), 'paused');
    let item = api.tree.getTreeItem(node);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'debug-pause');
    assert.match(String(item.description), /^paused\b/);
    assert.match(String(item.contextValue), /\bcan-resume\b/);

    await vscode.commands.executeCommand('virtscope.resume', node);
    await waitFor(
      () => node.guest?.state === 'running',
      3_000,
      () => `after resume: ${node.guest?.state}`,
    );
    assert.equal((await virsh('domstate', 'test')).trim(), 'running');
    item = api.tree.getTreeItem(node);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'vm-running');
    assert.match(String(item.description), /^running\b/);
  });

  it('a change made outside (virsh suspend/resume) shows up within 2 s', async () => {
    const api = await getApi();
    const node = await guestNode(api, 'test', 'test');
    const testConn = api.connections.byId('test')!;
    const state = () => [...testConn.guests.values()].find((g) => g.name === 'test')?.state;
    let t0 = Date.now();
    await virsh('suspend', 'test');
    await waitFor(
      () => state() === 'paused',
      2_000,
      () => `api.connections still says ${state()} after virsh suspend`,
    );
    const suspendMs = Date.now() - t0;
    assert.equal(node.guest?.state, 'paused');
    t0 = Date.now();
    await virsh('resume', 'test');
    await waitFor(
      () => state() === 'running',
      2_000,
      () => `api.connections still says ${state()} after virsh resume`,
    );
    console.log(`    outside change seen after ${suspendMs} ms (suspend), ${Date.now() - t0} ms (resume)`);
  });
});
