// Benchmarks in the real extension host: "Run Benchmark…" on two selected guests writes the Markdown
// + JSON report under the workspace's .virtscope/reports/ and opens it; Compare and Re-run work from
// the JSON; a `virtscope` task from tasks.json runs through Run Task.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { connectAll, getApi, guestNode, waitFor } from './helpers';

const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));

describe('benchmark', () => {
  let first: string | undefined;
  before(async function () {
    this.timeout(40_000);
    await vscode.workspace.getConfiguration('virtscope').update('hostNetworkNamespace', 'virtscope-lab', vscode.ConfigurationTarget.Global);
    await connectAll(await getApi(), ['lxc-tools', 'lxc-system']);
  });
  after(async () => {
    await vscode.workspace.getConfiguration('virtscope').update('hostNetworkNamespace', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Run Benchmark on two selected guests (labct, labvlxc): report written and opened', async function () {
    this.timeout(120_000);
    const a = await getApi();
    const ct = await guestNode(a, 'lxc-tools', 'labct');
    const vlxc = await guestNode(a, 'lxc-system', 'labvlxc');
    const md = await vscode.commands.executeCommand<string | undefined>('virtscope.bench.run', ct, [ct, vlxc], { suites: ['network', 'cpu'], seconds: 1 });
    assert.ok(md, 'the command returned the report path (see the virtscope log)');
    assert.match(md, /[/\\]\.virtscope[/\\]reports[/\\]\d{8}T\d{6}Z-network-cpu-on-host-labct-labvlxc\.md$/);
    const text = fs.readFileSync(md, 'utf8');
    assert.match(text, /^# virtscope benchmark: network, cpu on host, labct, labvlxc/);
    assert.match(text, /\| TCP throughput guest → host \(iperf3\) \| Gbit\/s \| [\d.,]+ \| [\d.,]+ \| [\d.,]+ \|/);
    const json = JSON.parse(fs.readFileSync(md.replace(/\.md$/, '.json'), 'utf8'));
    assert.deepEqual(
      json.spec.guests.map((g: { guestName: string }) => g.guestName),
      ['labct', 'labvlxc'],
    );
    assert.equal(json.spec.options.hostNetworkNamespace, 'virtscope-lab');
    const base = md.split(/[/\\]/).pop()!;
    await waitFor(
      () => tabs().some((l) => l.includes(base)),
      10_000,
      () => `report not open; tabs: ${tabs().join(', ')}`,
    );
    first = md;
  });

  it('Re-run from the JSON, then Compare the two reports side by side', async function () {
    this.timeout(120_000);
    assert.ok(first, 'needs the first test');
    const json = vscode.Uri.file(first.replace(/\.md$/, '.json'));
    const md2 = await vscode.commands.executeCommand<string | undefined>('virtscope.bench.rerun', json, { open: false });
    assert.ok(md2 && md2 !== first, 're-run wrote a new report');
    const doc = await vscode.commands.executeCommand<vscode.TextDocument | undefined>(
      'virtscope.bench.compare',
      json,
      vscode.Uri.file(md2.replace(/\.md$/, '.json')),
    );
    assert.ok(doc, 'compare opened a document');
    assert.match(doc.getText(), /^# virtscope benchmark comparison/);
    assert.match(doc.getText(), /\| labct \| TCP throughput guest → host \(iperf3\) \| Gbit\/s \| [\d.,]+ \| [\d.,]+ \| [+-][\d.]+ % \|/);
  });

  it('a tasks.json `virtscope` task runs through the task system', async function () {
    this.timeout(60_000);
    const provided = await vscode.tasks.fetchTasks({ type: 'virtscope' });
    assert.ok(provided.length >= 1, 'the provider offers a task');
    // as a user writes it in .vscode/tasks.json; Run Task resolves it through the provider
    const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    fs.mkdirSync(`${ws}/.vscode`, { recursive: true });
    fs.writeFileSync(
      `${ws}/.vscode/tasks.json`,
      JSON.stringify({ version: '2.0.0', tasks: [{ label: 'bench labct cpu', type: 'virtscope', guests: ['labct'], suites: ['cpu'], seconds: 1 }] }, null, 2),
    );
    let task: vscode.Task | undefined;
    for (let i = 0; i < 100 && !task; i++) {
      task = (await vscode.tasks.fetchTasks({ type: 'virtscope' })).find((t) => t.name === 'bench labct cpu');
      if (!task) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(task, 'the tasks.json task is listed');
    const ended = new Promise<number | undefined>((resolve) => {
      const d = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.name === 'bench labct cpu') {
          d.dispose();
          resolve(e.exitCode);
        }
      });
    });
    const before = fs.existsSync(reportsDir()) ? fs.readdirSync(reportsDir()).length : 0;
    await vscode.tasks.executeTask(task);
    assert.equal(await ended, 0, 'the task exited 0');
    const after = fs.readdirSync(reportsDir()).filter((f) => /-cpu-on-host-labct\.md$/.test(f));
    assert.ok(after.length >= 1 && fs.readdirSync(reportsDir()).length > before, 'the task wrote a report');
  });
});

function reportsDir(): string {
  const ws = vscode.workspace.workspaceFolders?.[0];
  assert.ok(ws, 'the e2e run opens a folder');
  return `${ws.uri.fsPath}/.virtscope/reports`;
}
