// Snapshot verbs from the tree and the palette: Create, Revert, Delete, Inspect. Each asks the
// snapshots capability for its plan first: a refusal is shown with its reason and nothing is
// called; Revert and Delete say what will be lost and ask (modal) before acting.
import * as vscode from 'vscode';
import { CreateRequest, snapshotNameProblem } from '../core/snapshots/safety';
import { descendants } from '../core/snapshots/model';
import { snapshotTime } from '../core/snapshots/itemSpec';
import type { GuestNode, GuestTreeProvider } from '../views/guestTree';
import { SnapshotNode, SnapshotsNode, snapshotsOf } from '../views/hostObjectsTree';

export interface SnapshotDeps {
  tree: GuestTreeProvider;
  log: vscode.LogOutputChannel;
}

const kindOf = (n: unknown): string | undefined => (n as { kind?: string } | undefined)?.kind;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The Snapshots folder for a guest node, a folder, a snapshot, or (palette) a picked guest. */
async function folderFor(deps: SnapshotDeps, node: unknown): Promise<SnapshotsNode | undefined> {
  const k = kindOf(node);
  if (k === 'snapshots') return node as SnapshotsNode;
  if (k === 'snapshot') return (node as SnapshotNode).folder;
  if (k === 'guest') {
    const g = node as GuestNode;
    if (snapshotsOf(g)) return deps.tree.hostObjects.snapshotsFolder(g);
    void vscode.window.showWarningMessage(
      `"${g.guest?.name ?? g.guestId}" has no snapshots here (QEMU guests of libvirt and lxc-tools containers on a connected host have).`,
    );
    return undefined;
  }
  const guests = deps.tree.allGuests().filter((g) => snapshotsOf(g));
  if (!guests.length)
    return void vscode.window.showInformationMessage('No guest with snapshots: QEMU guests of libvirt and lxc-tools containers on a connected host have them.');
  const pick = await vscode.window.showQuickPick(
    guests.map((g) => ({ label: g.guest!.name, description: g.conn.label, g })),
    { title: 'virtscope: Snapshots', placeHolder: 'Pick a guest' },
  );
  return pick && deps.tree.hostObjects.snapshotsFolder(pick.g);
}

/** The snapshot node clicked, or one picked from a guest's snapshots. */
async function snapshotFor(deps: SnapshotDeps, node: unknown, title: string): Promise<SnapshotNode | undefined> {
  if (kindOf(node) === 'snapshot') return node as SnapshotNode;
  const folder = await folderFor(deps, node);
  if (!folder) return undefined;
  await deps.tree.hostObjects.children(folder);
  const l = folder.listing;
  if (!l || 'error' in l)
    return void vscode.window.showErrorMessage(`Cannot list the snapshots of "${folder.guestName}": ${l && 'error' in l ? l.error : 'not connected'}`);
  if (!l.snaps.length) return void vscode.window.showInformationMessage(`"${folder.guestName}" has no snapshots.`);
  const pick = await vscode.window.showQuickPick(
    l.snaps.map((s) => ({ label: s.name, description: `${s.current ? 'current · ' : ''}${snapshotTime(s)}`, s })),
    { title, placeHolder: 'Pick a snapshot' },
  );
  return pick && new SnapshotNode(folder, folder, pick.s);
}

/** Offers to stop the guest when a verb needs it stopped; true once it is stopped. */
async function stopFirst(deps: SnapshotDeps, folder: SnapshotsNode, reason: string, button: string): Promise<boolean> {
  const go = await vscode.window.showWarningMessage(
    `${reason}`,
    { modal: true, detail: `virtscope can shut "${folder.guestName}" down now (its programs are stopped cleanly, as with Shut Down).` },
    button,
  );
  if (go !== button) return false;
  const conn = folder.conn;
  const id = folder.parent.guestId;
  try {
    await vscode.window.withProgress({ location: { viewId: 'virtscope.guests' }, title: `Shutting down "${folder.guestName}"` }, async () => {
      await conn.perform(id, 'shutdown');
      for (let i = 0; i < 120 && conn.guest(id)?.state !== 'stopped'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        if (i % 4 === 3) await conn.refresh();
      }
    });
  } catch (e) {
    void vscode.window.showErrorMessage(`Shut down "${folder.guestName}" failed: ${message(e)}`);
    return false;
  }
  return conn.guest(id)?.state === 'stopped';
}

async function run(deps: SnapshotDeps, folder: SnapshotsNode, title: string, act: () => Promise<unknown>): Promise<boolean> {
  try {
    await vscode.window.withProgress({ location: { viewId: 'virtscope.guests' }, title }, act);
    return true;
  } catch (e) {
    deps.log.error(`${title} failed: ${message(e)}`);
    void vscode.window.showErrorMessage(`${title} failed: ${message(e)}`);
    return false;
  } finally {
    deps.tree.hostObjects.refresh(folder);
  }
}

export async function createSnapshot(deps: SnapshotDeps, node?: unknown): Promise<void> {
  const folder = await folderFor(deps, node);
  const cap = folder?.snapshots();
  if (!folder || !cap) return;
  const g = folder.guestName;
  const automatic = cap.naming === 'automatic';
  const name = automatic
    ? await vscode.window.showInputBox({ title: `Snapshot "${g}": comment (optional; lxc names snapshots snap0, snap1…)`, value: '' })
    : await vscode.window.showInputBox({ title: `Snapshot "${g}": name`, validateInput: (v) => snapshotNameProblem(v) });
  if (name === undefined) return;
  const description = automatic ? '' : await vscode.window.showInputBox({ title: `Snapshot "${g}": description (optional)`, value: '' });
  if (description === undefined) return;
  const running = folder.parent.guest?.state === 'running' || folder.parent.guest?.state === 'paused';
  const req = automatic ? { name, memory: false } : await pickContent(cap, { name, description: description || undefined }, running);
  if (!req) return;
  let plan = await cap.planCreate(req);
  if (!plan.ok && plan.stopFirst && (await stopFirst(deps, folder, plan.reason, 'Stop and Snapshot'))) plan = await cap.planCreate(req);
  if (!plan.ok) return void vscode.window.showErrorMessage(`Cannot snapshot "${g}": ${plan.reason}`, { modal: true });
  if (plan.risks.length) {
    const go = await vscode.window.showWarningMessage(
      `Take a ${plan.location} snapshot of "${g}" anyway?`,
      { modal: true, detail: plan.risks.join('\n\n') },
      'Take Snapshot',
    );
    if (go !== 'Take Snapshot') return;
  }
  await run(deps, folder, `Snapshot "${g}" as "${name}"`, () => cap.create(req, { acceptRisks: true }));
}

/** With memory or disk only (a stopped guest has no memory to keep), each option with what the host allows. */
async function pickContent(
  cap: NonNullable<ReturnType<SnapshotsNode['snapshots']>>,
  base: Omit<CreateRequest, 'memory'>,
  running: boolean,
): Promise<CreateRequest | undefined> {
  if (!running) return { ...base, memory: false };
  const options = [
    { memory: true, quiesce: false, label: 'With memory', detail: 'The guest resumes exactly where it was, open programs included.' },
    { memory: false, quiesce: false, label: 'Disk only', detail: 'Only the disks; the guest boots fresh when you revert.' },
    {
      memory: false,
      quiesce: true,
      label: 'Disk only, file systems frozen',
      detail: 'The guest agent flushes and freezes its file systems for the moment of the snapshot.',
    },
  ];
  const items = await Promise.all(
    options.map(async (o) => {
      const plan = await cap.planCreate({ ...base, memory: o.memory, quiesce: o.quiesce });
      return { ...o, description: plan.ok ? `${plan.location}` : 'not possible here', detail: plan.ok ? o.detail : plan.reason };
    }),
  );
  const pick = await vscode.window.showQuickPick(items, { title: `Snapshot "${base.name}": what to keep` });
  return pick && { ...base, memory: pick.memory, quiesce: pick.quiesce };
}

export async function revertSnapshot(deps: SnapshotDeps, node?: unknown): Promise<void> {
  const n = await snapshotFor(deps, node, 'Revert to snapshot');
  const cap = n?.folder.snapshots();
  if (!n || !cap) return;
  const g = n.folder.guestName;
  let plan;
  try {
    plan = await cap.planRevert(n.info.name);
    if (!plan.ok && plan.stopFirst && (await stopFirst(deps, n.folder, plan.reason, 'Stop and Continue'))) plan = await cap.planRevert(n.info.name);
  } catch (e) {
    return void vscode.window.showErrorMessage(`Cannot revert "${g}": ${message(e)}`);
  }
  if (!plan.ok) return void vscode.window.showErrorMessage(`Cannot revert "${g}": ${plan.reason}`, { modal: true });
  const go = await vscode.window.showWarningMessage(
    `Revert "${g}" to snapshot "${n.info.name}"?`,
    { modal: true, detail: [plan.lost, ...plan.risks].join('\n\n') },
    'Revert',
  );
  if (go !== 'Revert') return;
  if (await run(deps, n.folder, `Revert "${g}" to "${n.info.name}"`, () => cap.revert(n.info.name))) void n.folder.conn.refresh();
}

export async function deleteSnapshot(deps: SnapshotDeps, node?: unknown): Promise<void> {
  const n = await snapshotFor(deps, node, 'Delete snapshot');
  const cap = n?.folder.snapshots();
  if (!n || !cap) return;
  const l = n.folder.listing;
  const below = l && 'snaps' in l ? descendants(l.snaps, n.info.name) : [];
  let withChildren = false;
  if (below.length) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: `Only "${n.info.name}"`, detail: `Its ${below.length} child snapshot(s) stay and move up to its parent.`, children: false },
        { label: `"${n.info.name}" and its ${below.length} child snapshot(s)`, detail: below.map((s) => s.name).join(', '), children: true },
      ],
      { title: `Delete snapshot "${n.info.name}"` },
    );
    if (!pick) return;
    withChildren = pick.children;
  }
  const plan = await cap.planDelete(n.info.name, withChildren).catch((e: unknown) => ({ ok: false as const, reason: message(e) }));
  if (!plan.ok) return void vscode.window.showErrorMessage(`Cannot delete snapshot "${n.info.name}": ${plan.reason}`, { modal: true });
  const names = plan.removed.map((s) => `"${s}"`).join(', ');
  const go = await vscode.window.showWarningMessage(
    `Delete ${plan.removed.length === 1 ? 'snapshot' : 'snapshots'} ${names} of "${n.folder.guestName}"?`,
    {
      modal: true,
      detail: [
        `You can no longer go back to ${plan.removed.length === 1 ? 'that point' : 'those points'}. The guest's current state is kept.`,
        ...plan.risks,
      ].join('\n\n'),
    },
    'Delete',
  );
  if (go !== 'Delete') return;
  await run(deps, n.folder, `Delete snapshot "${n.info.name}"`, () => cap.delete(n.info.name, withChildren));
}

export async function inspectSnapshot(deps: SnapshotDeps, node?: unknown): Promise<void> {
  const n = await snapshotFor(deps, node, 'Inspect snapshot');
  const cap = n?.folder.snapshots();
  if (!n || !cap) return;
  try {
    const d = await cap.inspect(n.info.name);
    const doc = await vscode.workspace.openTextDocument({ language: d.language, content: d.text });
    await vscode.window.showTextDocument(doc, { preview: true });
  } catch (e) {
    void vscode.window.showErrorMessage(`Inspect snapshot "${n.info.name}" failed: ${message(e)}`);
  }
}
