// Docker/Podman checkpoint and restore need CRIU on the engine's host. virtscope offers no
// Checkpoint verb for containers; the guest's tooltip says why it is absent on that host.
import { HostRunError, type Host } from '../../host/host';

/** Why a container on `host` has no Checkpoint verb: one `criu check` per connection. */
export async function checkpointAbsence(host: Host): Promise<string> {
  const absent = 'Checkpoint/restore: absent —';
  try {
    const r = await host.run(['criu', 'check'], { timeoutMs: 15_000 });
    if (r.exitCode === 0) return `${absent} CRIU works on ${host.label}, but virtscope does not offer container checkpoints yet`;
    return `${absent} CRIU cannot checkpoint on ${host.label} (criu check: ${lastLine(r.stderr || r.stdout) || `exit ${r.exitCode}`})`;
  } catch (e) {
    if (e instanceof HostRunError && e.notFound) return `${absent} CRIU is not installed on ${host.label}`;
    return `${absent} CRIU could not be asked on ${host.label} (${(e as Error).message})`;
  }
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  );
}
