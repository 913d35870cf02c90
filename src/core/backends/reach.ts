// A backend on another machine can fail because the machine is out of reach: that is said in SSH's
// own words ("Connection refused", "Host key verification failed."), with the host's name, and
// never as a fault of the daemon or engine behind it.
import { SshUnreachableError } from '../host/ssh';
import type { Host } from '../host/host';
import { LocalHost } from '../host/local';
import { BackendError } from '../model';

export const UNREACHABLE_HINT = 'virtscope tries again by itself; it reconnects when the host answers again.';

/** `e` as "<host> is unreachable: <SSH's reason>", or undefined when the host was reached. */
export function hostUnreachable(e: unknown): BackendError | undefined {
  // the host's error may be wrapped (runOn's ExecError, a backend's BackendError) as the cause
  for (let i = 0; i < 4 && e instanceof Error && !(e instanceof SshUnreachableError); i++) e = e.cause;
  if (!(e instanceof SshUnreachableError)) return undefined;
  const err = new BackendError(`${e.host} is unreachable: ${e.sshReason}`, 'EHOSTUNREACH', UNREACHABLE_HINT);
  err.cause = e;
  return err;
}

/** Is `host` this machine (its sockets are opened directly, the fast path)? */
export function isThisMachine(host: Host | undefined): boolean {
  return host === undefined || host instanceof LocalHost;
}

/** " on <host>" for messages about a remote host, "" for this machine. */
export function onHost(host: Host | undefined): string {
  return isThisMachine(host) ? '' : ` on ${host!.label}`;
}
