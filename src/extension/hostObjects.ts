// Storage pool, volume and network verbs from the tree (and the palette, which asks for the object);
// volume upload and download with cancellable progress.
// Destructive verbs say what is lost and ask first (modal); deleting a volume a guest uses needs
// that guest's name typed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferOptions } from '../core/backends/libvirtVolumeTransfer';
import { bytes, objectNameProblem, parseSize } from '../core/storage/model';
import { capabilitiesOf } from '../core/capabilities';
import type { GuestNode, GuestTreeProvider } from '../views/guestTree';
import { NetworkNode, NetworksNode, PoolNode, StorageNode, VolumeNode } from '../views/hostObjectsTree';

export interface HostObjectDeps {
  tree: GuestTreeProvider;
  log: vscode.LogOutputChannel;
}

const kindOf = (n: unknown): string | undefined => (n as { kind?: string } | undefined)?.kind;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The clicked node of `kind`, or one picked from every connected libvirt connection. */
async function pickNode<N extends PoolNode | NetworkNode | VolumeNode>(deps: HostObjectDeps, node: unknown, kind: N['kind']): Promise<N | undefined> {
  if (kindOf(node) === kind) return node as N;
  const objects = deps.tree.hostObjects;
  const found: N[] = [];
  for (const cn of deps.tree.getChildren()) {
    if (cn.kind !== 'connection') continue;
    for (const top of objects.connectionChildren(cn)) {
      if ((kind === 'network') !== (top.kind === 'networks')) continue;
      for (const c of await objects.children(top)) {
        if (c.kind === kind) found.push(c as N);
        if (kind === 'volume' && c.kind === 'pool' && c.view.active) for (const v of await objects.children(c)) found.push(v as N);
      }
    }
  }
  if (!found.length) return void vscode.window.showInformationMessage(`No ${kind} on a connected libvirt host.`);
  const label = (n: N) => (n.kind === 'volume' ? `${n.view.pool}/${n.view.name}` : n.view.name);
  const pick = await vscode.window.showQuickPick(
    found.map((n) => ({ label: label(n), n })),
    { title: `Pick a ${kind}` },
  );
  return pick?.n;
}

async function act(deps: HostObjectDeps, title: string, refresh: StorageNode | PoolNode | NetworksNode, fn: () => Promise<unknown>): Promise<void> {
  try {
    await vscode.window.withProgress({ location: { viewId: 'virtscope.guests' }, title }, fn);
  } catch (e) {
    deps.log.error(`${title} failed: ${message(e)}`);
    void vscode.window.showErrorMessage(`${title} failed: ${message(e)}`);
  } finally {
    deps.tree.hostObjects.onConnection.refresh(refresh);
  }
}

export type PoolVerb = 'start' | 'stop' | 'autostart' | 'delete';

export async function poolVerb(deps: HostObjectDeps, verb: PoolVerb, node?: unknown): Promise<void> {
  const n = await pickNode<PoolNode>(deps, node, 'pool');
  const storage = n?.parent.storage();
  if (!n || !storage) return;
  const name = n.view.name;
  if (verb === 'delete') {
    const go = await vscode.window.showWarningMessage(
      `Delete storage pool "${name}"?`,
      {
        modal: true,
        detail: `The pool is stopped and its definition removed from libvirt. Its volumes' data stay on disk${n.view.path ? ` in ${n.view.path}` : ''}; guests using them keep working, but the volumes no longer show here until a pool is defined there again.`,
      },
      'Delete',
    );
    if (go !== 'Delete') return;
  }
  const run = {
    start: () => storage.startPool(name),
    stop: () => storage.stopPool(name),
    autostart: () => storage.setPoolAutostart(name, !n.view.autostart),
    delete: () => storage.deletePool(name),
  }[verb];
  const words = { start: 'Start', stop: 'Stop', autostart: n.view.autostart ? 'Turn off autostart of' : 'Autostart', delete: 'Delete' }[verb];
  await act(deps, `${words} pool "${name}"`, n.parent, run);
}

export type NetworkVerb = 'start' | 'stop' | 'autostart' | 'delete';

export async function networkVerb(deps: HostObjectDeps, verb: NetworkVerb, node?: unknown): Promise<void> {
  const n = await pickNode<NetworkNode>(deps, node, 'network');
  const nets = n?.parent.networks();
  if (!n || !nets) return;
  const name = n.view.name;
  if (verb === 'stop' || verb === 'delete') {
    const users = [...new Set(n.view.leases.map((l) => l.guest).filter((g): g is string => !!g))];
    const lost =
      verb === 'delete'
        ? 'The network is stopped and its definition removed from libvirt.'
        : 'The network stops: its bridge, DHCP and DNS go away until it is started again.';
    const go = await vscode.window.showWarningMessage(
      `${verb === 'delete' ? 'Delete' : 'Stop'} network "${name}"?`,
      { modal: true, detail: `${lost}${users.length ? ` Guests on it lose their connection: ${users.join(', ')}.` : ''}` },
      verb === 'delete' ? 'Delete' : 'Stop',
    );
    if (go !== (verb === 'delete' ? 'Delete' : 'Stop')) return;
  }
  const run = {
    start: () => nets.start(name),
    stop: () => nets.stop(name),
    autostart: () => nets.setAutostart(name, !n.view.autostart),
    delete: () => nets.delete(name),
  }[verb];
  const words = { start: 'Start', stop: 'Stop', autostart: n.view.autostart ? 'Turn off autostart of' : 'Autostart', delete: 'Delete' }[verb];
  await act(deps, `${words} network "${name}"`, n.parent, run);
}

export async function createVolume(deps: HostObjectDeps, node?: unknown): Promise<void> {
  const n = await pickNode<PoolNode>(deps, node, 'pool');
  const storage = n?.parent.storage();
  if (!n || !storage) return;
  const name = await vscode.window.showInputBox({ title: `New volume in "${n.view.name}": name`, validateInput: (v) => objectNameProblem(v, 'volume') });
  if (name === undefined) return;
  const format = await vscode.window.showQuickPick(
    [
      { label: 'qcow2', detail: 'Grows as it is written; internal snapshots work on it.', value: 'qcow2' as const },
      { label: 'raw', detail: 'Plain bytes; fastest, no snapshots inside.', value: 'raw' as const },
    ],
    { title: `New volume "${name}": format` },
  );
  if (!format) return;
  const size = await vscode.window.showInputBox({
    title: `New volume "${name}": size`,
    value: '10G',
    validateInput: (v) => (parseSize(v) ? undefined : 'A size such as 10G, 512M or 1.5T'),
  });
  if (size === undefined) return;
  const capacity = parseSize(size)!;
  await act(deps, `Create volume "${name}" (${bytes(capacity)}) in "${n.view.name}"`, n, () =>
    storage.createVolume(n.view.name, { name, format: format.value, capacity }),
  );
}

export async function deleteVolume(deps: HostObjectDeps, node?: unknown): Promise<void> {
  const n = await pickNode<VolumeNode>(deps, node, 'volume');
  const storage = n?.parent.parent.storage();
  if (!n || !storage) return;
  const v = n.view;
  let confirmed: string | undefined;
  if (v.usedBy.length) {
    const typed = await vscode.window.showInputBox({
      title: `Delete volume "${v.name}": it is used by ${v.usedBy.join(', ')}`,
      prompt: `Deleting it breaks that guest's disk. Type the guest's name (${v.usedBy.join(' or ')}) to delete it anyway.`,
      validateInput: (s) => (v.usedBy.includes(s) ? undefined : `Type ${v.usedBy.map((u) => `"${u}"`).join(' or ')} exactly`),
    });
    if (typed === undefined) return;
    confirmed = typed;
  }
  const go = await vscode.window.showWarningMessage(
    `Delete volume "${v.name}" from pool "${v.pool}"?`,
    { modal: true, detail: `Its data (${bytes(v.capacity)}, ${v.path}) is removed from the disk for good.` },
    'Delete',
  );
  if (go !== 'Delete') return;
  await act(deps, `Delete volume "${v.name}"`, n.parent, () => storage.deleteVolume(v.pool, v.name, confirmed));
}

/** Clone Guest: a stopped QEMU guest with its disks copied, under a new name. */
export async function cloneGuest(deps: HostObjectDeps, node?: unknown): Promise<void> {
  let g = kindOf(node) === 'guest' ? (node as GuestNode) : undefined;
  if (!g) {
    const stopped = deps.tree.allGuests().filter((n) => n.guest?.state === 'stopped' && capabilityOf(n, 'clone'));
    if (!stopped.length) return void vscode.window.showInformationMessage('Clone Guest: no stopped QEMU guest on a connected libvirt host.');
    g = (
      await vscode.window.showQuickPick(
        stopped.map((n) => ({ label: n.guest!.name, description: n.conn.label, n })),
        { title: 'Clone Guest' },
      )
    )?.n;
    if (!g) return;
  }
  const guest = g.guest;
  const cloner = capabilityOf(g, 'clone');
  if (!guest || !cloner) return void vscode.window.showWarningMessage('Clone Guest works on QEMU guests of a connected libvirt host.');
  if (guest.state !== 'stopped') return void vscode.window.showWarningMessage(`Shut "${guest.name}" down first: its disks are copied, which needs them still.`);
  const newName = await vscode.window.showInputBox({
    title: `Clone "${guest.name}": name of the copy`,
    value: `${guest.name}-clone`,
    prompt: 'Its disks are copied into new volumes of the same pools; it gets a new UUID and new MAC addresses.',
    validateInput: (v) =>
      objectNameProblem(v, 'guest') ?? (g!.conn.guests.size && [...g!.conn.guests.values()].some((x) => x.name === v) ? `"${v}" exists already` : undefined),
  });
  if (newName === undefined) return;
  try {
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Cloning "${guest.name}" as "${newName}" (copying disks)…` },
      () => cloner.clone(newName),
    );
    void vscode.window.showInformationMessage(`"${r.name}" is a copy of "${guest.name}" with ${r.disks.length} disk(s) of its own.`);
  } catch (e) {
    deps.log.error(`Clone ${guest.name} failed: ${message(e)}`);
    void vscode.window.showErrorMessage(`Clone "${guest.name}" failed: ${message(e)}`);
  } finally {
    void g.conn.refresh();
  }
}

function capabilityOf<K extends 'clone'>(n: GuestNode, name: K) {
  if (!n.guest || n.conn.status.state !== 'connected') return undefined;
  try {
    return capabilitiesOf(n.conn.requireBackend(), n.guest)[name];
  } catch {
    return undefined;
  }
}

/** "QFI\xfb": a qcow2 image; anything else is uploaded as raw bytes. */
async function imageFormat(file: string): Promise<'qcow2' | 'raw'> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    return head.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb])) ? 'qcow2' : 'raw';
  } finally {
    await fh.close();
  }
}

/** Progress in the notification area, cancellable: the transfer gets an AbortSignal. */
async function transfer<T>(title: string, run: (opts: TransferOptions) => Promise<T>): Promise<T> {
  return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    let reported = 0;
    return run({
      signal: ac.signal,
      onProgress: (done, total) => {
        const pct = Math.min(100, (done / Math.max(total, 1)) * 100);
        progress.report({ increment: pct - reported, message: `${bytes(done)} of ${bytes(total)}` });
        reported = pct;
      },
    });
  });
}

export async function uploadVolume(deps: HostObjectDeps, node?: unknown): Promise<void> {
  const n = await pickNode<PoolNode>(deps, node, 'pool');
  const storage = n?.parent.storage();
  if (!n || !storage) return;
  const [file] = (await vscode.window.showOpenDialog({ title: `Upload a file into pool "${n.view.name}"`, canSelectMany: false })) ?? [];
  if (!file) return;
  const name = await vscode.window.showInputBox({
    title: `Upload into "${n.view.name}": volume name`,
    value: path.basename(file.fsPath),
    validateInput: (v) => objectNameProblem(v, 'volume'),
  });
  if (name === undefined) return;
  const size = (await fs.promises.stat(file.fsPath)).size;
  const format = await imageFormat(file.fsPath);
  await act(deps, `Upload "${name}" (${bytes(size)}, ${format}) into "${n.view.name}"`, n, () =>
    transfer(`Uploading "${name}" into "${n.view.name}"`, (opts) =>
      storage.uploadVolume(n.view.name, { name, format }, fs.createReadStream(file.fsPath), size, opts),
    ),
  );
}

export async function downloadVolume(deps: HostObjectDeps, node?: unknown): Promise<void> {
  const n = await pickNode<VolumeNode>(deps, node, 'volume');
  const storage = n?.parent.parent.storage();
  if (!n || !storage) return;
  const target = await vscode.window.showSaveDialog({
    title: `Download volume "${n.view.name}"`,
    defaultUri: vscode.Uri.file(path.join(os.homedir(), n.view.name.replace(/[/\\]/g, '_'))),
  });
  if (!target) return;
  // written beside the target, renamed when complete: a cancelled download leaves no half file
  const part = `${target.fsPath}.part`;
  try {
    const count = await transfer(`Downloading "${n.view.name}"`, (opts) => storage.downloadVolume(n.view.pool, n.view.name, fs.createWriteStream(part), opts));
    await fs.promises.rename(part, target.fsPath);
    void vscode.window.showInformationMessage(`Downloaded "${n.view.name}" (${bytes(count)}) to ${target.fsPath}.`);
  } catch (e) {
    await fs.promises.rm(part, { force: true });
    deps.log.error(`Download of "${n.view.name}" failed: ${message(e)}`);
    void vscode.window.showErrorMessage(`Download of "${n.view.name}" failed: ${message(e)}`);
  }
}
