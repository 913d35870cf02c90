// Metrics panels in the real extension host: each panel opens from its command, the sampler runs
// while a panel is visible, and stops once every metrics panel is closed.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { connectAll, getApi, guestNode, sleep } from './helpers';

/** Polls an async probe every 100 ms. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(100);
  }
}

interface MetricsState {
  active: boolean;
  subscribers: number;
  ticks: number;
  panels: number;
}
const state = () => vscode.commands.executeCommand<MetricsState>('virtscope.metrics._state');

describe('metrics', () => {
  before(async function () {
    this.timeout(40_000);
    await connectAll(await getApi(), ['qemu-system', 'lxc-tools', 'containers']);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Show Metrics on labvm, Host Overview, Observability, Compare open panels and sample', async function () {
    this.timeout(60_000);
    assert.equal((await state()).active, false, 'no sampling before a panel is open');
    const api = await getApi();
    await vscode.commands.executeCommand('virtscope.metrics.show', await guestNode(api, 'qemu-system', 'labvm'));
    const conn = api.tree.connectionNode(api.connections.byId('qemu-system')!);
    await vscode.commands.executeCommand('virtscope.metrics.hostOverview', conn);
    await vscode.commands.executeCommand('virtscope.metrics.observe');
    await vscode.commands.executeCommand('virtscope.metrics.compare');
    const s0 = await until(
      async () => {
        const s = await state();
        return s.panels === 4 && s.active ? s : undefined;
      },
      20_000,
      'four panels and an active sampler',
    );
    await until(async () => (await state()).ticks >= s0.ticks + 2 || undefined, 15_000, 'two more ticks');
  });

  it('sampling stops when the panels are closed', async function () {
    this.timeout(30_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until(
      async () => {
        const s = await state();
        return s.panels === 0 && !s.active && s.subscribers === 0 ? s : undefined;
      },
      10_000,
      'no panel, no subscriber, sampler stopped',
    );
    const n = (await state()).ticks;
    await sleep(2500);
    assert.equal((await state()).ticks, n, 'no tick after the last panel closed');
  });
});
