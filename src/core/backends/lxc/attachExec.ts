// Programs inside an lxc-tools container: lxc-attach on the container's host, argv after `--`.
import type { Guest } from '../../model';
import { execOnHost, GUEST_PATH, GuestExecOptions, GuestExecResult, GuestExecutor } from '../../guest/exec';
import type { Host } from '../../host/host';

/** lxc-attach's arguments: a clean environment with the guest PATH, then argv verbatim. */
export function lxcAttachArgs(name: string, lxcPath: string | undefined, argv: readonly string[]): string[] {
  return ['-n', name, ...(lxcPath ? ['-P', lxcPath] : []), '--clear-env', '--set-var', `PATH=${GUEST_PATH}`, '--', ...argv];
}

export class LxcAttachExecutor implements GuestExecutor {
  readonly description: string;
  constructor(
    private readonly host: Host,
    private readonly guest: Guest,
    /** The configured lxcpath (none: lxc-attach's own default). */
    private readonly lxcPath: string | undefined,
  ) {
    this.description = `${guest.name} (lxc-attach)`;
  }

  exec(argv: string[], opts: GuestExecOptions = {}): Promise<GuestExecResult> {
    return execOnHost(this.host, ['lxc-attach', ...lxcAttachArgs(this.guest.name, this.lxcPath, argv)], opts, { where: this.guest.name, shown: argv });
  }
}
