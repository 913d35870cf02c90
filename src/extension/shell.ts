// Open Shell: a login shell inside a container, in an integrated terminal at the terminal's size,
// following its resizes. The shell is `virtscope.shell` when the container has it, else bash, else sh.
import * as vscode from 'vscode';
import { requireCapability } from '../core/capabilities';
import { canOpenShell } from '../core/console/allowed';
import { ShellSession } from '../core/console/shellSession';
import type { GuestNode } from '../views/guestTree';
import { CommandsDeps } from './commands';
import type { GuestRef } from '../core/inventory';
import { pickGuest } from './pickers';
import { vscodeUi } from './vscodeUi';
import type { Config } from './config';
import { openSessionTerminal } from './terminal';

export async function openShell(ctx: CommandsDeps & { config: Config }, node?: GuestNode | GuestRef): Promise<void> {
  node ??= await pickGuest(vscodeUi, ctx.model, { title: 'virtscope: Open Shell', filter: canOpenShell });
  const g = node?.guest;
  if (!node || !g) return;
  if (!canOpenShell(g)) {
    void vscode.window.showWarningMessage(`Open Shell does not apply to "${g.name}" while it is ${g.state}.`);
    return;
  }
  let session: ShellSession;
  try {
    const shell = requireCapability(node.conn.requireBackend(), g, 'shell');
    const { shells, chosen } = ctx.config.shells;
    session = new ShellSession(g.name, shell, shells, chosen);
  } catch (e) {
    void vscode.window.showErrorMessage(`Open Shell "${g.name}" failed: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  openSessionTerminal(session, {
    name: `Shell: ${g.name}`,
    iconPath: new vscode.ThemeIcon('terminal-bash'),
    log: ctx.log,
    start: (_s, size) => session.start(size?.columns ?? 80, size?.rows ?? 24),
  });
}
