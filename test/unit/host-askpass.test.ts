// The askpass bridge: ssh's question reaches the handler with the host's label and its kind; the
// answer (or a cancel) goes back to ssh through the helper, as ssh runs it (SSH_ASKPASS "prompt").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AskpassBridge, askpassKind, type AskpassRequest } from '../../src/core/host/askpass';

const HOST_KEY_PROMPT =
  "The authenticity of host '10.81.0.2 (10.81.0.2)' can't be established.\nED25519 key fingerprint is SHA256:abc.\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ";

/** Runs the helper exactly as ssh does: SSH_ASKPASS with the prompt as its only argument. */
function askAsSsh(env: Record<string, string>, prompt: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(env.SSH_ASKPASS, [prompt], { env: { PATH: process.env.PATH, ...env } }, (err, stdout) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout }),
    );
  });
}

async function withBridge(handler: (r: AskpassRequest) => Promise<string | undefined>, body: (b: AskpassBridge, dir: string) => Promise<void>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-askpass-'));
  fs.chmodSync(dir, 0o700);
  const b = await AskpassBridge.start(dir, handler);
  try {
    await body(b, dir);
  } finally {
    await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('askpass: a scripted "yes" to an unknown host key reaches ssh; the handler sees the host and the kind', async () => {
  const seen: AskpassRequest[] = [];
  await withBridge(
    async (r) => (seen.push(r), 'yes'),
    async (b) => {
      const r = await askAsSsh(b.env('root@kvm1'), HOST_KEY_PROMPT);
      assert.deepEqual(r, { code: 0, stdout: 'yes\n' });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].host, 'root@kvm1');
      assert.equal(seen[0].kind, 'host-key');
      assert.equal(seen[0].prompt, HOST_KEY_PROMPT);
    },
  );
});

test('askpass: a cancel makes the helper fail, so ssh gives up instead of reading an empty answer', async () => {
  await withBridge(
    async () => undefined,
    async (b) => assert.deepEqual(await askAsSsh(b.env('kvm1'), "Enter passphrase for key '/root/.ssh/id_ed25519': "), { code: 1, stdout: '' }),
  );
});

test('askpass: a caller without the token is not answered and the handler never runs', async () => {
  let calls = 0;
  await withBridge(
    async () => (calls++, 'secret'),
    async (b) => {
      const env = { ...b.env('kvm1'), VIRTSCOPE_ASKPASS_TOKEN: 'forged' };
      assert.deepEqual(await askAsSsh(env, "root@kvm1's password: "), { code: 1, stdout: '' });
      assert.equal(calls, 0);
    },
  );
});

test('askpass: the helper and socket are private to this user', async () => {
  await withBridge(
    async () => 'x',
    async (b, dir) => {
      assert.equal(fs.statSync(path.join(dir, 'askpass.sh')).mode & 0o077, 0);
      assert.equal(fs.statSync(path.join(dir, 'askpass-main.js')).mode & 0o077, 0);
      assert.equal(fs.statSync(dir).mode & 0o077, 0);
    },
  );
});

test('askpassKind: host key, passphrase, password', () => {
  assert.equal(askpassKind(HOST_KEY_PROMPT), 'host-key');
  assert.equal(askpassKind("Enter passphrase for key '/k': "), 'passphrase');
  assert.equal(askpassKind("root@kvm1's password: "), 'password');
  assert.equal(askpassKind('Something else'), 'other');
});
