// The save path's conflict check without a baseline (an editor restored after a reload has none):
// the host's text is compared all the same, on an lxc-tools config in a scratch lxcpath (the check
// comes before liblxc is asked anything).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LxcBackend } from '../../src/core/backends/lxc';
import { DefinitionConflictError, editableDefinitions } from '../../src/core/editing/definitions';

describe('saving a definition without a baseline', () => {
  let dir: string;
  let file: string;
  const HOST = 'lxc.uts.name = ct\nlxc.tty.max = 2\n# edited on the host\n';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-test-lxcpath-'));
    fs.mkdirSync(path.join(dir, 'ct'));
    file = path.join(dir, 'ct', 'config');
    fs.writeFileSync(file, HOST);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a text other than the host’s is a conflict: nothing written, the host’s text carried', async () => {
    const defs = editableDefinitions(new LxcBackend({ id: 'lxc', type: 'lxc', lxcPath: dir }))!;
    const mine = 'lxc.uts.name = ct\nlxc.tty.max = 3\n';
    const err = await defs.save('ct', mine, undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionConflictError, String(err));
    assert.equal(err.current, HOST);
    assert.match(err.message, /no record of the version this document was opened from/);
    assert.equal(fs.readFileSync(file, 'utf8'), HOST);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'ct')), ['config'], 'no backup or temp file either');
  });
});
