// Where lxc-tools keeps its containers on a host.
import { BackendError } from '../model';
import { ExecError, runOn } from '../exec';
import type { Host } from './host';

export const DEFAULT_LXC_PATH = '/var/lib/lxc';

/**
 * The lxcpath: the configured one, else lxc's own (`lxc-config lxc.lxcpath`), else /var/lib/lxc.
 * `strict`: a host without lxc-config is an error (with the install hint) instead of the default.
 */
export async function lxcPathOn(host: Host, configured?: string, opts: { strict?: boolean } = {}): Promise<string> {
  if (configured) return configured;
  try {
    return (await runOn(host, ['lxc-config', 'lxc.lxcpath'])).stdout.trim() || DEFAULT_LXC_PATH;
  } catch (e) {
    if (!opts.strict) return DEFAULT_LXC_PATH;
    if (e instanceof ExecError && e.notFound)
      throw new BackendError(`lxc-config was not found on ${host.label}`, 'ENOENT', 'Install lxc-tools: sudo apt-get install lxc');
    const err = new BackendError(e instanceof Error ? e.message : String(e), e instanceof ExecError ? (e.exitCode ?? undefined) : undefined);
    err.cause = e; // an unreachable host stays recognisable
    throw err;
  }
}
