// Ways into a guest as features see them: its text console, a shell inside it, its log. Backends
// offer them as capabilities (capabilities.ts); the terminal and document glue lives in
// src/extension. No vscode import.
import type { Duplex } from 'node:stream';

/** A character device a console can attach to, from the domain XML's <console> and <serial>. */
export interface ConsoleDevice {
  /** libvirt's alias (serial0, console0): what DOMAIN_OPEN_CONSOLE takes as dev_name. */
  readonly alias: string | undefined;
  readonly element: 'console' | 'serial';
  /** The host side: pty, file, unix, … (only pty can be opened). */
  readonly type: string;
  /** The guest side: serial, virtio, lxc, isa-serial, … */
  readonly target: string;
  readonly port: number | undefined;
  /** For a pick: "serial0 — serial port 0 (pty)". */
  readonly label: string;
}

/** Where the guest is, as far as its console cares. */
export type ConsoleGuestState = 'running' | 'paused' | 'stopped' | 'destroyed' | 'gone';

/** The guest's text console through its manager (libvirt's console stream). */
export interface GuestConsole {
  /** The devices a console can attach to (pty ones first); empty when the guest has none. */
  devices(): Promise<ConsoleDevice[]>;
  /** Opens the console (device: an alias, or null for the first one); `force` takes it from another client. */
  open(device: string | null, opts: { force: boolean }): Promise<Duplex>;
  state(): Promise<ConsoleGuestState>;
}

/** The console is held by another client (virsh console, virt-manager, another window). */
export class ConsoleBusyError extends Error {
  constructor(
    readonly guest: string,
    readonly detail: string,
  ) {
    super(`the console of "${guest}" is in use by another client (${detail})`);
    this.name = 'ConsoleBusyError';
  }
}

/** A program in a terminal inside the guest: bytes both ways, a size, an exit. */
export interface TerminalProcess {
  readonly output: NodeJS.ReadableStream;
  write(data: Buffer | string): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Settles when the program has ended: its exit code when known. */
  readonly exited: Promise<{ code: number | undefined }>;
  /** Ends it (and what it started). */
  kill(): Promise<void>;
}

export interface ShellOptions {
  /** Shells to try in order (names or paths): the first that exists in the guest runs, as a login shell. */
  readonly shells: readonly string[];
  /** The first shell is the user's choice (virtscope.shell): say so when the guest lacks it. */
  readonly chosen?: boolean;
  readonly cols: number;
  readonly rows: number;
}

/** A login shell with a real terminal inside the guest. */
export interface GuestShell {
  /** How it gets in, for messages: "lxc-attach on this machine". */
  readonly description: string;
  open(opts: ShellOptions): Promise<TerminalProcess>;
}

/** A followed log: text as it is written, until stopped. */
export interface LogFollow {
  /** Where it comes from: "/var/log/libvirt/qemu/labvm.log on this machine". */
  readonly source: string;
  readonly output: NodeJS.ReadableStream;
  /** Settles when the source ends (a removed container's log, a killed tail). */
  readonly ended: Promise<void>;
  stop(): Promise<void>;
}

/** The guest's log as its manager keeps it. */
export interface GuestLog {
  /** The last `lines` lines, then every new one. */
  follow(opts: { lines: number }): Promise<LogFollow>;
}
