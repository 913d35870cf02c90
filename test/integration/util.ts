import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../../src/core/backends/libvirt';

/** Polls `cond` every 25 ms until true or `ms` elapsed (then throws with `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `virsh -c uri …`, and the same ignoring a failure (cleanup of what may be gone already). */
export function virshOn(uri: string) {
  const virsh = (...args: string[]) => execFileSync('virsh', ['-c', uri, ...args], { encoding: 'utf8', timeout: 30_000, stdio: 'pipe' });
  const quietly = (...args: string[]) => {
    try {
      virsh(...args);
    } catch {
      // already gone
    }
  };
  return { virsh, quietly };
}

/** A scratch directory libvirtd can read (a test's own pool lives there) and a connected backend. */
export async function libvirtScratch(prefix: string, id: string, uri: string): Promise<{ dir: string; backend: LibvirtBackend }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const backend = new LibvirtBackend({ id, type: 'libvirt', uri });
  await backend.connect();
  return { dir, backend };
}
