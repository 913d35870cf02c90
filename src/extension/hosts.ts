// Add Host…, Remove Host, Reconnect Host, and ssh's questions (unknown host key, passphrase, password)
// asked through VS Code. Hosts are kept in `virtscope.hosts`; secrets only pass through ssh's askpass.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AskpassHandler } from '../core/host/askpass';
import { localHost } from '../core/host/local';
import type { ModelHost } from '../core/inventory';
import type { HostNode } from '../views/guestTree';
import { Connections } from './connections';
import { addHostItems, askpassQuestion, destinationProblem, newHostEntry } from './hostQuestions';
import { vscodeUi } from './vscodeUi';

export interface HostsDeps {
  connections: Connections;
  log: vscode.LogOutputChannel;
}

/** The text of the ssh config remote hosts use (virtscope.ssh.configFile, else ~/.ssh/config), or undefined when there is none. */
async function sshConfigText(file: string | undefined): Promise<string | undefined> {
  return localHost.readFile(file ?? path.join(os.homedir(), '.ssh', 'config')).catch(() => undefined);
}

export async function addHost(deps: HostsDeps): Promise<void> {
  const existing = deps.connections.configuredHosts();
  const choice = await vscodeUi.pick(addHostItems(await sshConfigText(deps.connections.sshConfigFile), existing), {
    title: 'Add Host: pick a host of ~/.ssh/config or enter one',
    placeHolder: 'Hosts are reached with your ssh set-up (config, agent, keys, known_hosts)',
  });
  if (!choice) return;
  let text: string | undefined = choice.value.kind === 'alias' ? choice.value.alias : undefined;
  text ??= await vscode.window.showInputBox({
    title: 'Add Host: user@host[:port]',
    placeHolder: 'root@kvm1.example.org:22',
    validateInput: (v) => (v.trim() ? destinationProblem(v) : undefined),
    ignoreFocusOut: true,
  });
  if (!text?.trim()) return;
  try {
    const entry = newHostEntry(text, existing);
    await deps.connections.saveHosts([...existing, entry]);
    deps.log.info(`host added: ${entry.label} (${entry.id})`);
  } catch (e) {
    void vscode.window.showWarningMessage(`Add Host: ${(e as Error).message}.`);
  }
}

/** The remote host of a tree node, or asks for one. */
async function remoteHostOf(deps: HostsDeps, node: HostNode | undefined, title: string): Promise<ModelHost | undefined> {
  if (node?.kind === 'host') return node.host.remote ? node.host : undefined;
  const remotes = deps.connections.model.hosts.filter((h) => h.remote);
  if (!remotes.length) {
    void vscode.window.showInformationMessage(`${title}: no remote host is added. Add one with Add Host….`);
    return undefined;
  }
  const pick = await vscodeUi.pick(
    remotes.map((h) => ({ label: h.label, description: h.status.state, detail: h.entry?.destination, value: h })),
    { title },
  );
  return pick?.value;
}

export async function removeHost(deps: HostsDeps, node?: HostNode): Promise<void> {
  const h = await remoteHostOf(deps, node, 'Remove Host');
  if (!h) return;
  const ok = await vscode.window.showWarningMessage(
    `Remove the host "${h.label}" from virtscope?`,
    { modal: true, detail: 'Only its entry in virtscope.hosts is removed: nothing on the host changes, and its guests keep running.' },
    'Remove',
  );
  if (ok !== 'Remove') return;
  await deps.connections.saveHosts(deps.connections.configuredHosts().filter((e) => e.id !== h.id));
}

export async function reconnectHost(deps: HostsDeps, node?: HostNode): Promise<void> {
  const h = node?.kind === 'host' ? node.host : await remoteHostOf(deps, undefined, 'Reconnect Host');
  if (!h) return;
  await deps.connections.model.reconnectHost(h.id);
}

/** ssh's questions as VS Code dialogs: a modal with the fingerprint for a new host key, a hidden input box for secrets. */
export function vscodeAskpass(log: vscode.LogOutputChannel): AskpassHandler {
  return async (req) => {
    const q = askpassQuestion(req);
    log.info(`ssh asks (${req.kind}) for ${req.host}`);
    if (q.type === 'confirm') {
      const ok = await vscode.window.showWarningMessage(q.message, { modal: true, detail: q.detail }, q.button);
      return ok === q.button ? 'yes' : undefined;
    }
    return vscode.window.showInputBox({ title: q.title, prompt: q.prompt, password: q.password, ignoreFocusOut: true });
  };
}
