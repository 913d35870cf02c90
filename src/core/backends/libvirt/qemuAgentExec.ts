// Programs inside a QEMU guest through qemu-guest-agent over the libvirt RPC connection:
// `guest-exec` takes a path and an argument array, so nothing in the guest parses a shell string.
import { BackendError, Guest } from '../../model';
import { LibvirtClient, LibvirtError } from '../../libvirt/client';
import {
  DEFAULT_EXEC_TIMEOUT_MS,
  exitCodeOf,
  GUEST_PATH,
  GuestExecAborted,
  GuestExecOptions,
  GuestExecResult,
  GuestExecutor,
  killTreeArgv,
  sleep,
} from '../../guest/exec';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** Seconds the agent may take to answer one command. */
const AGENT_TIMEOUT_S = 10;

/** qemu-guest-agent `guest-exec` command for argv (path + arg array; stdin as base64 input-data). */
export function guestExecCommand(argv: readonly string[], stdin?: string): string {
  if (!argv.length) throw new Error('empty argv');
  const args: Record<string, unknown> = {
    path: argv[0],
    arg: argv.slice(1),
    env: [`PATH=${GUEST_PATH}`],
    'capture-output': true,
  };
  if (stdin !== undefined) args['input-data'] = Buffer.from(stdin, 'utf8').toString('base64');
  return JSON.stringify({ execute: 'guest-exec', arguments: args });
}

export interface AgentExecStatus {
  exited: boolean;
  exitCode?: number;
  signal?: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Parses the reply of `guest-exec-status`. */
export function parseGuestExecStatus(reply: string): AgentExecStatus {
  const r = JSON.parse(reply)?.return;
  if (!r || typeof r !== 'object') throw new Error(`unexpected guest-exec-status reply: ${reply.slice(0, 200)}`);
  const dec = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
  return {
    exited: !!r.exited,
    exitCode: typeof r.exitcode === 'number' ? r.exitcode : undefined,
    signal: typeof r.signal === 'number' ? r.signal : undefined,
    stdout: dec(r['out-data']),
    stderr: dec(r['err-data']),
    truncated: !!(r['out-truncated'] || r['err-truncated']),
  };
}

export function agentMissingHint(name: string): string {
  return (
    `The QEMU guest agent does not answer in "${name}". Install it in the guest ` +
    `(apt-get install qemu-guest-agent / dnf install qemu-guest-agent; systemctl enable --now qemu-guest-agent) ` +
    `and add its channel to the domain: <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel> ` +
    `(virsh edit ${name}, then restart the guest).`
  );
}

const statusCommand = (pid: number) => JSON.stringify({ execute: 'guest-exec-status', arguments: { pid } });

export class QemuAgentExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    /** The connection's RPC client (connected). */
    private readonly client: () => Promise<LibvirtClient>,
    private readonly guest: Guest,
  ) {
    this.description = `${guest.name} (qemu-guest-agent)`;
  }

  private async agent(command: string): Promise<string> {
    const c = await this.client();
    const dom = UUID_RE.test(this.guest.id) ? await c.domainLookupByUUID(this.guest.id) : await c.domainLookupByName(this.guest.name);
    try {
      const reply = await c.domainAgentCommand(dom, command, AGENT_TIMEOUT_S);
      if (reply == null) throw new BackendError(`qemu-guest-agent in ${this.guest.name} returned nothing`);
      return reply;
    } catch (e) {
      if (e instanceof LibvirtError && /agent/i.test(e.message)) {
        throw new BackendError(`${this.guest.name}: ${e.message}`, e.code, agentMissingHint(this.guest.name));
      }
      throw e;
    }
  }

  /** Starts argv in the guest; its guest pid. */
  private async start(argv: readonly string[], stdin?: string): Promise<number | undefined> {
    const pid = JSON.parse(await this.agent(guestExecCommand(argv, stdin)))?.return?.pid;
    return typeof pid === 'number' ? pid : undefined;
  }

  async exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    const where = this.guest.name;
    if (opts.signal?.aborted) throw new GuestExecAborted(where, argv, 'cancelled');
    const pid = await this.start(argv, opts.stdin);
    if (pid === undefined) throw new BackendError(`guest-exec in ${where} returned no pid`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let delay = 20;
    for (;;) {
      const st = parseGuestExecStatus(await this.agent(statusCommand(pid)));
      if (st.exited) return { exitCode: exitCodeOf(st.exitCode, st.signal), stdout: st.stdout, stderr: st.stderr };
      const why = opts.signal?.aborted ? 'cancelled' : Date.now() > deadline ? 'timeout' : undefined;
      if (why) {
        await this.killTree(pid);
        throw new GuestExecAborted(where, argv, why, timeoutMs);
      }
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, 250);
    }
  }

  /** Kills the guest process and its descendants, inside the guest. */
  private async killTree(pid: number): Promise<void> {
    try {
      const kp = await this.start(killTreeArgv(pid));
      for (let i = 0; i < 40 && kp !== undefined; i++) {
        if (parseGuestExecStatus(await this.agent(statusCommand(kp))).exited) break;
        await sleep(50);
      }
      // reap the killed process's status so the agent forgets it
      await this.agent(statusCommand(pid)).catch(() => undefined);
    } catch {
      /* the guest may be gone */
    }
  }
}
