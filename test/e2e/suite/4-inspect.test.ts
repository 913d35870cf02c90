// "Inspect Definition" opens the host's own definition as a read-only document.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { connectAll, getApi, guestNode, waitFor } from './helpers';

describe('inspect', () => {
  before(async function () {
    this.timeout(30_000);
    await connectAll(await getApi(), ['test']);
  });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('virtscope.inspect on "test" opens its domain XML', async () => {
    const api = await getApi();
    const node = await guestNode(api, 'test', 'test');
    await vscode.commands.executeCommand('virtscope.inspect', node);
    const editor = await waitFor(
      () => vscode.window.activeTextEditor?.document.uri.scheme === 'virtscope-def' && vscode.window.activeTextEditor,
      5_000,
      () => `no definition editor; active: ${vscode.window.activeTextEditor?.document.uri.toString()}`,
    );
    const doc = editor.document;
    assert.ok(doc.getText().startsWith('<domain'), `document starts with: ${doc.getText().slice(0, 80)}`);
    assert.match(doc.getText(), /<name>test<\/name>/);
    assert.equal(doc.languageId, 'xml');
  });
});
