// Host.readFiles on the lab's second host: many files in one program run, hostile names and any byte
// in a file arriving intact, a missing or unreadable one reported for its path, and nothing in a name
// ever runs (a marker file must not appear on either machine).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sshLab } from '../../bench/sshLab';
import { RemoteFileError, SshHost } from '../../src/core/host/ssh';
import { countingHost } from '../fixtures/remote/countingHost';

const MARK = 'virtscope-pwned-readfiles';
const NAMES = ['plain', 'with space', `quote's "double"`, `semi;$(touch ${MARK})`, `back\`touch ${MARK}\``, 'new\nline', '-leading-dash', 'ünïcödé ✓', ' ok'];
// every byte value, line ends and what looks like a status line
const BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\n ok\nENOENT\n\n')]);

let dir: string;
let host: SshHost;
let remote: string;

before(async () => {
  const lab = sshLab();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-readfiles-'));
  host = new SshHost({ destination: lab.alias, configFile: lab.sshConfig, controlDir: path.join(dir, 'ctl') });
  remote = await host.mkdtemp('vs-readfiles-');
});

after(async () => {
  if (remote) await host.rm(remote, { recursive: true, force: true });
  await host.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('readFiles: hostile names and contents arrive intact in one channel; a missing file or a directory answered for its path; nothing runs', async () => {
  const texts = NAMES.map((n, i) => `${i}: ${n}\n`);
  await Promise.all(NAMES.map((n, i) => host.writeFile(`${remote}/${n}`, texts[i])));
  // binary content: written on the remote side from base64 (writeFile takes text)
  await host.run(['sh', '-c', 'base64 -d > "$1"', 'sh', `${remote}/bytes`], { stdin: BYTES.toString('base64') });
  await host.mkdir(`${remote}/a dir`);
  const paths = [...NAMES.map((n) => `${remote}/${n}`), `${remote}/bytes`, `${remote}/missing`, `${remote}/a dir`, `${remote}/plain/under-a-file`, ''];
  const counted = countingHost(host);
  const got = await counted.host.readFiles(paths);
  assert.deepEqual(counted.ops, ['readFiles'], 'one operation: one channel');
  NAMES.forEach((n, i) => assert.equal(got.get(`${remote}/${n}`), texts[i], JSON.stringify(n)));
  // utf8 text: the bytes that are not valid UTF-8 arrive as U+FFFD, the rest (and the framing) intact
  assert.equal(got.get(`${remote}/bytes`), BYTES.toString('utf8'));
  const err = (p: string) => got.get(p) as RemoteFileError;
  assert.equal(err(`${remote}/missing`).code, 'ENOENT');
  assert.match(err(`${remote}/missing`).message, /cannot read .*missing on .*: No such file or directory/);
  assert.equal(err(`${remote}/a dir`).code, 'EISDIR');
  assert.equal(err(`${remote}/plain/under-a-file`).code, 'ENOENT');
  assert.equal(err('').code, 'ENOENT');
  assert.equal(got.size, paths.length);
  assert.ok(!fs.existsSync(MARK) && !fs.existsSync(path.join(os.homedir(), MARK)), 'nothing ran here');
  assert.equal((await host.run(['sh', '-c', 'test -e "$1" || test -e ~/"$1"', 'sh', MARK])).exitCode, 1, 'nothing ran there');
});

test('readFiles: more paths than one remote command holds are read in a few runs, each answered', async () => {
  const long = `${remote}/${'d'.repeat(200)}`;
  await host.mkdir(long);
  await host.writeFile(`${long}/f`, 'x');
  const paths = Array.from({ length: 600 }, (_, i) => (i === 599 ? `${long}/f` : `${long}/missing-${i}`));
  const counted = countingHost(host);
  const got = await counted.host.readFiles(paths);
  assert.equal(got.size, 600);
  assert.equal(got.get(`${long}/f`), 'x');
  assert.ok(got.get(`${long}/missing-0`) instanceof RemoteFileError);
});
