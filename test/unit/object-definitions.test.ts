// Storage pools' and networks' definitions as documents: the language server picks libvirt's
// storagepool.rng / network.rng by the root element (the templates pass, a wrong pool type does
// not, and says so at its line); saving refuses a host text that changed since it was read, a name
// that exists already, and carries libvirt's own message when libvirt rejects the XML.
// Needs libvirt's schemas and xmllint, as language-server.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LibvirtObjectDefinitions } from '../../src/core/backends/libvirtObjectDefinitions';
import { networkTemplate, poolTemplate } from '../../src/core/storage/templates';
import { DefinitionConflictError, DefinitionRejectedError, GuestExistsError } from '../../src/core/editing/errors';
import * as P from '../../src/core/libvirt/protocol';
import { scan } from '../../src/core/schema/xmlScan';
import { XmlService } from '../../src/language/xmlService';
import { fakeLibvirtd } from './fake-libvirtd';

const SCHEMAS = '/usr/share/libvirt/schemas';
const xml = new XmlService({ schemaDir: SCHEMAS });
const diagnostics = (text: string) => xml.diagnostics(TextDocument.create('virtscope-guest:/c/x.xml', 'libvirt-xml', 1, text));

test('schema choice: <pool> → storagepool.rng, <network> → network.rng, <volume> → storagevol.rng, <domain> → domain.rng', () => {
  const file = (text: string) => path.basename(xml.schemaFor(scan(text)).file ?? '');
  assert.equal(file(poolTemplate('p', '/tmp/p')), 'storagepool.rng');
  assert.equal(file(networkTemplate('n', '192.168.150')), 'network.rng');
  assert.equal(file('<?xml version="1.0"?>\n<!-- a volume -->\n<volume><name>v</name></volume>'), 'storagevol.rng');
  assert.equal(file("<domain type='kvm'/>"), 'domain.rng');
});

test('the pool and network templates are valid against libvirt schemas, hostile names included', async () => {
  assert.deepEqual(await diagnostics(poolTemplate(`p "<&>' ☃`, '/var/lib/libvirt/images/p & q')), []);
  assert.deepEqual(await diagnostics(networkTemplate(`n "<&>' ☃`, '192.168.150')), []);
});

test('an invalid pool: a diagnostic from storagepool.rng at the wrong type, naming what is allowed', async () => {
  const bad = poolTemplate('p', '/tmp/p').replace("type='dir'", "type='bogus'");
  const d = await diagnostics(bad);
  assert.ok(d.length > 0, 'rejected');
  const precise = d.find((x) => /"bogus" is not allowed for pool\/@type: one of .*\bdir\b/.test(x.message));
  assert.ok(precise, JSON.stringify(d));
  assert.equal(precise.range.start.line, 0);
});

function objectDaemon(kind: 'pool' | 'network', host: { xml: string }) {
  const OBJ = { name: 'obj', uuid: Buffer.alloc(16, 3) };
  const missing = kind === 'pool' ? P.ErrorCode.NO_STORAGE_POOL : P.ErrorCode.NO_NETWORK;
  const [lookup, getXml, define] =
    kind === 'pool'
      ? [P.Proc.STORAGE_POOL_LOOKUP_BY_NAME, P.Proc.STORAGE_POOL_GET_XML_DESC, P.Proc.STORAGE_POOL_DEFINE_XML]
      : [P.Proc.NETWORK_LOOKUP_BY_NAME, P.Proc.NETWORK_GET_XML_DESC, P.Proc.NETWORK_DEFINE_XML];
  const d = fakeLibvirtd({
    [lookup]: (r) => (r.string(P.REMOTE_STRING_MAX) === 'obj' ? (w) => P.encodeNamed(w, OBJ) : { error: missing, message: 'not found' }),
    [getXml]: () => (w) => w.string(host.xml, P.REMOTE_STRING_MAX),
    [define]: (r) => {
      const text = r.string(P.REMOTE_STRING_MAX);
      if (text.includes('bogus')) return { error: P.ErrorCode.INVALID_ARG, message: "XML error: unknown storage pool type 'bogus'" };
      host.xml = text;
      return (w) => P.encodeNamed(w, OBJ);
    },
  });
  return { ...d, defs: new LibvirtObjectDefinitions(async () => d.client, kind) };
}

for (const kind of ['pool', 'network'] as const) {
  test(`${kind} definition: save refused when the host changed meanwhile (nothing defined); force overwrites`, async () => {
    const host = { xml: `<${kind}><name>obj</name></${kind}>` };
    const d = objectDaemon(kind, host);
    const baseline = await d.defs.read('obj');
    host.xml = `<${kind}><name>obj</name><!-- changed by virsh --></${kind}>`;
    const mine = `<${kind}><name>obj</name><!-- mine --></${kind}>`;
    const err = await d.defs.save('obj', mine, baseline).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof DefinitionConflictError, String(err));
    assert.match(err.message, new RegExp(`The definition of the ${kind === 'pool' ? 'storage pool' : 'network'} "obj" changed on the host`));
    assert.equal(err.current, host.xml);
    assert.ok(!host.xml.includes('mine'), 'nothing written');
    const r = await d.defs.save('obj', mine, baseline, { force: true });
    assert.deepEqual([r.name, r.text], ['obj', mine]);
    d.client.destroy();
  });

  test(`${kind} definition: create refuses an existing name; libvirt's rejection carries its message`, async () => {
    const host = { xml: `<${kind}><name>obj</name></${kind}>` };
    const d = objectDaemon(kind, host);
    await assert.rejects(d.defs.create(`<${kind}><name>obj</name></${kind}>`, undefined), GuestExistsError);
    await assert.rejects(d.defs.create(`<${kind} type='bogus'><name>other</name></${kind}>`, undefined), (e: unknown) => {
      assert.ok(e instanceof DefinitionRejectedError);
      assert.match(e.message, /unknown storage pool type 'bogus'/);
      return true;
    });
    const r = await d.defs.create(`<${kind}><name>other</name></${kind}>`, undefined);
    assert.equal(r.name, 'obj', 'the name libvirt answered with');
    d.client.destroy();
  });
}
