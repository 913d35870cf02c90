// XmlService on invalid domain definitions: the diagnostic stands on the attribute or element that
// breaks libvirt's schema and says what is accepted; completion leaves out what is already there.
// Needs libvirt's schemas and xmllint (bash scripts/lab.sh deps).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, Diagnostic } from 'vscode-languageserver';
import { scan as svcScan } from '../../src/core/schema/xmlScan';
import { XmlService } from '../../src/language/xmlService';

const SCHEMAS = '/usr/share/libvirt/schemas';
const DOMAIN = fs.readFileSync(path.join(__dirname, '../fixtures/language/domain.xml'), 'utf8');
const svc = new XmlService({ schemaDir: SCHEMAS });

function doc(text: string): TextDocument {
  return TextDocument.create('virtscope-guest:/t.xml', 'xml', 1, text);
}

/** Line and character span of the first `needle` in `text`. */
function rangeOf(text: string, needle: string): { line: number; start: number; end: number } {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `${needle} not in text`);
  const before = text.slice(0, i);
  const line = before.split('\n').length - 1;
  const start = i - before.lastIndexOf('\n') - 1;
  return { line, start, end: start + needle.length };
}

function at(ds: Diagnostic[], text: string, needle: string): Diagnostic {
  const r = rangeOf(text, needle);
  const d = ds.find(
    (x) => x.range.start.line === r.line && x.range.start.character >= r.start && x.range.end.character <= r.end && x.source === 'libvirt schema',
  );
  assert.ok(d, `no model diagnostic on ${needle} (line ${r.line}): ${JSON.stringify(ds.map((x) => [x.range.start, x.message]))}`);
  return d;
}

describe('diagnostics that point at the culprit', () => {
  it("slot='0x20' on a PCI <address>: on the value, saying what a slot may be", async () => {
    const text = DOMAIN.replace(
      "<target dev='vda' bus='virtio'/>",
      "<target dev='vda' bus='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x20' function='0x0'/>",
    );
    const d = at(await svc.diagnostics(doc(text)), text, "'0x20'");
    assert.match(d.message, /0x20/);
    assert.match(d.message, /≤ 31/);
    assert.match(d.message, /\(0x\)\?\[0-1\]\?\[0-9a-fA-F\]/);
  });

  it("xmllint's vague complaint on <devices> names the culprit's line", async () => {
    const text = DOMAIN.replace("<driver name='qemu' type='qcow2'/>", "<driver name='qemu' type='qcow2' queues='-5'/>");
    const ds = await svc.diagnostics(doc(text));
    const vague = ds.find((x) => x.source === 'libvirt schema (xmllint)' && /Extra element devices/.test(x.message));
    assert.ok(vague, JSON.stringify(ds));
    assert.match(vague.message, new RegExp(`line ${rangeOf(text, "'-5'").line + 1}: "-5" is not allowed`));
  });

  it("queues='-5' on a disk <driver>: on the value, saying a positive integer", async () => {
    const text = DOMAIN.replace("<driver name='qemu' type='qcow2'/>", "<driver name='qemu' type='qcow2' queues='-5'/>");
    const d = at(await svc.diagnostics(doc(text)), text, "'-5'");
    assert.match(d.message, /positiveInteger/);
  });

  it('a valid PCI address and driver queues: no model diagnostic', () => {
    const text = DOMAIN.replace("<driver name='qemu' type='qcow2'/>", "<driver name='qemu' type='qcow2' queues='4'/>").replace(
      "<target dev='vda' bus='virtio'/>",
      "<target dev='vda' bus='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x7'/>",
    );
    const model = svc.model(svcScan(text))!;
    assert.deepEqual(svc.modelDiagnostics(doc(text), svcScan(text), model), []);
  });

  it('the unchanged fixture: no model diagnostic at all', () => {
    assert.deepEqual(svc.modelDiagnostics(doc(DOMAIN), svcScan(DOMAIN), svc.model(svcScan(DOMAIN))!), []);
  });

  it('a missing required child: <disk> without <target>, on the <disk> tag', async () => {
    const text = DOMAIN.replace("      <target dev='vda' bus='virtio'/>\n", '');
    const d = at(await svc.diagnostics(doc(text)), text, 'disk');
    assert.match(d.message, /<target>/);
  });

  it('a missing required attribute: <target> of a disk without dev, on the <target> tag', async () => {
    const text = DOMAIN.replace("<target dev='vda' bus='virtio'/>", "<target bus='virtio'/>");
    const d = at(await svc.diagnostics(doc(text)), text, 'target');
    assert.match(d.message, /\bdev\b/);
  });

  it('text outside its datatype: <vcpu>0</vcpu>, on the text, saying what a vcpu count may be', async () => {
    const text = DOMAIN.replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>0</vcpu>");
    const d = at(await svc.diagnostics(doc(text)), text, '>0<');
    assert.match(d.message, /unsignedShort/);
    assert.match(d.message, /≥ 1/);
  });

  it("an attribute combination no variant accepts: type='file' with device='lun', on the <disk> tag, with what each variant needs", async () => {
    const text = DOMAIN.replace("<disk type='file' device='disk'>", "<disk type='file' device='lun'>");
    const d = at(await svc.diagnostics(doc(text)), text, 'disk');
    assert.match(d.message, /device one of floppy, disk, cdrom/);
    assert.match(d.message, /type one of network, block, volume/);
  });

  it('another attribute outside the variant its type selects: controller= on a PCI <address>', async () => {
    const text = DOMAIN.replace("<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/>\n      <address type='pci' controller='0' slot='0x05'/>");
    const d = at(await svc.diagnostics(doc(text)), text, 'controller');
    assert.match(d.message, /Allowed: type, domain, bus, slot, function/);
  });
});

describe('completion that knows what is there', () => {
  /** Labels offered where `marker` (removed from the text) stands. */
  function labelsAt(text: string, marker = '@@'): CompletionItem[] {
    const i = text.indexOf(marker);
    const clean = text.slice(0, i) + text.slice(i + marker.length);
    const d = doc(clean);
    return svc.completion(d, d.positionAt(i));
  }

  it('a second <emulator> is not offered in <devices>; another <disk> is', () => {
    const text = DOMAIN.replace('  <devices>\n', '  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n    <@@\n');
    const names = labelsAt(text).map((x) => x.label);
    assert.ok(!names.includes('emulator'), names.join(' '));
    assert.ok(names.includes('disk') && names.includes('interface'), names.join(' '));
  });

  it('in a <disk> with driver, source, target and address: none of them again, the rest still', () => {
    const text = DOMAIN.replace(
      "<target dev='vda' bus='virtio'/>",
      "<target dev='vda' bus='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>\n      @@",
    );
    const names = labelsAt(text).map((x) => x.label);
    for (const n of ['driver', 'source', 'target', 'address']) assert.ok(!names.includes(n), `${n} offered again: ${names.join(' ')}`);
    for (const n of ['boot', 'readonly', 'serial', 'iotune']) assert.ok(names.includes(n), `missing ${n}: ${names.join(' ')}`);
  });

  it('the element being typed does not hide itself', () => {
    const text = DOMAIN.replace("<driver name='qemu' type='qcow2'/>", "<dri@@ name='qemu' type='qcow2'/>");
    assert.ok(labelsAt(text).some((x) => x.label === 'driver'));
  });

  it('elements libvirt writes itself (privateData, mirror) sort after everything else', () => {
    const text = DOMAIN.replace("<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/>\n      <@@");
    const items = labelsAt(text);
    const internal = items.filter((x) => x.label === 'privateData' || x.label === 'mirror');
    const others = items.filter((x) => x.label !== 'privateData' && x.label !== 'mirror');
    for (const x of internal) for (const o of others) assert.ok(x.sortText! > o.sortText!, `${x.label} (${x.sortText}) before ${o.label} (${o.sortText})`);
  });
});
