// LXD / Incus clusters in the Guests tree: Add LXD / Incus…, the by-member / flat toggle, and the
// cluster's own verbs (launch, move, evacuate and restore a member). Each long verb follows LXD's
// operation with a cancellable progress that shows LXD's own progress text; destructive ones ask
// first (modal) and say what will happen. Lifecycle verbs, snapshots and the YAML definition go
// through the shared commands (capabilities of the LXD backend).
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Cluster, OperationOptions } from '../core/capabilities';
import { capability } from '../core/capabilities';
import { LxdEntry, lxdConnectionId } from '../core/config';
import type { Connection } from '../core/connection';
import { LxdBackend, type LxdCredentials } from '../core/backends/lxdBackend';
import { presentedCertificate } from '../core/backends/lxd/client';
import { makeClientCertificate, trustClient } from '../core/backends/lxdTrust';
import type { ConnectionConfig, Guest } from '../core/model';
import type { ClusterNode, GuestNode, GuestTreeProvider, MemberNode, ProjectNode } from '../views/guestTree';
import type { Config } from './config';
import type { Connections } from './connections';

/** The client certificates of HTTPS servers, in VS Code's SecretStorage (never in settings). */
export class LxdSecrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  private key(connectionId: string): string {
    return `virtscope.${connectionId}`;
  }

  async get(config: ConnectionConfig): Promise<LxdCredentials | undefined> {
    const text = await this.storage.get(this.key(config.id));
    if (!text) return undefined;
    const c = JSON.parse(text) as LxdCredentials;
    return c.clientCert && c.clientKey && c.serverCert ? c : undefined;
  }

  store(connectionId: string, creds: LxdCredentials): Thenable<void> {
    return this.storage.store(this.key(connectionId), JSON.stringify(creds));
  }
}

export interface LxdDeps {
  readonly lxdSecrets: LxdSecrets;
  readonly config: Config;
  readonly connections: Connections;
  readonly tree: GuestTreeProvider;
  readonly log: vscode.LogOutputChannel;
}

/** Where LXD and Incus put their local unix socket (snap, Debian/other packages, Incus). */
export const LOCAL_LXD_SOCKETS = ['/var/snap/lxd/common/lxd/unix.socket', '/var/lib/lxd/unix.socket', '/var/lib/incus/unix.socket'];

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const kindOf = (n: unknown): string | undefined => (n as { kind?: string } | undefined)?.kind;

/** LXD's rule for instance names (a hostname label): refused here with the rule, before LXD is asked. */
export function instanceNameProblem(name: string): string | undefined {
  if (!name) return 'A name is needed';
  if (name.length > 63) return 'At most 63 characters';
  if (!/^[A-Za-z0-9-]+$/.test(name)) return 'Only letters, digits and "-" (LXD names are host names)';
  if (/^[-0-9]/.test(name)) return 'Must start with a letter';
  if (name.endsWith('-')) return 'Cannot end with "-"';
  return undefined;
}

const isSocket = (p: string) => {
  try {
    return fs.statSync(p).isSocket();
  } catch {
    return false;
  }
};

/** Add LXD / Incus…: a local socket found here, another socket path, on a host of virtscope.hosts. */
export async function addLxd(deps: LxdDeps): Promise<void> {
  const found = LOCAL_LXD_SOCKETS.filter(isSocket);
  const pick = await vscode.window.showQuickPick(
    [
      ...found.map((p) => ({ label: p, description: p.includes('incus') ? 'Incus on this machine' : 'LXD on this machine', value: p })),
      { label: 'Another unix socket…', description: 'a path on this machine or on a host of virtscope.hosts', value: '' },
      { label: 'A remote server over HTTPS…', description: 'trusted with a join token or the trust password', value: 'https' },
    ],
    { title: 'Add LXD / Incus', placeHolder: found.length ? 'Sockets found on this machine' : 'No LXD or Incus socket found on this machine' },
  );
  if (!pick) return;
  if (pick.value === 'https') return addHttps(deps);
  const hosts = deps.connections.configuredHosts();
  let host: string | undefined;
  let socket = pick.value;
  if (!socket) {
    if (hosts.length) {
      const where = await vscode.window.showQuickPick(
        [
          { label: 'This machine', id: undefined as string | undefined },
          ...hosts.map((h) => ({ label: h.label ?? h.destination, description: h.destination, id: h.id })),
        ],
        { title: 'Add LXD / Incus: where is the socket?' },
      );
      if (!where) return;
      host = where.id;
    }
    const typed = await vscode.window.showInputBox({
      title: 'Add LXD / Incus: unix socket path',
      value: LOCAL_LXD_SOCKETS[1],
      validateInput: (v) => (v.trim().startsWith('/') ? undefined : 'An absolute path, such as /var/lib/lxd/unix.socket'),
    });
    if (!typed) return;
    socket = typed.trim();
  }
  await saveEntry(deps, { socket, host });
}

/** The name of a new entry, unique among `virtscope.lxd`; undefined: cancelled. */
async function askName(existing: readonly LxdEntry[], suggested: string): Promise<string | undefined> {
  const taken = new Set(existing.map((e) => e.name));
  let n = suggested;
  for (let i = 2; taken.has(n); i++) n = `${suggested}-${i}`;
  const name = await vscode.window.showInputBox({
    title: 'Add LXD / Incus: name in the tree',
    value: n,
    validateInput: (v) =>
      !/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(v.trim()) ? 'Letters, digits and . _ @ - only' : taken.has(v.trim()) ? `"${v.trim()}" exists already` : undefined,
  });
  return name?.trim() || undefined;
}

/**
 * HTTPS, as `lxc remote add` does it: the server's certificate shown and pinned, a client certificate
 * made here and trusted with a join token or the trust password; its key goes to SecretStorage.
 */
async function addHttps(deps: LxdDeps): Promise<void> {
  const url = (
    await vscode.window.showInputBox({
      title: 'Add LXD / Incus: server address',
      placeHolder: 'https://10.0.0.5:8443',
      validateInput: (v) => (/^https:\/\/[^\s/]+\/?$/.test(v.trim()) ? undefined : 'https://host[:port] (LXD listens on 8443 by default)'),
    })
  )
    ?.trim()
    .replace(/\/$/, '');
  if (!url) return;
  let seen;
  try {
    seen = await presentedCertificate(url);
  } catch (e) {
    return void vscode.window.showErrorMessage(`${url} did not answer: ${message(e)}`);
  }
  const pin = await vscode.window.showWarningMessage(
    `Trust the server at ${url}?`,
    {
      modal: true,
      detail: `Its certificate's SHA-256 fingerprint is\n${seen.fingerprint}\n\nCompare it with the one the server shows (lxc info | grep fingerprint) before you go on.`,
    },
    'Pin and Continue',
  );
  if (pin !== 'Pin and Continue') return;
  const how = await vscode.window.showQuickPick(
    [
      { label: 'A join token', description: 'printed by `lxc config trust add` on the server', token: true },
      { label: 'The trust password', description: "the server's core.trust_password", token: false },
    ],
    { title: `Add ${url}: trust virtscope with` },
  );
  if (!how) return;
  const secret = await vscode.window.showInputBox({ title: `Add ${url}: ${how.label.toLowerCase()}`, password: true, ignoreFocusOut: true });
  if (!secret) return;
  const existing = deps.config.lxdEntries();
  const name = await askName(existing, new URL(url).hostname.replace(/[^A-Za-z0-9._@-]/g, '-'));
  if (!name) return;
  try {
    const creds = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Trusting virtscope on ${url}` }, async () =>
      trustClient(url, seen.pem, await makeClientCertificate(), how.token ? { token: secret.trim() } : { password: secret }),
    );
    await deps.lxdSecrets.store(lxdConnectionId(name), creds);
  } catch (e) {
    return void vscode.window.showErrorMessage(`${url} did not trust virtscope: ${message(e)}`);
  }
  await deps.config.saveLxd([...existing, { name, url, fingerprint: seen.fingerprint }]);
  deps.log.info(`LXD added: ${name} (${url}, certificate ${seen.fingerprint} pinned)`);
}

async function saveEntry(deps: LxdDeps, where: { socket: string; host?: string }): Promise<void> {
  const existing = deps.config.lxdEntries();
  const name = await askName(existing, where.socket.includes('incus') ? 'incus' : 'lxd');
  if (!name) return;
  const entry: LxdEntry = { name, socket: where.socket, ...(where.host ? { host: where.host } : {}) };
  // tried first, so a typo or a refusal is said now rather than as an unreachable root
  const remote = where.host ? deps.connections.model.host(where.host)?.host : undefined;
  const probe = new LxdBackend({ id: lxdConnectionId(entry.name), type: 'lxd', socketPath: where.socket }, { host: remote });
  try {
    await probe.connect();
  } catch (e) {
    const go = await vscode.window.showWarningMessage(`${where.socket} does not answer: ${message(e)}`, { modal: true }, 'Add Anyway');
    if (go !== 'Add Anyway') return;
  } finally {
    await probe.close().catch(() => undefined);
  }
  await deps.config.saveLxd([...existing, entry]);
  deps.log.info(`LXD added: ${entry.name} (${where.socket}${where.host ? ` on ${where.host}` : ''})`);
}

/** Cluster instances by member, or flat. */
export function toggleGrouping(deps: LxdDeps): void {
  deps.tree.setClusterGrouping(deps.tree.clusterGrouping === 'member' ? 'flat' : 'member');
}

type ClusterLevel = ClusterNode | ProjectNode | MemberNode;

/** The cluster of a node (cluster, project, member, guest), or one picked from the connected clusters. */
/** The cluster of the clicked node, else the only connected one, else a pick. */
export async function clusterOfNode(deps: LxdDeps, node: unknown, title: string): Promise<{ conn: Connection; cluster: Cluster } | undefined> {
  const k = kindOf(node);
  let conn: Connection | undefined =
    k === 'cluster' || k === 'project' || k === 'member' || k === 'guest' ? (node as ClusterLevel | GuestNode).conn : undefined;
  if (!conn || conn.config.type !== 'lxd') {
    const live = deps.connections.model.clusters.filter((c) => c.status.state === 'connected');
    if (!live.length) return void vscode.window.showInformationMessage(`${title}: no LXD server or cluster is connected. Add one with "Add LXD / Incus…".`);
    conn =
      live.length === 1
        ? live[0]
        : (
            await vscode.window.showQuickPick(
              live.map((c) => ({ label: c.label, description: c.config.socketPath ?? c.config.url, c })),
              { title },
            )
          )?.c;
  }
  if (!conn) return undefined;
  const cluster = capability(conn.requireBackend(), undefined, 'cluster');
  if (!cluster) return void vscode.window.showErrorMessage(`${conn.label} has no cluster verbs`);
  return { conn, cluster };
}

/** Runs one LXD operation with a cancellable notification showing LXD's progress; errors are shown, not thrown. */
export async function withOperation(deps: LxdDeps, conn: Connection, title: string, act: (o: OperationOptions) => Promise<void>): Promise<boolean> {
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      try {
        await act({ signal: ac.signal, onProgress: (text) => progress.report({ message: text }) });
      } finally {
        sub.dispose();
      }
    });
    deps.log.info(`${conn.label}: ${title}: done`);
    return true;
  } catch (e) {
    deps.log.error(`${conn.label}: ${title} failed: ${message(e)}`);
    void vscode.window.showErrorMessage(`${title} failed: ${message(e)}`);
    return false;
  } finally {
    void conn.refresh().catch(() => undefined);
  }
}

/** Launch Instance…: an image of the cluster, a name, a member (or the cluster places it). */
export async function launchInstance(deps: LxdDeps, node?: unknown): Promise<void> {
  const c = await clusterOfNode(deps, node, 'Launch Instance');
  if (!c) return;
  const project = kindOf(node) === 'project' ? (node as ProjectNode).project : kindOf(node) === 'member' ? (node as MemberNode).project : undefined;
  let images;
  try {
    images = await c.cluster.images(project);
  } catch (e) {
    return void vscode.window.showErrorMessage(`Cannot list the images of ${c.conn.label}: ${message(e)}`);
  }
  if (!images.length) return void vscode.window.showInformationMessage(`${c.conn.label} has no images: import one first (lxc image import).`);
  const image = await vscode.window.showQuickPick(
    images.map((i) => ({ label: i.label, description: i.description, i })),
    { title: `Launch on ${c.conn.label}: image` },
  );
  if (!image) return;
  const taken = new Set([...c.conn.guests.values()].map((g) => g.name));
  const name = await vscode.window.showInputBox({
    title: `Launch ${image.label} on ${c.conn.label}: name`,
    validateInput: (v) => instanceNameProblem(v.trim()) ?? (taken.has(v.trim()) ? `"${v.trim()}" exists already` : undefined),
  });
  if (!name) return;
  const target = await pickMember(c.conn, kindOf(node) === 'member' ? (node as MemberNode).name : undefined, `Launch "${name.trim()}": where`, true);
  if (target === undefined) return;
  const where = target ? ` on ${target}` : '';
  await withOperation(deps, c.conn, `Launch "${name.trim()}"${where}`, (o) =>
    c.cluster.launch({ name: name.trim(), image: image.i.ref, type: image.i.type, target: target || undefined, project }, o),
  );
}

/** A member: '' lets the cluster place it (when `placeable`); undefined: cancelled. */
async function pickMember(conn: Connection, preferred: string | undefined, title: string, placeable: boolean, except?: string): Promise<string | undefined> {
  const online = conn.members.filter((m) => m.status === 'online' && m.name !== except);
  if (!conn.members.length) return '';
  const items = [
    ...(placeable ? [{ label: 'Let the cluster place it', description: 'LXD picks the member with the fewest instances', value: '' }] : []),
    ...online.map((m) => ({ label: m.name, description: `${m.roles.join(', ') || 'member'}${m.failureDomain ? ` · ${m.failureDomain}` : ''}`, value: m.name })),
  ];
  if (!items.length) return void vscode.window.showWarningMessage(`No other member of ${conn.label} is online.`);
  const ordered = preferred ? [...items.filter((i) => i.value === preferred), ...items.filter((i) => i.value !== preferred)] : items;
  return (await vscode.window.showQuickPick(ordered, { title }))?.value;
}

/** Move to Member…: a stopped instance moves as is; a running one is stopped, moved and started again (asked first). */
export async function moveInstance(deps: LxdDeps, node?: unknown): Promise<void> {
  if (kindOf(node) !== 'guest') return void vscode.window.showInformationMessage('Move to Member: right-click an LXD instance in the Guests view.');
  const n = node as GuestNode;
  const g = n.guest;
  const c = g && (await clusterOfNode(deps, n, 'Move to Member'));
  if (!g || !c) return;
  const target = await pickMember(c.conn, undefined, `Move "${g.name}" from ${g.location ?? '?'} to`, false, g.location);
  if (!target) return;
  const running = g.state === 'running' || g.state === 'paused';
  if (running) {
    const ok = await vscode.window.showWarningMessage(
      `Move "${g.name}" to ${target}?`,
      { modal: true, detail: `"${g.name}" runs: it is stopped, moved, and started again on ${target}. Its programs stop meanwhile.` },
      'Stop, Move and Start',
    );
    if (ok !== 'Stop, Move and Start') return;
  }
  await withOperation(deps, c.conn, `Move "${g.name}" to ${target}`, async (o) => {
    if (running) await c.cluster.run(g.id, 'shutdown', o);
    await c.cluster.move(g.id, target, o);
    if (running) await c.cluster.run(g.id, 'start', o);
  });
}

/** The instances on a member (what an evacuation moves or stops). */
export function onMember(conn: Connection, member: string): Guest[] {
  return [...conn.guests.values()].filter((g) => g.location === member).sort((a, b) => a.name.localeCompare(b.name));
}

async function memberNodeOf(
  deps: LxdDeps,
  node: unknown,
  title: string,
  status: 'online' | 'evacuated',
): Promise<{ conn: Connection; cluster: Cluster; member: string } | undefined> {
  const c = await clusterOfNode(deps, node, title);
  if (!c) return undefined;
  if (kindOf(node) === 'member') return { ...c, member: (node as MemberNode).name };
  const ms = c.conn.members.filter((m) => m.status === status);
  if (!ms.length) return void vscode.window.showInformationMessage(`${title}: no member of ${c.conn.label} is ${status}.`);
  const pick = await vscode.window.showQuickPick(
    ms.map((m) => ({ label: m.name, description: `${onMember(c.conn, m.name).length} instances` })),
    { title },
  );
  return pick && { ...c, member: pick.label };
}

/** Evacuate Member: asks first, naming what will move (or stop). */
export async function evacuateMember(deps: LxdDeps, node?: unknown): Promise<void> {
  const m = await memberNodeOf(deps, node, 'Evacuate Member', 'online');
  if (!m) return;
  const list = onMember(m.conn, m.member);
  const names = list.map((g) => `${g.name} (${g.state})`).join(', ');
  const ok = await vscode.window.showWarningMessage(
    `Evacuate ${m.member}?`,
    {
      modal: true,
      detail: `${list.length ? `Its ${list.length} instance(s) move to the other members (or are stopped where they cannot move): ${names}.` : 'It has no instances.'} New instances are not placed on it until it is restored.`,
    },
    'Evacuate',
  );
  if (ok !== 'Evacuate') return;
  await withOperation(deps, m.conn, `Evacuate ${m.member}`, (o) => m.cluster.evacuate(m.member, o));
}

/** Restore Member: its evacuated instances come back (asked first). */
export async function restoreMember(deps: LxdDeps, node?: unknown): Promise<void> {
  const m = await memberNodeOf(deps, node, 'Restore Member', 'evacuated');
  if (!m) return;
  const ok = await vscode.window.showWarningMessage(
    `Restore ${m.member}?`,
    { modal: true, detail: `${m.member} takes instances again; the instances evacuated from it move back and start.` },
    'Restore',
  );
  if (ok !== 'Restore') return;
  await withOperation(deps, m.conn, `Restore ${m.member}`, (o) => m.cluster.restore(m.member, o));
}
