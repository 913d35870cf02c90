// A shell in a terminal: the GuestShell's process, its output, its size, its end. Closing the
// terminal ends the shell (and what it started).
import { EventEmitter } from 'node:events';
import type { TerminalSession, TerminalSessionEvents } from './session';
import type { GuestShell, TerminalProcess } from './types';

export class ShellSession extends EventEmitter<TerminalSessionEvents> implements TerminalSession {
  private proc: TerminalProcess | undefined;
  private closed = false;
  private size: { cols: number; rows: number } = { cols: 80, rows: 24 };

  constructor(
    readonly guestName: string,
    private readonly shell: GuestShell,
    private readonly shells: readonly string[],
    /** The first of `shells` is the user's setting. */
    private readonly chosen = false,
  ) {
    super();
  }

  async start(cols = 80, rows = 24): Promise<void> {
    this.size = { cols, rows };
    const proc = await this.shell.open({ shells: this.shells, chosen: this.chosen, cols, rows });
    if (this.closed) return void proc.kill();
    this.proc = proc;
    proc.output.on('data', (d: Buffer | string) => this.emit('data', Buffer.isBuffer(d) ? d : Buffer.from(d)));
    void proc.exited.then(({ code }) => {
      this.proc = undefined;
      if (this.closed) return;
      this.closed = true;
      this.emit('exit', { code, reason: `the shell in "${this.guestName}" ended${code !== undefined ? ` (exit code ${code})` : ''}.` });
    });
    // the terminal may have changed size while the shell started
    if (this.size.cols !== cols || this.size.rows !== rows) await proc.resize(this.size.cols, this.size.rows);
  }

  write(data: Buffer | string): void {
    this.proc?.write(data);
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    void this.proc?.resize(cols, rows);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const p = this.proc;
    this.proc = undefined;
    await p?.kill();
    this.emit('exit', {});
  }
}
