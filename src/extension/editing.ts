// Guest definitions as editable documents: a FileSystemProvider for `virtscope-guest:` backed by the
// host (libvirt domain XML, lxc-tools configs; Docker/Podman stay read-only under Inspect), the
// "Edit Definition" and "New Guest from Template…" commands, and the language client. Storage pools
// and networks of a libvirt connection go the same way ("New Storage Pool…", "Edit Pool Definition").
//   virtscope-guest:/<connection>/<name>.xml?guest=<id>   an existing guest
//   virtscope-guest:/<connection>/<name>.xml?new=1        a guest created on first save
//   virtscope-guest:/<connection>/<name>.xml?pool=<name>  an existing pool (network=<name>: a network)
//   virtscope-guest:/<connection>/<name>.xml?new=pool     a pool defined on first save (new=network)
// Saving defines the guest on the host. A save the host rejects throws from writeFile (VS Code
// keeps the document dirty with the user's text; the host's definition is untouched) with the
// host's message; a definition changed on the host since it was opened is refused, with Compare
// and Overwrite offered.
import * as vscode from 'vscode';
import { Connection } from '../core/connection';
import { capabilitiesOf } from '../core/capabilities';
import { DefinitionConflictError, DefinitionRejectedError, EditableDefinitions, editableDefinitions, GuestExistsError } from '../core/editing/definitions';
import { renderTemplate, Template, templateFactsOf, templatesFor } from '../core/editing/templates';
import { localHost } from '../core/host/local';
import { run } from '../core/exec';
import { GuestKind } from '../core/model';
import { LIBVIRT_XML_LANGUAGE, LXC_LANGUAGE, VirtscopeLanguageClient } from '../language/client';
import type { GuestRef, Inventory } from '../core/inventory';
import type { AnyNode } from '../views/guestTree';
import { Connections } from './connections';
import { DEF_SCHEME } from './definitions';
import { followHostSchemas } from './hostSchemas';
import { pickConnection, pickGuest } from './pickers';
import { vscodeUi } from './vscodeUi';

export const GUEST_SCHEME = 'virtscope-guest';
/** Read-only snapshots of a host's definition, for Compare after a conflict. */
const HOST_SCHEME = 'virtscope-host';

/** A libvirt object beside guests that has an editable definition. */
export type DefinedObject = 'pool' | 'network';

interface Entry {
  readonly connId: string;
  /** Set for a storage pool's or network's document; guestId is then its name. */
  readonly object?: DefinedObject;
  guestId?: string;
  name: string;
  isNew: boolean;
  readonly language: EditableLanguage;
  /** The host's text when the document was read (or last saved): what a save expects to find. */
  baseline?: string;
  /** For new documents: the template text until the first save. */
  content?: Uint8Array;
  ctime: number;
  mtime: number;
  /** The user chose Overwrite after a conflict: the next write skips the check. */
  forceNext?: boolean;
}

/** The languages of editable definitions: libvirt XML, lxc-tools config, LXD's instance YAML. */
type EditableLanguage = 'xml' | 'lxc-config' | 'yaml';
const FILE_EXT: Record<EditableLanguage, string> = { xml: 'xml', 'lxc-config': 'conf', yaml: 'yaml' };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function guestUri(connId: string, name: string, language: EditableLanguage, q: { guest?: string; new?: boolean; object?: DefinedObject }): vscode.Uri {
  const safe = name.replace(/[/\\]/g, '_');
  const query = new URLSearchParams(q.new ? { new: q.object ?? '1' } : { [q.object ?? 'guest']: q.guest ?? name }).toString();
  return vscode.Uri.from({ scheme: GUEST_SCHEME, path: `/${encodeURIComponent(connId)}/${safe}.${FILE_EXT[language]}`, query });
}

export class GuestFileSystem implements vscode.FileSystemProvider {
  private readonly entries = new Map<string, Entry>();
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  /** Conflicting host texts by snapshot URI, for Compare. */
  readonly snapshots = new Map<string, string>();
  /** Documents whose pending save is an auto-save (files.autoSave), which never reaches the host. */
  private readonly autoSaving = new Set<string>();

  /** Remembers why a document is being saved: only an explicit save defines the guest. */
  noteSave(e: vscode.TextDocumentWillSaveEvent): void {
    if (e.document.uri.scheme !== GUEST_SCHEME) return;
    if (e.reason === vscode.TextDocumentSaveReason.Manual) this.autoSaving.delete(e.document.uri.toString());
    else this.autoSaving.add(e.document.uri.toString());
  }

  constructor(
    private readonly connections: Connections,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  /** Registers a document (called by the commands before opening it). */
  register(uri: vscode.Uri, e: Omit<Entry, 'ctime' | 'mtime'>): void {
    const now = Date.now();
    this.entries.set(uri.toString(), { ...e, ctime: now, mtime: now });
  }

  private entry(uri: vscode.Uri): Entry {
    let e = this.entries.get(uri.toString());
    if (e) return e;
    // a document restored from an earlier window: rebuild from the URI
    const connId = decodeURIComponent(uri.path.split('/')[1] ?? '');
    const q = new URLSearchParams(uri.query);
    const file = uri.path.split('/').pop() ?? '';
    const language = file.endsWith('.xml') ? 'xml' : file.endsWith('.yaml') ? 'yaml' : 'lxc-config';
    const object = q.get('pool') ? 'pool' : q.get('network') ? 'network' : undefined;
    const id = q.get(object ?? 'guest');
    if (q.get('new') || !id) throw vscode.FileSystemError.FileNotFound(uri);
    e = { connId, object, guestId: id, name: file.replace(/\.(xml|conf|yaml)$/, ''), isNew: false, language, ctime: Date.now(), mtime: Date.now() };
    this.entries.set(uri.toString(), e);
    return e;
  }

  private defs(e: Entry): { conn: Connection; defs: EditableDefinitions } {
    const conn = this.connections.byId(e.connId);
    if (!conn) throw vscode.FileSystemError.Unavailable(`No connection "${e.connId}" (was it removed from virtscope.connections?)`);
    if (e.object) {
      const caps = capabilitiesOf(conn.requireBackend());
      const defs = (e.object === 'pool' ? caps.storage : caps.networks)?.definitions;
      if (!defs) throw vscode.FileSystemError.Unavailable(`${conn.label} has no ${e.object === 'pool' ? 'storage pools' : 'networks'} (not connected?)`);
      return { conn, defs };
    }
    const defs = editableDefinitions(conn.requireBackend());
    if (!defs) throw vscode.FileSystemError.NoPermissions(`Definitions on ${conn.label} are read-only`);
    return { conn, defs };
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const e = this.entry(uri);
    return { type: vscode.FileType.File, ctime: e.ctime, mtime: e.mtime, size: e.content?.byteLength ?? 0 };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const e = this.entry(uri);
    if (e.isNew) return e.content ?? new Uint8Array();
    const { conn, defs } = this.defs(e);
    const text = await defs.read(e.guestId!);
    e.baseline = text;
    this.log.info(`${conn.label}: opened the definition of "${e.name}" for editing (${text.length} bytes)`);
    return enc.encode(text);
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const e = this.entry(uri);
    const { conn, defs } = this.defs(e);
    const text = dec.decode(content);
    const what = `"${e.name}" on ${conn.label}`;
    if (this.autoSaving.delete(uri.toString())) {
      // half-typed definitions must not reach the host: the document stays dirty until saved by hand
      throw new Error(`virtscope does not auto-save ${what}: save it explicitly (File: Save) to define it on the host`);
    }
    try {
      if (e.isNew) {
        let r;
        try {
          r = await defs.create(text, e.name);
        } catch (err) {
          if (!(err instanceof GuestExistsError)) throw err;
          const ok = await vscode.window.showWarningMessage(
            err.message,
            { modal: true, detail: 'Replace the existing definition with this document?' },
            'Replace',
          );
          if (ok !== 'Replace') throw new Error(`Not saved: ${err.message}`);
          r = await defs.create(text, e.name, { overwrite: true });
        }
        Object.assign(e, { isNew: false, guestId: r.guestId, name: r.name, baseline: r.text, content: undefined });
        this.log.info(`${conn.label}: created "${r.name}" (${r.guestId})`);
        void vscode.window.showInformationMessage(`Created "${r.name}" on ${conn.label}.`);
      } else {
        const force = e.forceNext;
        e.forceNext = false;
        const r = await defs.save(e.guestId!, text, force ? undefined : e.baseline, { force });
        e.baseline = r.text;
        if (r.guestId !== e.guestId) {
          // the XML named another domain (UUID removed, name changed): libvirt defined a new one
          this.log.warn(`${conn.label}: saving ${what} defined another domain, "${r.name}" (${r.guestId}); "${e.name}" is unchanged`);
          void vscode.window.showWarningMessage(
            `This definition now describes "${r.name}" (${r.guestId}), which libvirt defined as a separate ${e.object ?? 'domain'}. "${e.name}" is unchanged.`,
          );
          Object.assign(e, { guestId: r.guestId, name: r.name });
        }
        this.log.info(`${conn.label}: saved the definition of ${what}${r.backup ? ` (previous config kept in ${r.backup})` : ''}`);
      }
      e.mtime = Date.now();
      void conn.refresh().catch(() => undefined);
    } catch (err) {
      if (err instanceof DefinitionConflictError) {
        this.log.warn(`${conn.label}: not saved: ${err.message}`);
        void this.offerConflict(uri, e, err);
        throw new Error(`${err.message}: nothing was saved. Compare, or Overwrite the host's version.`);
      }
      const msg = err instanceof Error ? err.message : String(err);
      const host = conn.config.type === 'lxc' ? 'liblxc' : conn.config.type === 'lxd' ? 'LXD' : 'libvirt';
      this.log.error(`${conn.label}: saving ${what} failed: ${msg}`);
      if (err instanceof DefinitionRejectedError) throw new Error(`${host} rejected the definition of ${what}, which is unchanged on the host: ${msg}`);
      throw err instanceof Error ? err : new Error(msg);
    }
  }

  private async offerConflict(uri: vscode.Uri, e: Entry, err: DefinitionConflictError): Promise<void> {
    const pick = await vscode.window.showWarningMessage(
      `${err.message}.`,
      { detail: 'Your text is kept in the editor; nothing was written to the host.' },
      'Compare',
      'Overwrite',
    );
    if (pick === 'Compare') {
      const snap = vscode.Uri.from({ scheme: HOST_SCHEME, path: uri.path, query: `t=${Date.now()}` });
      this.snapshots.set(snap.toString(), err.current);
      await vscode.commands.executeCommand('vscode.diff', snap, uri, `${e.name}: on the host ↔ yours`);
      const again = await vscode.window.showWarningMessage(`Overwrite the host's definition of "${e.name}" with yours?`, 'Overwrite');
      if (again !== 'Overwrite') return;
    } else if (pick !== 'Overwrite') return;
    const ok = await vscode.window.showWarningMessage(
      `Overwrite the definition of "${e.name}"?`,
      { modal: true, detail: 'The changes made on the host since you opened the document are replaced by your text.' },
      'Overwrite',
    );
    if (ok !== 'Overwrite') return;
    e.forceNext = true;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    await doc?.save();
  }

  // a flat namespace of documents: no directories, no renames
  readDirectory(): [string, vscode.FileType][] {
    return [];
  }
  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions('virtscope-guest: documents only');
  }
  delete(): void {
    throw vscode.FileSystemError.NoPermissions('Delete a guest with the Delete command of the Guests view');
  }
  rename(): void {
    throw vscode.FileSystemError.NoPermissions('Rename a guest by editing its name in the definition');
  }
}

export type { AnyNode };

const EDITABLE_KINDS: readonly GuestKind[] = ['qemu', 'libvirt-lxc', 'lxc', 'lxd-container', 'lxd-vm'];

export async function openAs(uri: vscode.Uri, language: EditableLanguage): Promise<vscode.TextEditor> {
  let doc = await vscode.workspace.openTextDocument(uri);
  const lang = language === 'xml' ? LIBVIRT_XML_LANGUAGE : language === 'yaml' ? 'yaml' : LXC_LANGUAGE;
  if (doc.languageId !== lang) doc = await vscode.languages.setTextDocumentLanguage(doc, lang);
  return vscode.window.showTextDocument(doc, { preview: false });
}

export interface EditingDeps {
  readonly connections: Connections;
  readonly model: Inventory;
  readonly log: vscode.LogOutputChannel;
}

export async function editDefinition(fsp: GuestFileSystem, deps: EditingDeps, node?: GuestRef): Promise<void> {
  node ??= await pickGuest(vscodeUi, deps.model, {
    title: 'virtscope: Edit Definition',
    placeHolder: 'Pick a guest (Docker/Podman containers are read-only: use Inspect)',
    filter: (g) => EDITABLE_KINDS.includes(g.kind),
    none: 'Edit Definition: no libvirt or lxc-tools guest is listed.',
  });
  const g = node?.guest;
  if (!node || !g) return;
  const defs = editableDefinitions(node.conn.requireBackend());
  if (!defs) {
    void vscode.window.showInformationMessage(`"${g.name}" is a container whose definition is read-only: Inspect shows it.`);
    return;
  }
  const uri = guestUri(node.conn.config.id, g.name, defs.language, { guest: g.id });
  if (!vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) {
    fsp.register(uri, { connId: node.conn.config.id, guestId: g.id, name: g.name, isNew: false, language: defs.language });
  }
  try {
    await openAs(uri, defs.language);
  } catch (e) {
    deps.log.error(`Edit "${g.name}": ${e instanceof Error ? e.message : String(e)}`);
    void vscode.window.showErrorMessage(`Cannot edit "${g.name}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function lxcPathOf(conn: Connection): Promise<string> {
  if (conn.config.lxcPath) return conn.config.lxcPath;
  try {
    return (await run('lxc-config', ['lxc.lxcpath'])).stdout.trim() || '/var/lib/lxc';
  } catch {
    return '/var/lib/lxc';
  }
}

export async function newGuest(fsp: GuestFileSystem, deps: EditingDeps, node?: AnyNode): Promise<void> {
  let conn = node?.kind === 'connection' || node?.kind === 'guest' ? node.conn : node?.kind === 'group' ? node.parent.conn : undefined;
  conn ??= await pickConnection(vscodeUi, deps.model, {
    title: 'New Guest from Template: host',
    filter: (c) => c.config.type !== 'docker' && c.config.type !== 'lxd' && c.status.state === 'connected',
    none: 'No connected libvirt or lxc-tools host to create a guest on.',
  });
  if (!conn) return;
  if (conn.config.type === 'lxd')
    return void vscode.window.showInformationMessage(`${conn.label}: LXD instances are launched from an image: use Launch Instance….`);
  const templates = templatesFor(conn.config.type, conn.config.uri);
  if (!templates.length) {
    void vscode.window.showInformationMessage(`${conn.label}: Docker/Podman containers are made from images (docker run / podman run), not from a definition.`);
    return;
  }
  let t: Template | undefined = templates[0];
  if (templates.length > 1)
    t = (
      await vscode.window.showQuickPick(
        templates.map((x) => ({ label: x.label, description: x.description, t: x })),
        { title: 'Template' },
      )
    )?.t;
  if (!t) return;
  const taken = new Set([...conn.guests.values()].map((g) => g.name));
  let n = 1;
  while (taken.has(`new-guest-${n}`)) n++;
  const name = await vscode.window.showInputBox({
    title: `New ${t.label} on ${conn.label}`,
    prompt: 'Name of the new guest (you can still change it in the definition, except for lxc-tools)',
    value: `new-guest-${n}`,
    validateInput: (v) =>
      !v.trim() ? 'A name is needed' : /[/\\\s]/.test(v) ? 'No slashes or spaces' : taken.has(v.trim()) ? `"${v.trim()}" exists on ${conn!.label}` : undefined,
  });
  if (!name) return;
  // the arch and KVM of the host the guest will run on, not of the machine VS Code runs on
  const host = deps.model.hostOf(conn)?.host ?? localHost;
  const text = renderTemplate(t, name.trim(), await templateFactsOf(host), conn.config.type === 'lxc' ? await lxcPathOf(conn) : undefined);
  const uri = guestUri(conn.config.id, name.trim(), t.language, { new: true });
  fsp.register(uri, { connId: conn.config.id, name: name.trim(), isNew: true, language: t.language, content: enc.encode(text) });
  deps.log.info(`${conn.label}: new ${t.label} "${name.trim()}" from a template (created on save)`);
  await openAs(uri, t.language);
}

/** Wires editing into the extension (call once from activate()); the commands use the returned file system (registry.ts). */
export function createEditing(context: vscode.ExtensionContext, deps: EditingDeps): GuestFileSystem {
  const fsp = new GuestFileSystem(deps.connections, deps.log);
  const client = new VirtscopeLanguageClient(context, deps.log, [GUEST_SCHEME, DEF_SCHEME, HOST_SCHEME]);
  context.subscriptions.push(
    vscode.workspace.registerFileSystemProvider(GUEST_SCHEME, fsp, { isCaseSensitive: true }),
    vscode.workspace.onWillSaveTextDocument((e) => fsp.noteSave(e)),
    vscode.workspace.registerTextDocumentContentProvider(HOST_SCHEME, { provideTextDocumentContent: (u) => fsp.snapshots.get(u.toString()) ?? '' }),
    client,
    followHostSchemas(context, GUEST_SCHEME, deps, client),
  );
  return fsp;
}
