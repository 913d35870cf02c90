// The two ways onto a guest's serial console that bench/console.ts compares, behind one interface:
//   virtscope: ConsoleSession over the backend's `console` capability (libvirt's console stream on
//              the kept RPC connection), the classes Open Console's terminal drives;
//   virsh:     `virsh console` (libvirt's own C client), which wants a terminal: it runs on a pty
//              that util-linux `script` holds and relays — the pty master a terminal emulator holds.
// Each exposes the guest's output to a TextWatch, and what the benchmark types into the guest.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { LibvirtBackend } from '../src/core/backends/libvirt';
import { requireCapability } from '../src/core/capabilities';
import { ConsoleSession } from '../src/core/console/session';
import { ConsoleBusyError } from '../src/core/console/types';
import type { Guest } from '../src/core/model';
import { TextWatch } from './textWatch';
import { processCpuNs } from './util';

export interface ConsolePath {
  readonly watch: TextWatch;
  write(text: string): void;
  /** CPU time so far (ms) of the console client — this process, or virsh — and of virsh's pty relay. */
  cpuMs(): { client: number; relay?: number };
  close(): Promise<void>;
}

/** Another client holds the console (the CI's console test, a user): wait, never take it over. */
export class ConsoleHeld extends Error {}

export async function openVirtscopeConsole(backend: LibvirtBackend, guest: Guest): Promise<ConsolePath> {
  const session = new ConsoleSession(guest.name, () => requireCapability(backend, guest, 'console'), { device: null });
  const watch = new TextWatch();
  session.on('data', (d) => watch.feed(d));
  session.on('exit', ({ reason }) => watch.end(new Error(`the console session ended: ${reason ?? 'closed'}`)));
  try {
    await session.start(false);
  } catch (e) {
    throw e instanceof ConsoleBusyError ? new ConsoleHeld(e.message) : e;
  }
  const cpuMs = () => {
    const u = process.cpuUsage();
    return { client: (u.user + u.system) / 1000 };
  };
  return { watch, write: (t) => session.write(t), cpuMs, close: () => session.close() };
}

/** The lab's guest with a serial shell, the only one the virsh path opens. */
export const LAB_CONSOLE = { uri: 'qemu:///system', guest: 'labvm' } as const;
/**
 * `virsh console` under util-linux `script`, which gives it a pty and relays it to our pipes. The
 * command string is a constant (no input reaches the shell script(1) hands it to); `script` is a
 * lab dependency already (util-linux), unlike a python3 pty helper.
 */
const VIRSH_CONSOLE = `virsh -c ${LAB_CONSOLE.uri} console ${LAB_CONSOLE.guest}`;
/** virsh console's escape character (Ctrl-]): it detaches. */
const VIRSH_ESCAPE = '\x1d';

export async function openVirshConsole(): Promise<ConsolePath> {
  // -q no banner, -f flush each write, -e virsh's exit status; the typescript goes nowhere
  const proc = spawn('script', ['-q', '-f', '-e', '-c', VIRSH_CONSOLE, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SHELL: '/bin/sh' },
  });
  const watch = new TextWatch();
  let said = '';
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  proc.stdout.on('data', (d: Buffer) => {
    if (said.length < 2000) said += d.toString('utf8');
    watch.feed(d);
  });
  proc.stderr.on('data', (d: Buffer) => (said += d.toString('utf8')));
  proc.on('error', (e) => watch.end(e));
  proc.stdin.on('error', () => undefined); // virsh gone: its exit is reported through the watch
  void exited.then((code) => watch.end(new Error(`virsh console exited (${code}): ${said.trim().slice(-300)}`)));
  try {
    await watch.next('Escape character', 20_000);
  } catch (e) {
    proc.kill();
    if (/active console session/i.test(said)) throw new ConsoleHeld(said.trim());
    throw e;
  }
  const virsh = descendants(proc.pid!).find((pid) => comm(pid) === 'virsh');
  return {
    watch,
    write: (t) => proc.stdin.write(t),
    cpuMs: () => ({ client: virsh ? cpuOf(virsh) : NaN, relay: cpuOf(proc.pid!) }),
    close: async () => {
      proc.stdin.write(VIRSH_ESCAPE);
      const timer = setTimeout(() => proc.kill(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return ''; // gone
  }
}

function cpuOf(pid: number): number {
  try {
    return processCpuNs(pid) / 1e6;
  } catch {
    return NaN; // gone
  }
}

/** A process's children, theirs, and so on (script → sh → virsh, or script → virsh). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* gone */
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** Opens with `open`, waiting while another client holds the console (up to waitMs). */
export async function openWhenFree(open: () => Promise<ConsolePath>, waitMs = 60_000): Promise<ConsolePath> {
  const t0 = Date.now();
  for (;;) {
    try {
      return await open();
    } catch (e) {
      if (!(e instanceof ConsoleHeld) || Date.now() - t0 > waitMs) throw e;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/**
 * Enter until the shell's prompt ("/ # ") answers, then until the output pauses: the guest's serial
 * shell is ready for typing. Enter is repeated because virsh console says "Escape character…"
 * before it has opened the console and makes its terminal raw with TCSAFLUSH, which drops what was
 * typed until then.
 */
export async function atPrompt(p: ConsolePath, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const prompt = p.watch.next('# ', 3000);
    p.write('\r');
    try {
      await prompt;
      break;
    } catch (e) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`no shell prompt on the console within ${timeoutMs / 1000} s (${(e as Error).message})`);
    }
  }
  await p.watch.quiet(300, 30_000);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * Types n letters one at a time, each when the previous one's echo has come back; the round trips
 * in ms. Then clears the line (Ctrl-U, answered by the prompt redrawn) so nothing runs.
 */
export async function echoRoundTrips(p: ConsolePath, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = LETTERS[i % LETTERS.length];
    const echoed = p.watch.next(key, 10_000);
    const t0 = performance.now();
    p.write(key);
    out.push((await echoed).at - t0);
  }
  const redrawn = p.watch.next('# ', 10_000);
  p.write('\x15');
  await redrawn;
  return out;
}

let marks = 0;
/**
 * Runs a command line in the guest's shell and waits for the end marker echoed after it: the
 * marker is computed by the shell ($((…))), so the echo of the typed line does not contain it.
 */
export async function runToMarker(
  p: ConsolePath,
  command: string,
  timeoutMs: number,
): Promise<{ ms: number; bytes: number; cpuMs: number; relayCpuMs?: number }> {
  const n = 1000 + process.pid * 10 + ++marks;
  const done = p.watch.next(`VSB-END-${n + 1}`, timeoutMs);
  const cpu0 = p.cpuMs();
  const t0 = performance.now();
  p.write(`${command}; echo VSB-END-$((${n}+1))\r`);
  const { at, bytes } = await done;
  const cpu1 = p.cpuMs();
  return { ms: at - t0, bytes, cpuMs: cpu1.client - cpu0.client, relayCpuMs: cpu1.relay === undefined ? undefined : cpu1.relay - cpu0.relay! };
}
