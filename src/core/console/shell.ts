// Open Shell: a login shell with a real terminal inside a container. Which shell: the first of the
// candidates that exists in the guest, chosen inside the guest by a fixed script (the names are its
// arguments, never part of the script). How the terminal is made:
//  - Docker/Podman: the engine's exec API with Tty (engineShell.ts);
//  - lxc-tools (lxc-attach) and libvirt-LXC (nsenter into the init's namespaces): on the guest's
//    Host, whose spawn has pipes, not a pty. A native pty addon (node-pty) would have to be built for
//    every VS Code/Electron and cannot reach a remote host, so the pty is made where the guest runs
//    by util-linux `script` (installed wherever lxc is: bsdutils is essential on Debian):
//    `script -qfec CMD /dev/null` runs CMD on a new pty and relays it to our pipes. CMD is a command
//    string (script runs `$SHELL -c CMD`, SHELL set to /bin/sh), so it is built by quote.ts alone. The
//    pty's size is set with stty: a wrapper prints the pty's name first (read back and not shown) and
//    sets the first size; later sizes are `stty -F PTY rows R cols C` on the host, which signals
//    SIGWINCH to the shell (lxc-attach passes it on to its own pty in the container).
import { PassThrough } from 'node:stream';
import type { Host, HostChild } from '../host/host';
import { remoteCommand } from '../host/quote';
import { GUEST_PATH } from '../guest/exec';
import type { GuestShell, ShellOptions, TerminalProcess } from './types';

export const SHELL_TERM = 'xterm-256color';

/**
 * Runs the first of its candidates ("$@" after the flag) that exists, as a login shell. The flag is 1
 * when the first candidate is the user's choice: its absence is then said. Fixed text.
 */
export const PICK_SHELL =
  'w=$1; shift; for s in "$@"; do if command -v "$s" >/dev/null 2>&1; then ' +
  '[ "$w" = 0 ] || [ "$s" = "$1" ] || echo "virtscope: $1 is not in this guest, starting $s" >&2; exec "$s" -l; fi; done; ' +
  'echo "virtscope: none of $* is in this guest" >&2; exit 127';

/** argv that starts the first existing shell of `shells` as a login shell; `chosen`: the first is the user's setting. */
export function pickShellArgv(shells: readonly string[], chosen = false): string[] {
  if (!shells.length) throw new Error('no shell to start');
  return ['/bin/sh', '-c', PICK_SHELL, 'sh', chosen ? '1' : '0', ...shells];
}

/**
 * Sets the pty's first size, prints its name, then becomes the command ("$@"). Fixed text. The size
 * comes first: a resize sent once the name is read must not be undone by this one.
 */
export const PTY_WRAPPER = 'stty rows "$1" cols "$2"; printf "virtscope-tty:%s\\n" "$(tty)"; shift 2; exec "$@"';

const TTY_LINE = /^virtscope-tty:(\/dev\/[\w/.-]+)\r?\n/;

/** The host argv that runs `argv` on a new pty of `rows`×`cols` (see the file comment). */
export function scriptArgv(argv: readonly string[], cols: number, rows: number): string[] {
  const wrapped = ['/bin/sh', '-c', PTY_WRAPPER, 'sh', String(size(rows)), String(size(cols)), ...argv];
  return ['env', 'SHELL=/bin/sh', 'script', '-qfec', remoteCommand(wrapped), '/dev/null'];
}

function size(n: number): number {
  return Math.max(1, Math.min(9999, Math.floor(Number.isFinite(n) ? n : 1)));
}

/**
 * Splits the wrapper's first line off the output: the pty's name, or undefined when the output
 * does not start with it (then everything is the program's).
 */
export function takeTtyLine(head: string): { tty?: string; rest: string } | undefined {
  const m = TTY_LINE.exec(head);
  if (m) return { tty: m[1], rest: head.slice(m[0].length) };
  if (head.includes('\n') || !'virtscope-tty:'.startsWith(head.slice(0, 14))) return { rest: head };
  return undefined; // not the whole line yet
}

/** A program under `script` on a host: a TerminalProcess. */
export function hostPtyProcess(host: Host, argv: readonly string[], cols: number, rows: number): TerminalProcess {
  const child: HostChild = host.spawn(scriptArgv(argv, cols, rows));
  const output = new PassThrough();
  let head: Buffer | undefined = Buffer.alloc(0);
  let tty: string | undefined;
  // keystrokes wait for the wrapper's line: typed earlier, the pty would echo them before the shell runs
  let pending: Array<Buffer | string> | undefined = [];
  /** A size asked for before the pty's name was known. */
  let wanted: [number, number] | undefined;
  const setSize = async (c: number, r: number) => {
    if (!tty) return void (wanted = [c, r]);
    if (child.done) return;
    await host.run(['stty', '-F', tty, 'rows', String(size(r)), 'cols', String(size(c))], { timeoutMs: 5000 }).catch(() => undefined);
  };
  const ready = () => {
    const queued = pending ?? [];
    pending = undefined;
    if (wanted) void setSize(...wanted);
    for (const d of queued) child.stdin.write(d);
  };
  child.stdout.on('data', (d: Buffer) => {
    if (!head) return void output.write(d);
    head = Buffer.concat([head, d]);
    const split = takeTtyLine(head.toString('latin1'));
    if (!split) return;
    tty = split.tty;
    output.write(head.subarray(head.length - Buffer.byteLength(split.rest, 'latin1')));
    head = undefined;
    ready();
  });
  child.stderr.on('data', (d: Buffer) => output.write(d));
  const exited = child.exited.then((e) => {
    if (head?.length) output.write(head);
    if (e.error) output.write(`${e.error.message}\r\n`);
    output.end();
    return { code: e.code ?? undefined };
  });
  return {
    output,
    write: (data) => {
      if (pending) pending.push(data);
      else child.stdin.write(data);
    },
    resize: setSize,
    exited,
    kill: () => child.kill(),
  };
}

/** lxc-tools: lxc-attach on the container's host, with a clean environment. */
export function lxcAttachShell(host: Host, name: string, lxcPath: string | undefined): GuestShell {
  return {
    description: `lxc-attach on ${host.label}`,
    open: async (o: ShellOptions) => {
      const env = [`PATH=${GUEST_PATH}`, `TERM=${SHELL_TERM}`, 'HOME=/root'].flatMap((v) => ['--set-var', v]);
      const argv = ['lxc-attach', '-n', name, ...(lxcPath ? ['-P', lxcPath] : []), '--clear-env', ...env, '--', ...pickShellArgv(o.shells, o.chosen)];
      return hostPtyProcess(host, argv, o.cols, o.rows);
    },
  };
}

/** libvirt-LXC: nsenter into every namespace of the domain's init, with its root and working directory. */
export function nsenterShell(host: Host, initPid: () => Promise<number>): GuestShell {
  return {
    description: `nsenter on ${host.label}`,
    open: async (o: ShellOptions) => {
      const pid = await initPid();
      const env = ['env', '-i', `PATH=${GUEST_PATH}`, `TERM=${SHELL_TERM}`, 'HOME=/root'];
      const argv = [...env, 'nsenter', '--target', String(pid), '--all', '--root', '--wd', '--', ...pickShellArgv(o.shells, o.chosen)];
      return hostPtyProcess(host, argv, o.cols, o.rows);
    },
  };
}

/** The init of a libvirt-LXC domain: the child of its libvirt_lxc controller in another pid namespace, read through the host. */
export async function libvirtLxcInitOn(host: Host, controllerPid: number): Promise<number | undefined> {
  const tasks = await host.readdir(`/proc/${controllerPid}/task`).catch(() => []);
  const children: number[] = [];
  for (const t of tasks) {
    const text = await host.readFile(`/proc/${controllerPid}/task/${t.name}/children`).catch(() => '');
    children.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  const own = await host.readlink(`/proc/${controllerPid}/ns/pid`).catch(() => '');
  for (const c of children) {
    const ns = await host.readlink(`/proc/${c}/ns/pid`).catch(() => '');
    if (ns && ns !== own) return c;
  }
  return undefined;
}
