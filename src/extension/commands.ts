// Lifecycle verbs and the other tree/palette commands. Every command takes a tree node (verbs: the
// whole selection), or asks with a quick pick when run from the command palette. Registered in
// registry.ts.
import * as vscode from 'vscode';
import { createBackend } from '../core/backends';
import { capability, Cluster, OperationOptions } from '../core/capabilities';
import { Connection } from '../core/connection';
import { GuestRef, Inventory } from '../core/inventory';
import { ConnectionConfig, Guest, Verb, verbLabel, verbsFor } from '../core/model';
import { ClusterNode, ConnectionNode, GuestNode, HostNode, MessageNode } from '../views/guestTree';
import { Connections } from './connections';
import { definitionUri, DefinitionProvider } from './definitions';
import { pickGuest } from './pickers';
import { confirmation, labelFor, planVerb, skippedMessage, targetsOf } from './selection';
import { vscodeUi } from './vscodeUi';

export interface CommandsDeps {
  connections: Connections;
  /** The model: what the pickers offer. */
  model: Inventory;
  log: vscode.LogOutputChannel;
  definitions: DefinitionProvider;
}
type Ctx = CommandsDeps;

/** Guest nodes among what the tree passed (clicked, selection); none from the palette or another node. */
function guestTargets(clicked: unknown, selected: unknown): GuestRef[] {
  return targetsOf(clicked, selected).filter((n): n is GuestNode => (n as { kind?: string } | undefined)?.kind === 'guest');
}

/** A lifecycle verb on the clicked guest or the whole selection: guests whose state does not allow it are skipped (one message), destructive verbs ask once. */
export async function runVerb(ctx: Ctx, verb: Verb, clicked?: unknown, selected?: unknown): Promise<void> {
  let nodes = guestTargets(clicked, selected);
  if (!nodes.length) {
    const picked = await pickGuest(vscodeUi, ctx.model, { title: `virtscope: ${verbLabel(verb, 'qemu')}`, filter: (g) => verbsFor(g).includes(verb) });
    if (!picked) return;
    nodes = [picked];
  }
  const plan = planVerb(
    verb,
    nodes.map((node) => ({ node, guest: node.guest, name: node.guest?.name ?? node.guestId })),
  );
  for (const conn of new Set(plan.skipped.filter((s) => s.why === 'gone').map((s) => s.node.conn))) void conn.refresh();
  const skipped = skippedMessage(verb, plan);
  if (skipped) void vscode.window.showWarningMessage(skipped);
  if (!plan.apply.length) return;
  const ask = confirmation(
    verb,
    plan.apply.map((a) => a.guest),
  );
  if (ask && (await vscode.window.showWarningMessage(ask.message, { modal: true, detail: ask.detail }, ask.button)) !== ask.button) return;
  const title = `${labelFor(
    verb,
    plan.apply.map((a) => a.guest),
  )} ${plan.apply.map((a) => a.guest.name).join(', ')}`;
  // a cluster's verbs follow its operations: cancellable, with the server's progress
  const clustered = plan.apply.every(({ node }) => clusterOf(node.conn));
  const where = clustered ? vscode.ProgressLocation.Notification : { viewId: 'virtscope.guests' };
  await vscode.window.withProgress({ location: where, title, cancellable: clustered }, (progress, token) => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    const op = { signal: ac.signal, onProgress: (message: string) => progress.report({ message }) };
    return Promise.all(plan.apply.map(({ node, guest }) => perform(ctx, verb, node.conn, guest, op)));
  });
}

/** The cluster verbs of a connection (LXD), while it is connected. */
function clusterOf(conn: Connection): Cluster | undefined {
  return conn.status.state === 'connected' ? capability(conn.requireBackend(), undefined, 'cluster') : undefined;
}

async function perform(ctx: Ctx, verb: Verb, conn: Connection, g: Guest, op: OperationOptions): Promise<void> {
  const vl = verbLabel(verb, g.kind);
  try {
    const cluster = clusterOf(conn);
    if (cluster) await cluster.run(g.id, verb, op).finally(() => conn.refresh().catch(() => undefined));
    else await conn.perform(g.id, verb);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.log.error(`${vl} ${g.name} on ${conn.label} failed: ${msg}`);
    void vscode.window.showErrorMessage(`${vl} "${g.name}" failed: ${msg}`);
  }
}

export async function inspect(ctx: Ctx, node?: GuestRef): Promise<void> {
  node ??= await pickGuest(vscodeUi, ctx.model, { title: 'virtscope: Inspect', none: 'Inspect: no guest is listed (is a connection unreachable?).' });
  const g = node?.guest;
  if (!node || !g) return;
  try {
    const def = await node.conn.requireBackend().definition(g.id);
    const uri = definitionUri(node.conn.config.id, g.name, g.id, def.language);
    ctx.definitions.refresh(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const lang = def.language === 'lxc-config' ? 'properties' : def.language;
    const shown = doc.languageId === lang ? doc : await vscode.languages.setTextDocumentLanguage(doc, lang).then(undefined, () => doc);
    await vscode.window.showTextDocument(shown, { preview: true });
  } catch (e) {
    void vscode.window.showErrorMessage(`Inspect "${g.name}" failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A connection or guest: its connection; a host: its connections; nothing: every connection. */
export async function refresh(ctx: Ctx, node?: HostNode | ConnectionNode | GuestNode | ClusterNode): Promise<void> {
  // a remote host that cannot be reached is tried again now, instead of at its next retry
  const hosts = node?.kind === 'host' ? [node.host] : node ? [] : ctx.model.hosts;
  const down = hosts.filter((h) => h.remote && h.status.state === 'unreachable').map((h) => ctx.model.reconnectHost(h.id));
  const conns: readonly Connection[] = node?.kind === 'host' ? node.host.connections : node ? [node.conn] : ctx.model.connections;
  await Promise.all(down);
  await Promise.all(conns.map((c) => c.refresh()));
}

export async function connectionHelp(ctx: Ctx, node?: ConnectionNode | MessageNode | ClusterNode): Promise<void> {
  const conn = node?.kind === 'message' ? (node.parent.kind !== 'host' ? node.parent.conn : undefined) : node?.conn;
  if (!conn) return;
  const s = conn.status;
  if (s.state !== 'unreachable') return void conn.refresh();
  const pick = await vscode.window.showErrorMessage(
    `${conn.label} is unreachable: ${s.message}`,
    { modal: false, detail: s.hint },
    'Retry',
    'Edit Connections',
    'Show Log',
  );
  if (pick === 'Retry') await conn.refresh();
  if (pick === 'Edit Connections') await vscode.commands.executeCommand('workbench.action.openSettings', 'virtscope.connections');
  if (pick === 'Show Log') ctx.log.show();
}

export async function addConnection(ctx: Ctx): Promise<void> {
  const type = await vscode.window.showQuickPick(
    [
      { label: 'libvirt', description: 'qemu:///system, lxc:///system, test+unix:///default, …', value: 'libvirt' as const },
      { label: 'LXC (lxc-tools)', description: 'containers under an lxcpath', value: 'lxc' as const },
      { label: 'Docker / Podman', description: 'a Docker-compatible API socket', value: 'docker' as const },
    ],
    { title: 'Add connection: kind' },
  );
  if (!type) return;
  const existing = ctx.connections.configured();
  let cfg: ConnectionConfig | undefined;
  if (type.value === 'libvirt') {
    const uri = await vscode.window.showInputBox({
      title: 'Add connection: libvirt URI',
      value: 'qemu:///system',
      validateInput: (v) =>
        /^[a-z0-9]+(\+unix)?:\/\/[^\s]*$/i.test(v.trim()) ? undefined : 'A libvirt URI such as qemu:///system (local unix socket transports only)',
    });
    if (!uri) return;
    cfg = { id: uri.trim(), label: uri.trim(), type: 'libvirt', uri: uri.trim() };
  } else if (type.value === 'lxc') {
    const p = await vscode.window.showInputBox({ title: 'Add connection: lxcpath (empty for the default)', value: '' });
    if (p === undefined) return;
    cfg = { id: `lxc:${p.trim() || 'default'}`, label: `LXC ${p.trim() || '(default lxcpath)'}`, type: 'lxc', lxcPath: p.trim() || undefined };
  } else {
    const p = await vscode.window.showInputBox({ title: 'Add connection: API socket path', value: '/run/podman/podman.sock' });
    if (!p) return;
    cfg = { id: `docker:${p.trim()}`, label: `Containers (${p.trim()})`, type: 'docker', socketPath: p.trim() };
  }
  if (existing.some((c) => c.id === cfg!.id)) {
    void vscode.window.showWarningMessage(`A connection "${cfg.id}" exists already.`);
    return;
  }
  // Try it first, so a typo is reported now rather than as an unreachable node.
  const probe = createBackend(cfg);
  try {
    await probe.connect();
  } catch (e) {
    const go = await vscode.window.showWarningMessage(
      `${cfg.id} does not answer: ${e instanceof Error ? e.message : String(e)}`,
      { modal: true },
      'Add Anyway',
    );
    if (go !== 'Add Anyway') return;
  } finally {
    await probe.close().catch(() => {});
  }
  await ctx.connections.save([...existing, cfg]);
}

export async function removeConnection(ctx: Ctx, node?: ConnectionNode): Promise<void> {
  if (node?.parent.host.remote) {
    void vscode.window.showInformationMessage(`${node.conn.label} was found on ${node.parent.host.label}: it goes away with Remove Host.`);
    return;
  }
  const existing = ctx.connections.configured();
  let id = node?.conn.config.id;
  if (!id) {
    const pick = await vscode.window.showQuickPick(
      existing.map((c) => ({ label: c.label ?? c.id, description: c.uri ?? c.socketPath ?? c.type, id: c.id })),
      {
        title: 'Remove connection',
      },
    );
    id = pick?.id;
  }
  if (!id) return;
  const ok = await vscode.window.showWarningMessage(
    `Remove the connection "${id}" from virtscope?`,
    { modal: true, detail: 'Only the entry in virtscope.connections is removed; nothing on the host changes.' },
    'Remove',
  );
  if (ok !== 'Remove') return;
  await ctx.connections.save(existing.filter((c) => c.id !== id));
}
