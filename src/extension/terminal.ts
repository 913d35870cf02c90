// A TerminalSession (console or shell, src/core/console) in an integrated terminal, through a
// Pseudoterminal: the guest's bytes decoded as UTF-8 across packet boundaries, keystrokes back as
// typed, size changes passed on, virtscope's own lines set apart in grey. Closing the terminal
// closes the session; the session ending leaves the terminal open with the reason shown.
import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import type { TerminalSession } from '../core/console/session';

const GREY = '\x1b[90m';
const RESET = '\x1b[0m';

/** A virtscope line in the terminal: on a line of its own, grey. */
export function noticeLine(text: string): string {
  return `\r\n${GREY}[virtscope] ${text.replace(/\r?\n/g, '\r\n')}${RESET}\r\n`;
}

export interface SessionTerminalOptions {
  readonly name: string;
  /** Starts the session for this size (a shell opens at the terminal's size). */
  readonly start: (session: TerminalSession, size: vscode.TerminalDimensions | undefined) => Promise<void>;
  /** First line shown, before anything from the guest. */
  readonly banner?: string;
  readonly log?: vscode.LogOutputChannel;
  readonly iconPath?: vscode.ThemeIcon;
}

/** Sessions whose terminal is open: ended when the extension host shuts down (see closeAllSessions). */
const open = new Set<TerminalSession>();

/**
 * Ends every open console and shell (called from deactivate()): VS Code does not close a
 * pseudoterminal when the window goes away, and a shell started through an engine's exec API would
 * otherwise stay running in its container.
 */
export async function closeAllSessions(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((s) => Promise.resolve(s.close()).catch(() => undefined)));
}

/** Opens an integrated terminal for `session` and shows it. */
export function openSessionTerminal(session: TerminalSession, opts: SessionTerminalOptions): vscode.Terminal {
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<number | void>();
  const decoder = new StringDecoder('utf8');
  let ended = false;
  open.add(session);
  session.on('data', (d) => write.fire(decoder.write(d)));
  session.on('notice', (n) => write.fire(noticeLine(n)));
  session.on('exit', ({ reason, code }) => {
    ended = true;
    const tail = decoder.end();
    if (tail) write.fire(tail);
    const why = reason ?? (code !== undefined ? `ended (exit code ${code}).` : 'ended.');
    write.fire(noticeLine(`${why} Press any key to close the terminal.`));
    opts.log?.info(`${opts.name}: ${why}`);
  });
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open: (size) => {
      if (opts.banner) write.fire(noticeLine(opts.banner).replace(/^\r\n/, ''));
      opts.start(session, size).catch((e: unknown) => {
        const msg = e instanceof Error ? e.message : String(e);
        ended = true;
        write.fire(noticeLine(`could not open: ${msg} Press any key to close the terminal.`));
        opts.log?.error(`${opts.name}: ${msg}`);
      });
    },
    close: () => {
      open.delete(session);
      void session.close();
      write.dispose();
    },
    handleInput: (data) => {
      if (ended) return close.fire();
      session.write(data);
    },
    setDimensions: (size) => session.resize?.(size.columns, size.rows),
  };
  const terminal = vscode.window.createTerminal({ name: opts.name, pty, iconPath: opts.iconPath });
  terminal.show();
  return terminal;
}
