// How ssh asks the user (an unknown host key, a key's passphrase, a password) without a terminal: ssh
// runs SSH_ASKPASS with the prompt as its argument and reads the answer from its stdout. Our helper is
// a tiny script in a private directory that asks this process through a unix socket there; the
// extension answers from VS Code's own input box (the git extension does the same for credentials).
// Nothing is written to disk but the helper itself; answers travel only over the 0700 directory's socket.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export type AskpassKind = 'host-key' | 'passphrase' | 'password' | 'other';

export interface AskpassRequest {
  /** The host's label, as the user named it. */
  readonly host: string;
  /** ssh's own words (for a host key: the fingerprint and the question). */
  readonly prompt: string;
  readonly kind: AskpassKind;
}

/** The answer ("yes" to accept a host key), or undefined when the user cancels. */
export type AskpassHandler = (req: AskpassRequest) => Promise<string | undefined>;

export function askpassKind(prompt: string): AskpassKind {
  if (/authenticity of host|continue connecting|host key/i.test(prompt)) return 'host-key';
  if (/passphrase/i.test(prompt)) return 'passphrase';
  if (/password|verification code|PIN/i.test(prompt)) return 'password';
  return 'other';
}

// Runs under process.execPath (node, or VS Code's Electron with ELECTRON_RUN_AS_NODE=1).
const MAIN_JS = `'use strict';
const net = require('net');
const e = process.env;
const s = net.createConnection(e.VIRTSCOPE_ASKPASS_SOCK);
let buf = '';
s.on('connect', () => s.write(JSON.stringify({ token: e.VIRTSCOPE_ASKPASS_TOKEN, host: e.VIRTSCOPE_ASKPASS_HOST || '', prompt: process.argv.slice(2).join(' ') }) + '\\n'));
s.on('data', (d) => { buf += d; });
s.on('end', () => {
  try { const r = JSON.parse(buf); if (typeof r.answer === 'string') { process.stdout.write(r.answer + '\\n'); process.exit(0); } } catch (_) {}
  process.exit(1);
});
s.on('error', () => process.exit(1));
`;

export class AskpassBridge {
  private constructor(
    private readonly server: net.Server,
    private readonly dir: string,
    private readonly token: string,
  ) {}

  /** Listens in `dir` (which the caller made private, 0700) and writes the helper there. */
  static async start(dir: string, handler: AskpassHandler): Promise<AskpassBridge> {
    const token = randomBytes(16).toString('hex');
    await fs.writeFile(path.join(dir, 'askpass-main.js'), MAIN_JS, { mode: 0o600 });
    const sh = `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec "$VIRTSCOPE_ASKPASS_NODE" "$VIRTSCOPE_ASKPASS_MAIN" "$@"\n`;
    await fs.writeFile(path.join(dir, 'askpass.sh'), sh, { mode: 0o700 });
    const server = net.createServer((c) => serve(c, token, handler));
    const sock = path.join(dir, 'askpass.sock');
    await fs.rm(sock, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, () => resolve());
    });
    return new AskpassBridge(server, dir, token);
  }

  /** The environment of an ssh process whose questions go to the handler, labelled with `host`. */
  env(host: string): Record<string, string> {
    return {
      SSH_ASKPASS: path.join(this.dir, 'askpass.sh'),
      SSH_ASKPASS_REQUIRE: 'force',
      DISPLAY: process.env.DISPLAY || ':0',
      VIRTSCOPE_ASKPASS_NODE: process.execPath,
      VIRTSCOPE_ASKPASS_MAIN: path.join(this.dir, 'askpass-main.js'),
      VIRTSCOPE_ASKPASS_SOCK: path.join(this.dir, 'askpass.sock'),
      VIRTSCOPE_ASKPASS_TOKEN: this.token,
      VIRTSCOPE_ASKPASS_HOST: host,
    };
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

function serve(c: net.Socket, token: string, handler: AskpassHandler): void {
  let buf = '';
  c.setEncoding('utf8');
  c.on('error', () => undefined);
  c.on('data', (d: string) => {
    buf += d;
    if (buf.length > 65536) return void c.destroy();
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    c.removeAllListeners('data');
    void answer(buf.slice(0, nl), token, handler).then((a) => c.end(JSON.stringify(a === undefined ? {} : { answer: a })));
  });
}

async function answer(line: string, token: string, handler: AskpassHandler): Promise<string | undefined> {
  let req: { token?: unknown; host?: unknown; prompt?: unknown };
  try {
    req = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (req.token !== token || typeof req.prompt !== 'string') return undefined; // not one of our ssh processes
  const prompt = req.prompt;
  try {
    return await handler({ host: typeof req.host === 'string' ? req.host : '', prompt, kind: askpassKind(prompt) });
  } catch {
    return undefined;
  }
}
