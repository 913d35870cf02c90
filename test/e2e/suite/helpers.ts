// Shared by the e2e test files (each test file is its own bundle; this is bundled into each).
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { VirtscopeApi } from '../../../src/extension/main';
import type { Connection } from '../../../src/core/connection';
import type { GuestNode } from '../../../src/views/guestTree';
import type { GuestKind } from '../../../src/core/model';

export const EXTENSION_ID = 'virtscope.virtscope';
export const LAB_HINT = 'Is the lab up? Run `bash scripts/lab.sh up` first.';
export const TEST_URI = 'test+unix:///default';

/** The lab's guests: name, connection id (default settings) and kind. */
export const LAB_GUESTS: ReadonlyArray<{ name: string; conn: string; kind: GuestKind }> = [
  { name: 'labvm', conn: 'qemu-system', kind: 'qemu' },
  { name: 'labvlxc', conn: 'lxc-system', kind: 'libvirt-lxc' },
  { name: 'labct', conn: 'lxc-tools', kind: 'lxc' },
  { name: 'labpod', conn: 'containers', kind: 'container' },
];

let api: VirtscopeApi | undefined;

/** Activates the extension under test (once) and returns its API. */
export async function getApi(): Promise<VirtscopeApi> {
  if (api) return api;
  const ext = vscode.extensions.getExtension<VirtscopeApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded (extensionDevelopmentPath wrong?)`);
  api = await ext.activate();
  if (!api?.model || !api?.connections || !api?.tree) throw new Error('activate() did not return the {model, connections, tree} API');
  return api;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` every 25 ms until it returns a truthy value; throws `what()` after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false | null, timeoutMs: number, what: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(25);
  }
}

// Connections that did not connect once are not waited for again (the test files are separate
// bundles, so the memo lives on globalThis): a missing lab costs one timeout, not one per test.
const gaveUp: Set<string> = ((globalThis as Record<string, unknown>).__virtscopeE2eGaveUp ??= new Set<string>()) as Set<string>;

/**
 * Shows the Guests view (which connects the connections) and waits until the given connections
 * (default: all) are connected.
 */
export async function connectAll(a: VirtscopeApi, ids?: string[], timeoutMs = 20_000): Promise<void> {
  await vscode.commands.executeCommand('workbench.view.extension.virtscope');
  const want = a.connections.all.filter((c) => !ids || ids.includes(c.config.id));
  const down = () => want.filter((c) => c.status.state !== 'connected');
  const what = () => `not connected: ${describeConnections(down())}. ${LAB_HINT}`;
  if (down().some((c) => gaveUp.has(c.config.id))) throw new Error(what());
  try {
    await waitFor(() => down().length === 0, timeoutMs, what);
  } catch (e) {
    for (const c of down()) gaveUp.add(c.config.id);
    throw e;
  }
}

export function describeConnections(conns: readonly Connection[]): string {
  return conns
    .map((c) => {
      const s = c.status;
      return `${c.config.id}=${s.state}${s.state === 'unreachable' ? ` (${s.message})` : ''} [${[...c.guests.values()].map((g) => g.name).join(', ')}]`;
    })
    .join('; ');
}

export function conn(a: VirtscopeApi, id: string): Connection {
  const c = a.connections.byId(id);
  if (!c) throw new Error(`no connection "${id}"; have ${a.connections.all.map((x) => x.config.id).join(', ')}`);
  return c;
}

/** The tree node of the guest called `name` on connection `connId`, waiting for it to be listed. */
export async function guestNode(a: VirtscopeApi, connId: string, name: string, timeoutMs = 15_000): Promise<GuestNode> {
  return waitFor(
    () => {
      const [ref] = a.model.guests((g, c) => c.config.id === connId && g.name === name);
      return ref && a.tree.nodeOf(ref.conn, ref.guestId);
    },
    timeoutMs,
    () => `guest "${name}" is not listed on ${connId}: ${describeConnections(a.connections.all)}. ${LAB_HINT}`,
  );
}

export function virsh(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('virsh', ['-c', TEST_URI, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`virsh ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Puts the test driver's domain `test` back to running (after a failed test left it paused). */
export async function ensureTestDomainRunning(): Promise<void> {
  const state = (await virsh('domstate', 'test')).trim();
  if (state === 'paused') await virsh('resume', 'test');
  else if (state === 'shut off') await virsh('start', 'test');
}
