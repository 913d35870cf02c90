// Storage pools' and networks' definitions as documents, the way guests have theirs (editing.ts):
// "New Storage Pool…" / "New Network…" open a template defined on first save, "Edit Pool
// Definition" / "Edit Network Definition" open the host's XML. The language server checks them
// against libvirt's storagepool.rng / network.rng (chosen by the root element); saving goes through
// the same file system, with the same refusal when the host changed meanwhile.
import * as vscode from 'vscode';
import { capabilitiesOf } from '../core/capabilities';
import { networkTemplate, poolTemplate } from '../core/storage/templates';
import { objectNameProblem } from '../core/storage/model';
import type { Connection } from '../core/connection';
import { DefinedObject, EditingDeps, GuestFileSystem, guestUri, openAs } from './editing';
import { pickConnection } from './pickers';
import { vscodeUi } from './vscodeUi';

const WORDS: Record<DefinedObject, { title: string; what: string; prefix: string }> = {
  pool: { title: 'New Storage Pool', what: 'storage pool', prefix: 'pool' },
  network: { title: 'New Network', what: 'network', prefix: 'net' },
};

interface ObjectNodeLike {
  kind?: string;
  view?: { name: string };
  parent?: { conn?: Connection; parent?: { conn?: Connection } };
}

/** The connection a Storage/Networks group or a pool/network node belongs to. */
function connectionOf(node: unknown): Connection | undefined {
  const n = node as ObjectNodeLike | undefined;
  if (n?.kind === 'storage' || n?.kind === 'networks') return n.parent?.conn;
  if (n?.kind === 'pool' || n?.kind === 'network') return n.parent?.parent?.conn;
  if (n?.kind === 'connection') return (n as { conn?: Connection }).conn;
  return undefined;
}

async function libvirtConnection(deps: EditingDeps, node: unknown, title: string): Promise<Connection | undefined> {
  return (
    connectionOf(node) ??
    pickConnection(vscodeUi, deps.model, {
      title,
      filter: (c) => c.config.type === 'libvirt' && c.status.state === 'connected',
      none: `${title}: no connected libvirt host.`,
    })
  );
}

/** A free 192.168.N subnet among the connection's networks, for the template. */
function freeSubnet(addresses: readonly string[]): string {
  const used = new Set(addresses.map((a) => /^192\.168\.(\d+)\./.exec(a)?.[1]).filter(Boolean));
  let n = 150;
  while (used.has(String(n)) && n < 254) n++;
  return `192.168.${n}`;
}

export async function newObjectDefinition(fsp: GuestFileSystem, deps: EditingDeps, object: DefinedObject, node?: unknown): Promise<void> {
  const w = WORDS[object];
  const conn = await libvirtConnection(deps, node, w.title);
  if (!conn) return;
  const caps = capabilitiesOf(conn.requireBackend());
  const existing = object === 'pool' ? await caps.storage?.pools() : await caps.networks?.list();
  if (!existing) return void vscode.window.showInformationMessage(`${conn.label} has no ${w.what}s (is it connected?).`);
  const taken = new Set(existing.map((o) => o.name));
  let n = 1;
  while (taken.has(`${w.prefix}${n}`)) n++;
  const name = await vscode.window.showInputBox({
    title: `${w.title} on ${conn.label}`,
    prompt: `Name of the new ${w.what} (defined when you save the document)`,
    value: `${w.prefix}${n}`,
    validateInput: (v) => objectNameProblem(v.trim(), w.what) ?? (taken.has(v.trim()) ? `"${v.trim()}" exists on ${conn.label}` : undefined),
  });
  if (!name) return;
  const addresses = object === 'network' ? (existing as readonly { addresses: readonly string[] }[]).flatMap((x) => x.addresses) : [];
  const text = object === 'pool' ? poolTemplate(name.trim(), `/var/lib/libvirt/images/${name.trim()}`) : networkTemplate(name.trim(), freeSubnet(addresses));
  const uri = guestUri(conn.config.id, name.trim(), 'xml', { new: true, object });
  fsp.register(uri, { connId: conn.config.id, object, name: name.trim(), isNew: true, language: 'xml', content: new TextEncoder().encode(text) });
  deps.log.info(`${conn.label}: new ${w.what} "${name.trim()}" from a template (defined on save)`);
  await openAs(uri, 'xml');
}

export async function editObjectDefinition(fsp: GuestFileSystem, deps: EditingDeps, object: DefinedObject, node?: unknown): Promise<void> {
  const n = node as ObjectNodeLike | undefined;
  const conn = connectionOf(node);
  const name = n?.kind === object ? n.view?.name : undefined;
  if (!conn || !name) {
    void vscode.window.showInformationMessage(
      `Pick the ${WORDS[object].what} in the Guests view (under its connection's ${object === 'pool' ? 'Storage' : 'Networks'}).`,
    );
    return;
  }
  const uri = guestUri(conn.config.id, name, 'xml', { guest: name, object });
  if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) {
    fsp.register(uri, { connId: conn.config.id, object, guestId: name, name, isNew: false, language: 'xml' });
  }
  try {
    await openAs(uri, 'xml');
  } catch (e) {
    deps.log.error(`Edit ${WORDS[object].what} "${name}": ${e instanceof Error ? e.message : String(e)}`);
    void vscode.window.showErrorMessage(`Cannot edit "${name}": ${e instanceof Error ? e.message : String(e)}`);
  }
}
