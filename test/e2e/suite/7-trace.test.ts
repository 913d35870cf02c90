// "Trace virtio-net TX Path…" on labvm in the real extension host: the report is written under the
// workspace's .virtscope/reports/ and opens. The iperf3 server runs in the lab's netns (setting).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { connectAll, getApi, guestNode, waitFor } from './helpers';

describe('trace', () => {
  before(async function () {
    this.timeout(40_000);
    await vscode.workspace.getConfiguration('virtscope').update('hostNetworkNamespace', 'virtscope-lab', vscode.ConfigurationTarget.Global);
    await connectAll(await getApi(), ['qemu-system']);
  });
  after(async () => {
    await vscode.workspace.getConfiguration('virtscope').update('hostNetworkNamespace', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('virtscope.traceTx on labvm (3 s, iperf3) writes the report and opens it', async function () {
    this.timeout(90_000);
    const node = await guestNode(await getApi(), 'qemu-system', 'labvm');
    const md = await vscode.commands.executeCommand<string | undefined>('virtscope.traceTx', node, { durationSec: 3, workload: 'iperf3' });
    assert.ok(md, 'the command returned the report path (see the virtscope log for the error)');
    assert.match(md, /[/\\]\.virtscope[/\\]reports[/\\]trace-labvm-.*\.md$/);
    const text = fs.readFileSync(md, 'utf8');
    assert.match(text, /^# virtio-net TX trace: labvm/);
    const json = JSON.parse(fs.readFileSync(md.replace(/\.md$/, '.json'), 'utf8'));
    assert.equal(json.steps.length, 23);
    // the default detail (kick-path): the kick probed, step (1) start_xmit from the interface counter
    assert.ok(json.guestHits.vp_notify > 0, `guest kicks counted: ${JSON.stringify(json.guestHits)}`);
    assert.ok(json.steps[0].count > 0 && json.steps[0].count === json.txPackets, `step 1 = tx_packets: ${JSON.stringify(json.steps[0])}`);
    const base = md.split(/[/\\]/).pop()!;
    await waitFor(
      () => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.label.includes(base.replace(/\.md$/, '')))),
      10_000,
      () => `report not open; tabs: ${vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label)).join(', ')}`,
    );
  });
});
