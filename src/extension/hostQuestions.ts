// What Add Host… offers and what ssh's questions look like in VS Code, as plain data (no vscode
// import: tested in test/unit/pickers.test.ts). hosts.ts shows them.
import { hostIdFor } from '../core/config';
import type { AskpassRequest } from '../core/host/askpass';
import { parseDestination, parseSshConfigHosts } from '../core/host/sshConfig';
import type { HostEntry } from '../core/hosts';
import type { PickItem } from './pickers';

/** A pick of Add Host…: an alias of ~/.ssh/config, or "type user@host[:port]". */
export type AddHostChoice = { readonly kind: 'alias'; readonly alias: string } | { readonly kind: 'enter' };

/** The ~/.ssh/config hosts (those already added last, marked), then "enter user@host[:port]". */
export function addHostItems(sshConfigText: string | undefined, existing: readonly HostEntry[]): PickItem<AddHostChoice>[] {
  const aliases = sshConfigText ? parseSshConfigHosts(sshConfigText) : [];
  const added = (a: string) => existing.some((e) => e.destination === a && e.port === undefined);
  const items = aliases
    .map((alias) => ({ label: alias, description: added(alias) ? 'added already' : 'from ~/.ssh/config', value: { kind: 'alias', alias } as AddHostChoice }))
    .sort((a, b) => Number(a.description === 'added already') - Number(b.description === 'added already'));
  return [...items, { label: 'Enter user@host[:port]…', description: 'a host not in ~/.ssh/config', value: { kind: 'enter' } }];
}

/** The input box's check of a typed host: the reason it is not one, or undefined when it is. */
export function destinationProblem(text: string): string | undefined {
  try {
    parseDestination(text);
    return undefined;
  } catch (e) {
    return `${(e as Error).message}. Type user@host, host:port or an alias of ~/.ssh/config.`;
  }
}

/**
 * The new `virtscope.hosts` entry for what was picked or typed; an Error with a clear message when it
 * is not a host or is there already. Only destination, port and label: nothing secret.
 */
export function newHostEntry(text: string, existing: readonly HostEntry[]): HostEntry {
  const { destination, port } = parseDestination(text);
  const same = existing.find((e) => e.destination === destination && e.port === port);
  if (same) throw new Error(`${same.label ?? same.destination} is added already`);
  const base = hostIdFor(destination, port);
  let id = base;
  for (let n = 2; existing.some((e) => e.id === id); n++) id = `${base}-${n}`;
  const label = port ? `${destination}:${port}` : destination;
  return port ? { id, label, destination, port } : { id, label, destination };
}

/** How one of ssh's questions is asked: a modal for a host key (with its fingerprint), else an input box. */
export type AskpassQuestion =
  | { readonly type: 'confirm'; readonly message: string; readonly detail: string; readonly button: string }
  | { readonly type: 'input'; readonly title: string; readonly prompt: string; readonly password: boolean };

export function askpassQuestion(req: AskpassRequest): AskpassQuestion {
  const host = req.host || 'the remote host';
  if (req.kind === 'host-key') {
    return {
      type: 'confirm',
      message: `${host}: this host is not known yet. Trust its key and connect?`,
      detail: `${req.prompt.trim()}\n\nCompare the fingerprint with the one the host's administrator gives you. Accepting stores it in your known_hosts.`,
      button: 'Trust and Connect',
    };
  }
  const what = req.kind === 'passphrase' ? 'key passphrase' : req.kind === 'password' ? 'password' : 'answer';
  // a question ssh asks that is none of the known kinds might be a secret too: hidden unless it is a yes/no
  const password = req.kind !== 'other' || !/\(yes\/no/i.test(req.prompt);
  return { type: 'input', title: `SSH ${what} for ${host}`, prompt: req.prompt.trim(), password };
}
