// Consoles and shells end with the extension host: VS Code does not close pseudoterminals when the
// window goes away, and a shell started through an engine's exec API would stay in its container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { terminals } from './vscode-tree-stub';
import type { TerminalSession } from '../../src/core/console/session';

function fakeSession() {
  const s = Object.assign(new EventEmitter(), { closed: 0, write() {}, close: async () => void s.closed++ });
  return s;
}

test('deactivate ends every open session once; a terminal closed before is not closed again', async () => {
  const { openSessionTerminal, closeAllSessions } = await import('../../src/extension/terminal');
  const a = fakeSession();
  const b = fakeSession();
  openSessionTerminal(a as unknown as TerminalSession, { name: 'Shell: a', start: async () => {} });
  openSessionTerminal(b as unknown as TerminalSession, { name: 'Console: b', start: async () => {} });
  terminals.at(-1)!.pty.close(); // the user closed b's terminal
  assert.equal(b.closed, 1);
  await closeAllSessions();
  assert.deepEqual([a.closed, b.closed], [1, 1]);
  await closeAllSessions();
  assert.deepEqual([a.closed, b.closed], [1, 1]);
});
