// A console session that outlives the stream under it: when the guest reboots (its console device
// goes away and comes back) the session opens the console again once the guest runs; when the
// guest is destroyed or deleted, or another client takes the console, it ends and says why.
// Closing the session finishes the stream (libvirt's finish handshake).
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ConsoleBusyError, type ConsoleGuestState, type GuestConsole } from './types';

/** What a terminal shows from any session (console or shell). */
export interface TerminalSessionEvents {
  /** Bytes from the guest. */
  data: [Buffer];
  /** A line from virtscope itself (shown apart from the guest's output). */
  notice: [string];
  /** The session is over; `reason` says why (undefined: closed by the user). */
  exit: [{ reason?: string; code?: number }];
}

/** What the terminal glue drives: a console or a shell. */
export interface TerminalSession extends EventEmitter<TerminalSessionEvents> {
  write(data: Buffer | string): void;
  /** The terminal's size changed (a console has no size to follow). */
  resize?(cols: number, rows: number): void;
  close(): Promise<void>;
}

export interface ConsoleSessionOptions {
  /** The device alias (null: libvirt's first console). */
  device: string | null;
  /** Pause between attempts to reopen while the guest runs but its console is not there yet. */
  retryMs?: number;
  /** Attempts to reopen a running guest's console before giving up. */
  retries?: number;
  /** How long close() waits for the daemon to confirm the stream's finish (default 5 s). */
  closeConfirmMs?: number;
}

const STATE_WORDS: Record<ConsoleGuestState, string> = {
  running: 'running',
  paused: 'paused',
  stopped: 'stopped',
  destroyed: 'destroyed (forced off)',
  gone: 'deleted',
};

export class ConsoleSession extends EventEmitter<TerminalSessionEvents> implements TerminalSession {
  private stream: Duplex | undefined;
  private closed = false;
  private exited = false;
  /** The guest stopped: reopen when a change shows it running. */
  private waiting = false;
  private reopening: Promise<void> | undefined;
  private readonly retryMs: number;
  private readonly retries: number;

  constructor(
    readonly guestName: string,
    /** The guest's console capability now (the connection's backend may have been replaced). */
    private readonly console: () => GuestConsole,
    private readonly options: ConsoleSessionOptions,
  ) {
    super();
    this.retryMs = options.retryMs ?? 1000;
    this.retries = options.retries ?? 10;
  }

  /** Opens the console; rejects with ConsoleBusyError when another client holds it and `force` is false. */
  async start(force = false): Promise<void> {
    const stream = await this.console().open(this.options.device, { force });
    this.attach(stream);
  }

  get attached(): boolean {
    return this.stream !== undefined;
  }

  write(data: Buffer | string): void {
    const s = this.stream;
    if (!s || s.destroyed || s.writableEnded) return; // between streams (rebooting): keystrokes have nowhere to go
    s.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  /** The connection saw a change of this guest: if the session waits for it to run, try now. */
  guestChanged(): void {
    if (this.waiting && !this.closed) void this.reopen();
  }

  /** Finishes the stream (the daemon confirms) and ends the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.stream;
    this.stream = undefined;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        // a daemon that never confirms the finish must not hold the terminal open: drop the stream then
        const t = setTimeout(() => (s.destroy(), resolve()), this.options.closeConfirmMs ?? 5000);
        const done = () => (clearTimeout(t), resolve());
        s.once('close', done);
        s.once('error', done);
        s.end();
        s.resume(); // let the readable side drain so the stream can close
      });
    }
    this.finish(undefined);
  }

  private attach(stream: Duplex): void {
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    this.waiting = false;
    let error: Error | undefined;
    stream.on('data', (d: Buffer) => this.emit('data', d));
    stream.on('error', (e) => (error = e));
    stream.once('close', () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (!this.closed) void this.afterStreamEnded(error);
    });
  }

  /** The stream ended without the user closing it: why, and what next. */
  private async afterStreamEnded(error: Error | undefined): Promise<void> {
    const state = await this.state();
    if (this.closed) return;
    if (state === 'destroyed' || state === 'gone') return this.finish(`"${this.guestName}" was ${STATE_WORDS[state]}: the console is closed.`);
    if (state === 'running' || state === 'paused') {
      this.emit('notice', `console stream ended${error ? ` (${error.message})` : ''}; opening it again…`);
      return this.reopen();
    }
    this.waiting = true;
    this.emit('notice', `"${this.guestName}" is ${STATE_WORDS[state]}; the console opens again when it runs. Close the terminal to stop waiting.`);
  }

  private reopen(): Promise<void> {
    this.reopening ??= this.tryReopen().finally(() => (this.reopening = undefined));
    return this.reopening;
  }

  private async tryReopen(): Promise<void> {
    this.waiting = false;
    for (let attempt = 0; attempt < this.retries && !this.closed; attempt++) {
      const state = await this.state();
      if (this.closed) return;
      if (state === 'destroyed' || state === 'gone') return this.finish(`"${this.guestName}" was ${STATE_WORDS[state]}: the console is closed.`);
      if (state === 'stopped') {
        this.waiting = true;
        return;
      }
      try {
        await this.start(false);
        this.emit('notice', `console of "${this.guestName}" open again.`);
        return;
      } catch (e) {
        if (e instanceof ConsoleBusyError) return this.finish(`another client took over the console of "${this.guestName}" (${e.detail}).`);
        // the guest is still coming up (no console yet): try again shortly
      }
      await new Promise((r) => setTimeout(r, this.retryMs));
    }
    if (!this.closed) this.finish(`the console of "${this.guestName}" could not be opened again.`);
  }

  private async state(): Promise<ConsoleGuestState> {
    try {
      return await this.console().state();
    } catch {
      return 'stopped'; // connection down: wait for a change rather than end the terminal
    }
  }

  private finish(reason: string | undefined): void {
    if (this.exited) return;
    this.exited = true;
    this.closed = true;
    this.waiting = false;
    const s = this.stream;
    this.stream = undefined;
    s?.destroy();
    this.emit('exit', { reason });
  }
}
