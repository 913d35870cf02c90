// The language server, spoken to over the protocol (stdio JSON-RPC): initialize, didOpen →
// publishDiagnostics, didChange, completion, hover, code actions — for libvirt domain XML
// (validated by xmllint against /usr/share/libvirt/schemas) and for LXC configs.
// Needs libvirt's schemas (libvirt-daemon) and xmllint (libxml2-utils): `bash scripts/lab.sh deps`.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCUMENT_SCHEMAS } from '../../src/language/notifications';
import { validateXml } from '../../src/core/schema/xmllint';
import { disposeServerBundle, LspClient, positionOf, serverBundle } from '../lsp-client';

const FIX = path.join(__dirname, '../fixtures/language');
const DOMAIN = fs.readFileSync(path.join(FIX, 'domain.xml'), 'utf8');
const CONFIG = fs.readFileSync(path.join(FIX, 'config'), 'utf8');
const SCHEMAS = '/usr/share/libvirt/schemas';

function prerequisites(): void {
  assert.ok(fs.existsSync(path.join(SCHEMAS, 'domain.rng')), `${SCHEMAS}/domain.rng is missing: install libvirt (bash scripts/lab.sh deps)`);
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'ignore' });
  } catch {
    assert.fail('xmllint is missing: sudo apt-get install libxml2-utils (bash scripts/lab.sh deps)');
  }
}

describe('language server over LSP', () => {
  let ls: LspClient;
  before(async () => {
    prerequisites();
    ls = await LspClient.start();
    await ls.initialize({ schemaDir: SCHEMAS, debounceMs: 0 });
  });
  after(async () => {
    await ls?.shutdown();
  });

  it('initialize announces completion, hover, code actions and incremental sync', () => {
    const caps = ls.initializeResult!.capabilities;
    assert.ok(caps.completionProvider?.triggerCharacters?.includes('<'));
    assert.equal(caps.hoverProvider, true);
    assert.ok(caps.codeActionProvider);
    assert.equal(caps.textDocumentSync, 2);
    assert.equal(ls.initializeResult!.serverInfo?.name, 'virtscope-language-server');
  });

  describe('domain XML', () => {
    const uri = 'virtscope-guest:/test/fixture.xml';
    it('a valid domain: didOpen publishes no diagnostics', async () => {
      const d = await ls.open(uri, 'xml', DOMAIN);
      assert.deepEqual(d, []);
    });

    it('malformed XML: a well-formedness error at the right line', async () => {
      const bad = DOMAIN.replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>1</vcpux>");
      const d = await ls.change(uri, bad);
      assert.equal(d.length, 1, JSON.stringify(d));
      assert.equal(d[0].source, 'xml');
      assert.equal(d[0].range.start.line, positionOf(bad, '</vcpux>').line);
      assert.match(d[0].message, /tag mismatch: vcpu/);
    });

    it('an enumerated value the schema does not allow: xmllint says so, the model says which', async () => {
      const bad = DOMAIN.replace('<on_crash>destroy</on_crash>', '<on_crash>explode</on_crash>');
      const d = await ls.change(uri, bad);
      const line = positionOf(bad, 'explode').line;
      assert.ok(
        d.some((x) => x.source === 'libvirt schema (xmllint)' && x.range.start.line === line),
        JSON.stringify(d),
      );
      const precise = d.find((x) => x.source === 'libvirt schema' && /"explode" is not allowed in <on_crash>/.test(x.message));
      assert.ok(precise, JSON.stringify(d));
      assert.deepEqual(precise.range.start, positionOf(bad, 'explode'));
      assert.match(precise.message, /destroy, restart, preserve/);
    });

    it('an unknown element and an unknown attribute are pointed at', async () => {
      const bad = DOMAIN.replace('<apic/>', '<apic/>\n    <bogus/>').replace("<memory unit='KiB'>", "<memory unit='KiB' colour='red'>");
      const d = await ls.change(uri, bad);
      const el = d.find((x) => /<bogus> is not allowed in <features>/.test(x.message));
      assert.ok(el, JSON.stringify(d));
      assert.deepEqual(el.range.start, positionOf(bad, 'bogus'));
      assert.match(el.message, /acpi/);
      const at = d.find((x) => /colour/.test(x.message));
      assert.ok(at, JSON.stringify(d));
      assert.equal(at.range.start.line, positionOf(bad, 'colour').line);
    });

    it('a missing required element is reported (xmllint)', async () => {
      const bad = DOMAIN.replace('  <name>fixture</name>\n', '');
      const d = await ls.change(uri, bad);
      assert.ok(
        d.some((x) => /Expecting an element name/.test(x.message)),
        JSON.stringify(d),
      );
    });

    it('completion: child elements of <devices>, with required attributes as a snippet', async () => {
      const text = DOMAIN.replace('    <memballoon', '    <\n    <memballoon');
      await ls.change(uri, text);
      const pos = positionOf(text, '    <\n', 5);
      const items = await ls.completion(uri, pos.line, pos.character);
      const names = items.map((i) => i.label);
      for (const n of ['disk', 'interface', 'controller', 'graphics', 'video', 'hostdev', 'tpm'])
        assert.ok(names.includes(n), `missing ${n} in ${names.join(' ')}`);
      assert.ok(!names.includes('name'), 'domain-level <name> is not a child of <devices>');
      const emu = items.find((i) => i.label === 'emulator')!;
      assert.match((emu.textEdit as { newText: string }).newText, /^emulator>\$0<\/emulator>$/);
    });

    it('completion: attributes of <disk>, then its type values', async () => {
      const text = DOMAIN.replace("<disk type='file' device='disk'>", '<disk >');
      await ls.change(uri, text);
      const pos = positionOf(text, '<disk >', 6);
      const attrs = (await ls.completion(uri, pos.line, pos.character)).map((i) => i.label);
      for (const a of ['type', 'device', 'snapshot']) assert.ok(attrs.includes(a), `missing ${a} in ${attrs.join(' ')}`);
      const t2 = DOMAIN.replace("<disk type='file' device='disk'>", "<disk type='' device='disk'>");
      await ls.change(uri, t2);
      const p2 = positionOf(t2, "<disk type='", 12);
      const values = (await ls.completion(uri, p2.line, p2.character)).map((i) => i.label);
      assert.deepEqual(values.slice(0, 4), ['file', 'block', 'dir', 'network']);
    });

    it('completion narrows by the attributes already chosen: <source> of a network disk', async () => {
      const text = DOMAIN.replace("<disk type='file' device='disk'>", "<disk type='network' device='disk'>").replace(
        "<source file='/var/lib/libvirt/images/fixture.qcow2'/>",
        '<source />',
      );
      await ls.change(uri, text);
      const pos = positionOf(text, '<source />', 8);
      const attrs = (await ls.completion(uri, pos.line, pos.character)).map((i) => i.label);
      assert.ok(attrs.includes('protocol') && attrs.includes('name'), attrs.join(' '));
      assert.ok(!attrs.includes('file'), `a network disk's source has no file: ${attrs.join(' ')}`);
    });

    it('completion: text values of <on_crash> and the closing tag', async () => {
      const text = DOMAIN.replace('<on_crash>destroy</on_crash>', '<on_crash></on_crash>');
      await ls.change(uri, text);
      const pos = positionOf(text, '<on_crash>', 10);
      const values = (await ls.completion(uri, pos.line, pos.character)).map((i) => i.label);
      assert.ok(values.includes('coredump-restart') && values.includes('preserve'), values.join(' '));
      const t2 = DOMAIN.replace('  </features>', '  </');
      await ls.change(uri, t2);
      const p2 = positionOf(t2, '<apic/>\n  </', 12);
      const close = await ls.completion(uri, p2.line, p2.character);
      assert.equal((close[0].textEdit as { newText: string }).newText, 'features>');
    });

    it('hover: an element shows its attributes, children and where libvirt defines it', async () => {
      await ls.change(uri, DOMAIN);
      const pos = positionOf(DOMAIN, '<memory', 2);
      const h = await ls.hover(uri, pos.line, pos.character);
      const v = (h?.contents as { value: string }).value;
      assert.match(v, /\*\*<memory>\*\*/);
      assert.match(v, /`unit`/);
      assert.match(v, /`dumpCore`.*`on`, `off`/);
      assert.match(v, /domaincommon\.rng:\d+/);
      const p2 = positionOf(DOMAIN, "<disk type='file'", 7);
      const h2 = await ls.hover(uri, p2.line, p2.character);
      assert.match((h2?.contents as { value: string }).value, /\*\*type\*\*.*`file`, `block`/s);
    });

    describe('documents that point at other files', () => {
      const MARKER = `SECRET-MARKER-${process.pid}`;
      let dir: string;
      let secret: string;
      before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-test-secret-'));
        secret = path.join(dir, 'secret.txt');
        fs.writeFileSync(secret, `${MARKER}\nsecond line\n`);
      });
      after(() => fs.rmSync(dir, { recursive: true, force: true }));

      const refused = (d: Array<{ message: string; range: { start: { line: number; character: number } } }>, text: string) => {
        assert.ok(!JSON.stringify(d).includes(MARKER), `the file's content leaked: ${JSON.stringify(d)}`);
        assert.equal(d.length, 1, JSON.stringify(d));
        assert.match(d[0].message, /libvirt definitions take no DOCTYPE or entity declarations; this one is not read/);
        assert.deepEqual(d[0].range.start, positionOf(text, '<!DOCTYPE'));
      };

      it('a DOCTYPE naming an external DTD: one diagnostic, the file never shown', async () => {
        const text = `<!DOCTYPE domain SYSTEM "file://${secret}">\n${DOMAIN}`;
        refused(await ls.change(uri, text), text);
      });

      it('a parameter entity pulling in a file: one diagnostic, the file never shown', async () => {
        const text = `<?xml version="1.0"?>\n<!DOCTYPE domain [\n  <!ENTITY % p SYSTEM "file://${secret}">\n  %p;\n]>\n${DOMAIN}`;
        refused(await ls.change(uri, text), text);
      });

      it('an entity-expansion bomb (billion laughs): one diagnostic', async () => {
        const ents = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)];
        const text = `<?xml version="1.0"?>\n<!DOCTYPE domain [\n${ents.join('\n')}\n]>\n${DOMAIN.replace('fixture</name>', '&lol9;</name>')}`;
        refused(await ls.change(uri, text), text);
      });

      it('a DOCTYPE hidden in another encoding (UTF-7) is not read either', async () => {
        const text = `<?xml version="1.0" encoding="UTF-7"?>\n+ADw-!DOCTYPE domain SYSTEM +ACI-file://${secret}+ACI-+AD4-\n${DOMAIN}`;
        const d = await ls.change(uri, text);
        assert.ok(!JSON.stringify(d).includes(MARKER), `the file's content leaked: ${JSON.stringify(d)}`);
        assert.ok(d.length >= 1, JSON.stringify(d));
      });
    });

    describe('large documents', () => {
      const bigUri = 'virtscope-guest:/test/big.xml';
      it('a ~20 MB domain gets "not validated" quickly; completion and hover stay cheap', async () => {
        const filler = `    <!-- ${'x'.repeat(100)} -->\n`;
        const big = DOMAIN.replace('  <devices>\n', `  <devices>\n${filler.repeat(Math.ceil((20 * 1024 * 1024) / filler.length))}`);
        const t0 = Date.now();
        const d = await ls.open(bigUri, 'xml', big);
        assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
        assert.equal(d.length, 1, JSON.stringify(d));
        assert.match(d[0].message, /not validated: the document is 20\.\d MB, over the 2 MB limit for validation/);
        assert.deepEqual(d[0].range.start, { line: 0, character: 0 });
        const pos = positionOf(big, '<memory', 2);
        assert.deepEqual(await ls.completion(bigUri, pos.line, pos.character), []);
        const h = await ls.hover(bigUri, pos.line, pos.character);
        assert.match((h?.contents as { value: string } | undefined)?.value ?? '', /over the 2 MB limit/);
        await ls.close(bigUri);
      });

      it('a small invalid document still gets its normal diagnostic', async () => {
        const bad = DOMAIN.replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>1</vcpux>");
        const d = await ls.change(uri, bad);
        assert.equal(d.length, 1, JSON.stringify(d));
        assert.match(d[0].message, /tag mismatch: vcpu/);
      });
    });

    it('didClose clears the diagnostics', async () => {
      const next = ls.nextDiagnostics(uri);
      await ls.close(uri);
      assert.deepEqual((await next).diagnostics, []);
    });
  });

  describe('LXC config', () => {
    const uri = 'virtscope-guest:/lxc-tools/fixture.conf';
    it('a valid config: no diagnostics', async () => {
      assert.deepEqual(await ls.open(uri, 'lxc-config', CONFIG), []);
    });

    it('unknown, renamed and mistyped keys and values outside a key’s list are flagged', async () => {
      const bad = `${CONFIG}lxc.net.0.typo = veth\nlxc.utsname = old\nlxc.ephemeral = 2\nlxc.net.0.type = wormhole\nnot a key value line\n`;
      const d = await ls.change(uri, bad);
      const by = (re: RegExp) => d.find((x) => re.test(x.message));
      const typo = by(/Unknown key lxc\.net\.0\.typo.*Did you mean lxc\.net\.0\.type/);
      assert.ok(typo, JSON.stringify(d));
      assert.equal(typo.range.start.line, positionOf(bad, 'lxc.net.0.typo').line);
      assert.ok(by(/lxc\.utsname is a pre-3\.0 key.*lxc\.uts\.name/), JSON.stringify(d));
      assert.ok(by(/2 is not one of the values .* lxc\.ephemeral: 0, 1/), JSON.stringify(d));
      assert.ok(by(/wormhole is not one of .*veth/), JSON.stringify(d));
      assert.ok(by(/not a "key = value" line/), JSON.stringify(d));
      const actions = await ls.rpc.sendRequest<Array<{ title: string; edit: unknown }>>('textDocument/codeAction', {
        textDocument: { uri },
        range: typo.range,
        context: { diagnostics: [typo] },
      });
      assert.equal(actions[0].title, 'Change to lxc.net.0.type');
    });

    it('completion of keys (documentation from the man page) and of a key’s values', async () => {
      const text = `${CONFIG}lxc.net.1.ty\n`;
      await ls.change(uri, text);
      const pos = positionOf(text, 'lxc.net.1.ty', 12);
      const items = await ls.completion(uri, pos.line, pos.character);
      const type = items.find((i) => i.label === 'lxc.net.[i].type');
      assert.ok(type, items.map((i) => i.label).join(' '));
      assert.match((type.documentation as { value: string }).value, /veth/);
      const t2 = `${CONFIG}lxc.net.1.type = \n`;
      await ls.change(uri, t2);
      const p2 = positionOf(t2, 'lxc.net.1.type = ', 17);
      const values = (await ls.completion(uri, p2.line, p2.character)).map((i) => i.label);
      assert.deepEqual(values, ['none', 'empty', 'veth', 'vlan', 'macvlan', 'ipvlan', 'phys']);
    });

    it('hover on a key shows its section, values and source', async () => {
      await ls.change(uri, CONFIG);
      const pos = positionOf(CONFIG, 'lxc.net.0.type', 3);
      const h = await ls.hover(uri, pos.line, pos.character);
      const v = (h?.contents as { value: string }).value;
      assert.match(v, /\*\*lxc\.net\.\[i\]\.type\*\* — Network/);
      assert.match(v, /lxc\.container\.conf\(5\)/);
    });
  });
});

describe("a remote host's own schemas (virtscope/documentSchemas)", () => {
  // two schema sets that differ: this machine's, and a "host" whose libvirt knows one more power-off action
  let ls: LspClient;
  let dir: string;
  const odd = DOMAIN.replace('<on_poweroff>destroy</on_poweroff>', '<on_poweroff>vanish</on_poweroff>');
  before(async () => {
    prerequisites();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-host-schemas-'));
    fs.cpSync(SCHEMAS, dir, { recursive: true });
    const common = path.join(dir, 'domaincommon.rng');
    const text = fs.readFileSync(common, 'utf8');
    const more = text.replace(/(<define name="offOptions">\s*<choice>)/, '$1\n      <value>vanish</value>');
    assert.notEqual(more, text, 'offOptions found in domaincommon.rng');
    fs.writeFileSync(common, more);
    ls = await LspClient.start();
    await ls.initialize({ schemaDir: SCHEMAS, debounceMs: 0 });
  });
  after(async () => {
    await ls?.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const poweroffError = (d: { message: string }[]) => d.some((x) => /on_poweroff|vanish/.test(x.message));

  it("a document is validated against its host's schemas once told, the others against the default", async () => {
    const remote = 'virtscope-guest:/sshhost%3Aqemu/odd.xml?guest=odd';
    const local = 'virtscope-guest:/qemu-system/odd.xml?guest=odd';
    assert.ok(poweroffError(await ls.open(remote, 'xml', odd)), "this machine's libvirt has no power-off action vanish");
    const next = ls.nextDiagnostics(remote, 1);
    await ls.rpc.sendNotification(DOCUMENT_SCHEMAS, { uri: remote, schemaDir: dir, host: 'sshhost-lab' });
    assert.deepEqual((await next).diagnostics, [], "valid for the host's own libvirt");
    assert.deepEqual(await ls.change(remote, odd.replace('<vcpu', '<vcpu\n')), [], 'and stays so while edited');
    assert.ok(poweroffError(await ls.open(local, 'xml', odd)), "another document: this machine's schemas");
    const back = ls.nextDiagnostics(remote, 2);
    await ls.rpc.sendNotification(DOCUMENT_SCHEMAS, { uri: remote });
    assert.ok(poweroffError((await back).diagnostics), 'without a schema directory: the default again');
  });
});

describe('server bundle', () => {
  it('is plain JS: no vscode, no native addon', async () => {
    const js = fs.readFileSync(await serverBundle(), 'utf8');
    assert.doesNotMatch(js, /require\("vscode"\)/);
    assert.doesNotMatch(js, /require\("[^"]+\.node"\)/);
  });
});

after(async () => {
  // the bundle's temp dir goes with the run (nothing left in /tmp)
  const dir = path.dirname(await serverBundle());
  await disposeServerBundle();
  assert.equal(fs.existsSync(dir), false, `${dir} is left behind`);
});

describe('xmllint', () => {
  it('one that takes too long is given up, and says so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-test-xmllint-'));
    try {
      const slow = path.join(dir, 'xmllint');
      fs.writeFileSync(slow, '#!/bin/sh\nexec sleep 5\n', { mode: 0o755 });
      const p = await validateXml(DOMAIN, undefined, { xmllint: slow, timeoutMs: 300 });
      assert.deepEqual(
        p.map((x) => [x.line, x.character, x.severity, x.message]),
        [[0, 0, 'info', 'not validated: xmllint took over 0.3 s: validation given up']],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LXC key table', () => {
  it(
    'keys.json is what lxc.container.conf(5) on this machine gives',
    { skip: !fs.existsSync('/usr/share/man/man5/lxc.container.conf.5.gz') && 'lxc is not installed' },
    () => {
      execFileSync(process.execPath, [path.join(__dirname, '../../scripts/gen-lxc-keys.mjs'), '--check'], { stdio: 'pipe' });
    },
  );
});
