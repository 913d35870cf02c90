// The lab's LXD cluster as tests and benchmarks see it (scripts/lab/lxd-cluster.sh; the lab brings it
// up and down, never a test): its KEY=VALUE environment, the `lxc` CLI against a member (inside the
// hub netns), and a node script run inside the hub netns (anything that talks HTTPS to 10.82.0.x).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The lab script: VIRTSCOPE_LXD_SCRIPT, else the repo's own. */
export const LXD_LAB_SCRIPT = process.env.VIRTSCOPE_LXD_SCRIPT ?? path.join(__dirname, '..', '..', 'scripts', 'lab', 'lxd-cluster.sh');

export type LxdLabEnv = Record<string, string>;

/** `lxd-cluster.sh env`, or why the cluster cannot be used (then a test skips with that reason). */
export function lxdLabEnv(): { env?: LxdLabEnv; skip?: string } {
  if (!existsSync(LXD_LAB_SCRIPT)) return { skip: `no ${LXD_LAB_SCRIPT}` };
  let out: string;
  try {
    out = execFileSync('bash', [LXD_LAB_SCRIPT, 'env'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return { skip: `lxd-cluster.sh env failed: ${(e as Error).message}` };
  }
  const env = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (!env.LXD_SOCKET_1 || !existsSync(env.LXD_SOCKET_1)) return { skip: 'the LXD lab cluster is not up (bash scripts/lab/lxd-cluster.sh up)' };
  return { env };
}

/** `lxc` against member N (run by the lab script inside the hub netns); its stdout. */
export async function lxc(member: 1 | 2 | 3, ...args: string[]): Promise<string> {
  const { stdout } = await execFileP('bash', [LXD_LAB_SCRIPT, 'lxc', String(member), ...args], { encoding: 'utf8', timeout: 120_000 });
  return stdout;
}

/** The same, ignoring a failure (cleanup of what may be gone already). */
export async function lxcQuietly(member: 1 | 2 | 3, ...args: string[]): Promise<void> {
  await lxc(member, ...args).catch(() => undefined);
}

/** Runs a TypeScript file with node inside the hub netns, `env` added; its stdout (rejects on exit != 0). */
export async function nodeInHub(env: LxdLabEnv, script: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFileP('nsenter', [`--net=${env.LXD_HUB_NETNS}`, process.execPath, '--import', 'tsx', script], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env, ...extraEnv },
  });
  return stdout;
}
