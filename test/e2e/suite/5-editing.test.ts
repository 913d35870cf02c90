// "Edit Definition" in the real extension host: the document is backed by the host
// (virtscope-guest:), the language server publishes diagnostics and answers completion and hover,
// saving defines the guest, a rejected save keeps the document dirty and the host unchanged, a
// definition changed on the host is not overwritten. Uses a throwaway test-driver domain.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { connectAll, getApi, guestNode, virsh, waitFor } from './helpers';

const NAME = `vs-e2e-edit-${process.pid}`;
const XML = `<domain type='test'>
  <name>${NAME}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os>
    <type>hvm</type>
  </os>
  <on_crash>destroy</on_crash>
  <devices>
  </devices>
</domain>
`;

/** What the test driver stores (virsh adds a newline). */
const hostXml = async () => (await virsh('dumpxml', '--inactive', '--security-info', NAME)).replace(/\n\n$/, '\n');

async function replaceAll(editor: vscode.TextEditor, text: string): Promise<void> {
  const doc = editor.document;
  const ok = await editor.edit((b) => b.replace(new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text));
  assert.ok(ok, 'edit applied');
}

function diagnostics(uri: vscode.Uri): readonly vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri);
}

describe('editing definitions', () => {
  let editor: vscode.TextEditor;

  before(async function () {
    this.timeout(60_000);
    const api = await getApi();
    await connectAll(api, ['test']);
    const tmp = `/tmp/${NAME}.xml`;
    fs.writeFileSync(tmp, XML);
    await virsh('define', tmp);
    fs.rmSync(tmp, { force: true });
    await api.connections.byId('test')!.refresh();
    const node = await guestNode(api, 'test', NAME);
    await vscode.commands.executeCommand('virtscope.editDefinition', node);
    editor = await waitFor(
      () => vscode.window.activeTextEditor?.document.uri.scheme === 'virtscope-guest' && vscode.window.activeTextEditor,
      15_000,
      () => `no virtscope-guest editor; active: ${vscode.window.activeTextEditor?.document.uri.toString()}`,
    );
  });
  after(async function () {
    this.timeout(20_000);
    await vscode.commands.executeCommand('workbench.action.files.revert').then(undefined, () => undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await virsh('undefine', NAME).catch(() => undefined);
  });

  it('opens the host’s definition as an editable XML document', async () => {
    const doc = editor.document;
    assert.equal(doc.languageId, 'libvirt-xml');
    assert.match(doc.uri.path, new RegExp(`/test/${NAME}\\.xml$`));
    assert.match(doc.getText(), new RegExp(`<name>${NAME}</name>`));
    assert.equal(doc.getText(), await hostXml());
    assert.equal(doc.isDirty, false);
  });

  it('the language server reports a schema error where it is, and clears it', async function () {
    this.timeout(30_000);
    const good = editor.document.getText();
    await replaceAll(editor, good.replace('<on_crash>destroy</on_crash>', '<on_crash>explode</on_crash>'));
    const d = await waitFor(
      () => diagnostics(editor.document.uri).find((x) => /explode/.test(x.message)),
      20_000,
      () => `no diagnostic about "explode": ${JSON.stringify(diagnostics(editor.document.uri).map((x) => x.message))}`,
    );
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(editor.document.lineAt(d.range.start.line).text.trim(), '<on_crash>explode</on_crash>');
    await replaceAll(editor, good);
    await waitFor(
      () => diagnostics(editor.document.uri).length === 0,
      20_000,
      () => `diagnostics left: ${JSON.stringify(diagnostics(editor.document.uri).map((x) => x.message))}`,
    );
  });

  it('completion offers <devices> children and hover describes <memory>', async () => {
    const doc = editor.document;
    const line = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('<devices>'));
    await editor.edit((b) => b.insert(new vscode.Position(line + 1, 0), '    <\n'));
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      doc.uri,
      new vscode.Position(line + 1, 5),
      '<',
    );
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const n of ['disk', 'interface', 'graphics']) assert.ok(labels.includes(n), `${n} not in ${labels.join(' ')}`);
    await editor.edit((b) => b.delete(new vscode.Range(line + 1, 0, line + 2, 0)));
    const mem = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.includes('<memory'));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(mem, 4));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /<memory>/);
    assert.match(text, /unit/);
  });

  it('saving defines the guest: the host reports the new memory', async function () {
    this.timeout(30_000);
    const text = editor.document.getText();
    await replaceAll(
      editor,
      text
        .replace(/<memory unit='KiB'>\d+<\/memory>/, "<memory unit='KiB'>262144</memory>")
        .replace(/<currentMemory unit='KiB'>\d+<\/currentMemory>/, "<currentMemory unit='KiB'>262144</currentMemory>"),
    );
    assert.equal(await editor.document.save(), true);
    assert.equal(editor.document.isDirty, false);
    assert.match(await hostXml(), /<memory unit='KiB'>262144<\/memory>/);
    const api = await getApi();
    await waitFor(
      () =>
        api.connections.byId('test')!.guests.get([...api.connections.byId('test')!.guests.values()].find((g) => g.name === NAME)!.id)?.maxMemoryBytes ===
        262144 * 1024,
      10_000,
      () => 'the tree model did not pick up the new memory',
    );
  });

  it('a save the host rejects keeps the document dirty and the host’s definition unchanged', async function () {
    this.timeout(30_000);
    const before = await hostXml();
    await replaceAll(editor, editor.document.getText().replace('<on_crash>destroy</on_crash>', '<on_crash>explode</on_crash>'));
    assert.equal(await editor.document.save(), false);
    assert.equal(editor.document.isDirty, true);
    assert.match(editor.document.getText(), /explode/);
    assert.equal(await hostXml(), before);
    await replaceAll(editor, before);
    assert.equal(await editor.document.save(), true);
  });

  it('a definition changed on the host since it was opened is not overwritten', async function () {
    this.timeout(30_000);
    await virsh('desc', NAME, '--config', '--new-desc', 'changed on the host');
    const hostNow = await hostXml();
    await replaceAll(editor, editor.document.getText().replace(/<vcpu( [^>]*)?>1<\/vcpu>/, "<vcpu placement='static'>2</vcpu>"));
    assert.equal(await editor.document.save(), false);
    assert.equal(editor.document.isDirty, true);
    assert.equal(await hostXml(), hostNow);
  });
});
