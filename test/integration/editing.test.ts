// Editing guest definitions through the save path (src/core/editing) on the lab's hosts:
// qemu:///system (a throwaway domain made from the "New Guest" template, removed afterwards — labvm
// is never touched), lxc-tools (a throwaway container in a scratch lxcpath), and the language
// server's diagnostics for the same texts the host rejects.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerBackend } from '../../src/core/backends/docker';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { LxcBackend } from '../../src/core/backends/lxc';
import {
  DefinitionConflictError,
  DefinitionRejectedError,
  EditableDefinitions,
  editableDefinitions,
  GuestExistsError,
} from '../../src/core/editing/definitions';
import { LXC_TEMPLATE, QEMU_TEMPLATE, renderTemplate, TEST_TEMPLATE, templateFactsOf } from '../../src/core/editing/templates';
import { localHost } from '../../src/core/host/local';
import { LspClient } from '../lsp-client';

const URI = 'qemu:///system';
const NAME = `vs-edit-${process.pid}`;

function virsh(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('virsh', ['-c', URI, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`virsh ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}
/** What libvirt stores for the domain, read by virsh (not by the code under test; virsh adds a newline). */
const hostXml = async () => (await virsh('dumpxml', '--inactive', '--security-info', NAME)).replace(/\n\n$/, '\n');

describe('libvirt definitions without a baseline (test+unix:///default)', () => {
  // the test driver's state lives in libvirtd's memory; a throwaway domain, undefined afterwards
  const TEST_URI = 'test+unix:///default';
  const name = `vs-nobase-${process.pid}`;
  const tvirsh = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('virsh', ['-c', TEST_URI, ...args], { timeout: 20_000 }, (err, out, errOut) =>
        err ? reject(new Error(`virsh ${args.join(' ')}: ${errOut}`)) : resolve(out),
      ),
    );
  let backend: LibvirtBackend;
  after(async () => {
    await tvirsh('undefine', name).catch(() => undefined);
    await backend?.close();
  });

  it('a save without a baseline over a host definition changed meanwhile is a conflict; the host keeps its text', async () => {
    backend = new LibvirtBackend({ id: 'test', type: 'libvirt', uri: TEST_URI });
    await backend.connect();
    const defs = editableDefinitions(backend)!;
    const { guestId } = await defs.create(renderTemplate(TEST_TEMPLATE, name, await templateFactsOf(localHost)), undefined);
    const opened = await defs.read(guestId);
    await tvirsh('desc', name, '--config', '--new-desc', 'changed behind the editor');
    const err = await defs.save(guestId, opened, undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionConflictError, String(err));
    assert.match(err.current, /changed behind the editor/);
    assert.match(await defs.read(guestId), /changed behind the editor/);
    // the same text as the host's goes through
    await defs.save(guestId, err.current, undefined);
  });
});

describe('libvirt domain definitions (qemu:///system)', () => {
  let backend: LibvirtBackend;
  let defs: EditableDefinitions;
  let id: string;
  let ls: LspClient;

  before(async () => {
    backend = new LibvirtBackend({ id: 'qemu', type: 'libvirt', uri: URI });
    await backend.connect();
    defs = editableDefinitions(backend)!;
    ls = await LspClient.start();
    await ls.initialize({ debounceMs: 0 });
  });
  after(async () => {
    await virsh('undefine', NAME).catch(() => undefined);
    await backend?.close();
    await ls?.shutdown();
  });

  it('the "New Guest" template defines as it is (created, not overwriting anything)', async () => {
    const r = await defs.create(renderTemplate(QEMU_TEMPLATE, NAME, await templateFactsOf(localHost)), undefined);
    id = r.guestId;
    assert.equal(r.name, NAME);
    assert.match(r.text, new RegExp(`<uuid>${id}</uuid>`));
    assert.equal(await hostXml(), r.text);
    await assert.rejects(defs.create(renderTemplate(QEMU_TEMPLATE, NAME, await templateFactsOf(localHost)), undefined), GuestExistsError);
  });

  it('changing <memory> and saving: libvirt reports the new value', async () => {
    const before = await defs.read(id);
    const edited = before
      .replace(/<memory unit='KiB'>\d+<\/memory>/, "<memory unit='KiB'>786432</memory>")
      .replace(/<currentMemory unit='KiB'>\d+<\/currentMemory>/, "<currentMemory unit='KiB'>786432</currentMemory>");
    assert.notEqual(edited, before);
    const r = await defs.save(id, edited, before);
    assert.equal(r.guestId, id);
    assert.match(await hostXml(), /<memory unit='KiB'>786432<\/memory>/);
    const g = await backend.get(id);
    assert.equal(g?.maxMemoryBytes, 786432 * 1024);
    assert.match(await virsh('dominfo', NAME), /Max memory:\s+786432 KiB/);
  });

  it('malformed XML: a diagnostic, the host’s error, and the definition byte-for-byte unchanged', async () => {
    const before = await hostXml();
    const bad = before.replace('</vcpu>', '</vcpux>');
    const diags = await ls.open('virtscope-guest:/qemu/bad1.xml', 'xml', bad);
    assert.ok(
      diags.some((d) => d.source === 'xml' && /mismatch/.test(d.message)),
      JSON.stringify(diags),
    );
    const err = await defs.save(id, bad, before).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionRejectedError, String(err));
    assert.match(err.message, /mismatch|XML error/i);
    assert.equal(await hostXml(), before);
  });

  it('schema-invalid definition: a diagnostic, the host’s schema error, and nothing changed', async () => {
    const before = await hostXml();
    const bad = before.replace('<on_crash>destroy</on_crash>', '<on_crash>explode</on_crash>');
    assert.notEqual(bad, before);
    const diags = await ls.open('virtscope-guest:/qemu/bad2.xml', 'xml', bad);
    assert.ok(
      diags.some((d) => /"explode" is not allowed in <on_crash>/.test(d.message)),
      JSON.stringify(diags),
    );
    const err = await defs.save(id, bad, before).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionRejectedError, String(err));
    assert.match(err.message, /failed to validate against schema/i);
    assert.equal(await hostXml(), before);
  });

  it('a definition changed on the host since it was opened is not overwritten', async () => {
    const opened = await defs.read(id);
    await virsh('desc', NAME, '--config', '--new-desc', 'changed behind the editor');
    const mine = opened.replace(/<vcpu( [^>]*)?>1<\/vcpu>/, "<vcpu placement='static'>2</vcpu>");
    const err = await defs.save(id, mine, opened).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionConflictError, String(err));
    assert.match(err.current, /changed behind the editor/);
    assert.match(await hostXml(), /changed behind the editor/);
    // overwrite, as the user may choose after comparing
    await defs.save(id, mine, undefined, { force: true });
    assert.match(await hostXml(), /<vcpu placement='static'>2<\/vcpu>/);
  });
});

describe('lxc-tools configs (scratch lxcpath)', () => {
  let dir: string;
  let defs: EditableDefinitions;
  const name = 'vsedit';
  let file: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'virtscope-lxcpath-'));
    const b = new LxcBackend({ id: 'lxc', type: 'lxc', lxcPath: dir });
    await b.connect();
    defs = editableDefinitions(b)!;
    file = path.join(dir, name, 'config');
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('the template creates a container liblxc loads', async () => {
    const r = await defs.create(renderTemplate(LXC_TEMPLATE, name, await templateFactsOf(localHost), dir), name);
    assert.equal(r.guestId, name);
    assert.match(await fs.readFile(file, 'utf8'), new RegExp(`lxc.rootfs.path = dir:${dir}/${name}/rootfs`));
    await fs.access(path.join(dir, name, 'rootfs'));
    await assert.rejects(defs.create('lxc.uts.name = x\n', name), GuestExistsError);
  });

  it('saving writes the config and keeps a backup of the previous one', async () => {
    const before = await defs.read(name);
    const r = await defs.save(name, before.replace('lxc.tty.max = 4', 'lxc.tty.max = 2'), before);
    assert.match(await fs.readFile(file, 'utf8'), /lxc\.tty\.max = 2/);
    assert.equal(await fs.readFile(r.backup!, 'utf8'), before);
  });

  it('a config liblxc refuses is not written: liblxc’s message, file byte-for-byte unchanged', async () => {
    const before = await fs.readFile(file);
    const err = await defs.save(name, `${before}lxc.bogus.key = 1\n`, before.toString()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionRejectedError, String(err));
    assert.match(err.message, /Unsupported config key "lxc\.bogus\.key"/);
    assert.deepEqual(await fs.readFile(file), before);
  });

  it('a config changed on the host since it was opened is not overwritten', async () => {
    const opened = await defs.read(name);
    await fs.appendFile(file, '# edited elsewhere\n');
    await assert.rejects(defs.save(name, opened.replace('lxc.tty.max = 2', 'lxc.tty.max = 3'), opened), DefinitionConflictError);
    assert.match(await fs.readFile(file, 'utf8'), /# edited elsewhere\n$/);
  });

  it('Docker/Podman definitions stay read-only', () => {
    assert.equal(editableDefinitions(new DockerBackend({ id: 'c', type: 'docker' })), undefined);
  });
});
