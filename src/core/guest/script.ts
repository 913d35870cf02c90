// One way to run a shell script inside a guest and read its output back: the script prints its parts
// as sections, each started by a line "@@name" (sectionLine), and ends with "@@end". Without that
// last line the script did not run to its end, and the caller gets an error that says so.
import type { GuestExec } from '../capabilities';

/** Section names: letters, digits, '_' and '-'. */
const MARK_RE = /^@@([\w-]+)$/;
export const END_SECTION = 'end';

/** The shell command that starts section `name` (for scripts written as lines). */
export function sectionLine(name: string): string {
  if (!/^[\w-]+$/.test(name)) throw new Error(`not a section name: ${JSON.stringify(name)}`);
  return `echo @@${name}`;
}

export interface ScriptOutput {
  /** What the script printed before its first section. */
  readonly preamble: string;
  /** Each section's text (without its marker line), by name; a repeated name keeps the last. */
  readonly sections: Readonly<Record<string, string>>;
  /** The "@@end" line was printed: the script ran to its end. */
  readonly complete: boolean;
}

/** Splits a script's output into its sections. */
export function parseSections(text: string): ScriptOutput {
  const sections: Record<string, string> = {};
  let preamble = '';
  let cur: string | undefined;
  let buf: string[] = [];
  let complete = false;
  const close = () => {
    const body = buf.join('\n');
    if (cur === undefined) preamble = body;
    else sections[cur] = body;
  };
  for (const line of text.split('\n')) {
    const m = MARK_RE.exec(line);
    if (!m) {
      buf.push(line);
      continue;
    }
    close();
    cur = m[1];
    buf = [];
    if (cur === END_SECTION) complete = true;
  }
  close();
  return { preamble, sections, complete };
}

export interface GuestScriptOptions {
  /** Positional parameters ($1 …) of the script. */
  args?: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
  /** For messages: "the guest-side", "the trace". */
  what: string;
  /** For messages: the guest's name. */
  guest: string;
}

export interface GuestScriptResult extends ScriptOutput {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The script stopped before its "@@end" line. */
export class GuestScriptError extends Error {
  constructor(
    readonly what: string,
    readonly guest: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`${what} script in ${guest} failed (exit ${exitCode})${stderr.trim() ? `: ${stderr.trim().slice(0, 500)}` : ''}`);
    this.name = 'GuestScriptError';
  }
}

/**
 * Runs `script` with /bin/sh inside the guest (the argv is /bin/sh -c SCRIPT sh ARGS…: nothing is
 * quoted on the host side) and splits its output. Rejects with GuestScriptError when it did not reach
 * its end, and with the executor's error when it could not run.
 */
export async function runGuestScript(exec: GuestExec, script: string, opts: GuestScriptOptions): Promise<GuestScriptResult> {
  const r = await exec.exec(['/bin/sh', '-c', script, 'sh', ...(opts.args ?? [])], { timeoutMs: opts.timeoutMs, signal: opts.signal });
  const out = parseSections(r.stdout);
  if (!out.complete) throw new GuestScriptError(opts.what, opts.guest, r.exitCode, r.stderr || r.stdout);
  return { ...out, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}
