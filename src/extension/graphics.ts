// Open Graphical Console: a QEMU domain's screen (VNC) in a webview panel. A guest without a VNC
// display says so and offers its serial console instead.
import * as vscode from 'vscode';
import { requireCapability } from '../core/capabilities';
import { canOpenGraphicalConsole } from '../core/console/allowed';
import { NoGraphicsError, pickVnc } from '../core/console/graphics';
import type { GuestRef } from '../core/inventory';
import type { GuestNode } from '../views/guestTree';
import { openVncPanel } from '../views/vncPanel';
import { CMD } from './commandIds';
import { CommandsDeps } from './commands';
import { pickGuest } from './pickers';
import { vscodeUi } from './vscodeUi';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function offerSerial(e: NoGraphicsError, node: GuestNode | GuestRef): Promise<void> {
  const go = await vscode.window.showWarningMessage(`${e.message}.`, 'Open Console');
  if (go === 'Open Console') await vscode.commands.executeCommand(CMD.openConsole, node);
}

export async function openGraphicalConsole(ctx: CommandsDeps & { extensionUri: vscode.Uri }, node?: GuestNode | GuestRef): Promise<void> {
  node ??= await pickGuest(vscodeUi, ctx.model, { title: 'virtscope: Open Graphical Console', filter: canOpenGraphicalConsole });
  const g = node?.guest;
  if (!node || !g) return;
  const conn = node.conn;
  if (!canOpenGraphicalConsole(g)) {
    void vscode.window.showWarningMessage(`Open Graphical Console applies to running QEMU guests; "${g.name}" is a ${g.kind} guest, ${g.state}.`);
    return;
  }
  // looked up on every use: a reconnect replaces the backend
  const graphicsOf = () => requireCapability(conn.requireBackend(), conn.guest(g.id) ?? g, 'graphics');
  try {
    pickVnc(g.name, await graphicsOf().displays());
  } catch (e) {
    if (e instanceof NoGraphicsError) return offerSerial(e, node);
    void vscode.window.showErrorMessage(`Open Graphical Console "${g.name}" failed: ${message(e)}`);
    return;
  }
  openVncPanel({
    extensionUri: ctx.extensionUri,
    title: `${g.name} on ${conn.label}`,
    open: () => graphicsOf().open(),
    endMessage: async (why) => {
      // libvirt's word, not the tree's (which may not have heard yet)
      let state: string | undefined;
      try {
        state = await requireCapability(conn.requireBackend(), g, 'console').state();
      } catch {
        state = conn.guest(g.id)?.state;
      }
      const gone = state !== 'running' && state !== 'paused';
      const reason = gone ? `the guest is ${state ?? 'gone'}` : (why ?? "the guest's VNC server ended the connection");
      return `The screen of "${g.name}" closed: ${reason}. Run Open Graphical Console again to reconnect.`;
    },
    log: ctx.log,
  });
}
