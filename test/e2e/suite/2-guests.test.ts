// The lab's guests of all four kinds, and the test driver's domain, are listed under the right
// connection and kind group.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { GuestNode } from '../../../src/views/guestTree';
import { KIND_LABEL } from '../../../src/core/model';
import { connectAll, getApi, guestNode, LAB_GUESTS } from './helpers';

describe('guests', () => {
  for (const lab of LAB_GUESTS) {
    it(`lists ${lab.name} as ${lab.kind} on ${lab.conn}`, async function () {
      this.timeout(45_000);
      const api = await getApi();
      await connectAll(api, [lab.conn]);
      const node = await guestNode(api, lab.conn, lab.name);
      const g = node.guest!;
      assert.equal(g.kind, lab.kind);
      assert.equal(node.parent.kind === 'group' && node.parent.guestKind, lab.kind);
      // the node is reachable through the tree: "This machine" → connection → "<kind> group" → guest
      const local = api.tree.getChildren().find((n) => n.kind === 'host' && n.host.id === 'local')!;
      const root = api.tree.getChildren(local).find((n) => n.kind === 'connection' && n.conn.config.id === lab.conn)!;
      assert.ok(root, `${lab.conn} under This machine`);
      const group = api.tree.getChildren(root).find((n) => n.kind === 'group' && n.guestKind === lab.kind);
      assert.ok(group, `group ${KIND_LABEL[lab.kind]} under ${lab.conn}`);
      assert.equal(api.tree.getTreeItem(group).label, KIND_LABEL[lab.kind]);
      const kids = api.tree.getChildren(group) as GuestNode[];
      assert.ok(
        kids.some((k) => k.guest?.name === lab.name),
        `${lab.name} under ${KIND_LABEL[lab.kind]}`,
      );
      // the row: label = name, aria label = "<name>, <description>", a state icon
      const item = api.tree.getTreeItem(node);
      assert.equal(item.label, lab.name);
      assert.match(String(item.description), new RegExp(`^${g.state}\\b`));
      assert.equal(item.accessibilityInformation?.label, `${lab.name}, ${item.description}`);
      assert.ok(item.iconPath instanceof vscode.ThemeIcon);
    });
  }

  it('lists the test driver domain "test" on test+unix:///default', async () => {
    const api = await getApi();
    await connectAll(api, ['test']);
    const node = await guestNode(api, 'test', 'test');
    const g = node.guest!;
    assert.equal(node.conn.config.uri, 'test+unix:///default');
    assert.ok(['qemu', 'libvirt-lxc'].includes(g.kind), `kind ${g.kind}`);
    assert.ok(g.vcpus && g.vcpus > 0, 'vCPUs are known');
  });
});
