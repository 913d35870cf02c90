// Open Console: a libvirt domain's text console in an integrated terminal. The device is picked
// when the guest has several; the console is opened "safe" and, when another client holds it, the
// user is asked before taking it over. The session follows the connection's changes of the guest
// so it reopens after a reboot.
import * as vscode from 'vscode';
import { requireCapability } from '../core/capabilities';
import { canOpenConsole } from '../core/console/allowed';
import { ConsoleSession } from '../core/console/session';
import { ConsoleBusyError, type ConsoleDevice } from '../core/console/types';
import type { Connection, GuestDiff } from '../core/connection';
import type { Guest } from '../core/model';
import type { GuestNode } from '../views/guestTree';
import { CommandsDeps } from './commands';
import type { GuestRef } from '../core/inventory';
import { pickGuest } from './pickers';
import { vscodeUi } from './vscodeUi';
import { openSessionTerminal } from './terminal';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The device to attach to: the only pty one, or the user's pick; undefined when cancelled or none. */
async function pickDevice(g: Guest, devices: readonly ConsoleDevice[]): Promise<ConsoleDevice | null | undefined> {
  const usable = devices.filter((d) => d.type === 'pty');
  if (!devices.length) return null; // no device in the XML: let libvirt say what it has
  if (!usable.length) {
    void vscode.window.showErrorMessage(
      `"${g.name}" has no console virtscope can attach to: its devices are ${devices.map((d) => d.label).join(', ')}. Only pty devices can be opened.`,
    );
    return undefined;
  }
  if (usable.length === 1) return usable[0];
  const pick = await vscode.window.showQuickPick(
    usable.map((d) => ({ label: d.alias ?? d.element, description: d.label, device: d })),
    { title: `Open Console: ${g.name} has ${usable.length} consoles`, placeHolder: 'Pick the device' },
  );
  return pick?.device;
}

/** Asks before taking the console from another client. */
async function takeOver(e: ConsoleBusyError): Promise<boolean> {
  const go = await vscode.window.showWarningMessage(
    `The console of "${e.guest}" is in use by another client.`,
    { modal: true, detail: `${e.detail}.\n\nTake it over? The other client (virsh console, virt-manager, another window) is disconnected.` },
    'Take Over',
  );
  return go === 'Take Over';
}

/** Calls `changed` whenever the connection reports a change of guest `id`, or comes back. */
function followGuest(conn: Connection, id: string, changed: () => void): () => void {
  const onGuests = (diff: GuestDiff) => {
    if (diff.changed.includes(id) || diff.added.includes(id)) changed();
  };
  const onStatus = (s: { state: string }) => {
    if (s.state === 'connected') changed();
  };
  conn.on('guests', onGuests);
  conn.on('status', onStatus);
  return () => {
    conn.off('guests', onGuests);
    conn.off('status', onStatus);
  };
}

async function startOrTakeOver(session: ConsoleSession): Promise<void> {
  try {
    await session.start(false);
  } catch (e) {
    if (!(e instanceof ConsoleBusyError)) throw e;
    if (!(await takeOver(e))) throw new Error(`${e.message}; not taken over.`);
    await session.start(true);
  }
}

export async function openConsole(ctx: CommandsDeps, node?: GuestNode | GuestRef): Promise<void> {
  node ??= await pickGuest(vscodeUi, ctx.model, { title: 'virtscope: Open Console', filter: canOpenConsole });
  const g = node?.guest;
  if (!node || !g) return;
  const conn = node.conn;
  if (!canOpenConsole(g)) {
    void vscode.window.showWarningMessage(`Open Console does not apply to "${g.name}" while it is ${g.state}.`);
    return;
  }
  // looked up on every use: a reconnect replaces the backend
  const consoleOf = () => requireCapability(conn.requireBackend(), conn.guest(g.id) ?? g, 'console');
  let device: ConsoleDevice | null | undefined;
  try {
    device = await pickDevice(g, await consoleOf().devices());
  } catch (e) {
    void vscode.window.showErrorMessage(`Open Console "${g.name}" failed: ${message(e)}`);
    return;
  }
  if (device === undefined) return;
  const session = new ConsoleSession(g.name, consoleOf, { device: device?.alias ?? null });
  const unfollow = followGuest(conn, g.id, () => session.guestChanged());
  session.on('exit', unfollow);
  openSessionTerminal(session, {
    name: `Console: ${g.name}`,
    iconPath: new vscode.ThemeIcon('terminal'),
    banner: `console of "${g.name}"${device ? ` (${device.label})` : ''} on ${conn.label}. Press Enter if nothing shows: a console repeats nothing written before.`,
    log: ctx.log,
    start: async () => {
      try {
        await startOrTakeOver(session);
      } catch (e) {
        unfollow();
        throw e;
      }
      ctx.log.info(`Console: ${g.name} on ${conn.label} open`);
    },
  });
}
