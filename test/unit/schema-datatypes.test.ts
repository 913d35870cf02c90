// acceptsValue: the datatype check behind the language server's "what is accepted" diagnostics.
// Whatever it cannot judge counts as accepted, so it never contradicts xmllint on a valid document.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptsValue } from '../../src/core/schema/datatypes';
import type { Pattern } from '../../src/core/schema/rng';

const id = (p: Pattern) => p;
const data = (type: string, params: Record<string, string> = {}): Pattern => ({ t: 'data', type, params });
const ok = (p: Pattern, v: string) => acceptsValue(p, v, id);

describe('acceptsValue', () => {
  it("libvirt's pciSlot: 0x00–0x1f or 0–31", () => {
    const slot: Pattern = {
      t: 'choice',
      items: [data('string', { pattern: '(0x)?[0-1]?[0-9a-fA-F]' }), data('int', { minInclusive: '0', maxInclusive: '31' })],
    };
    for (const v of ['0x00', '0x1f', '0x1F', '5', '31']) assert.ok(ok(slot, v), v);
    for (const v of ['0x20', '32', '-1', 'slot']) assert.ok(!ok(slot, v), v);
  });

  it('integer types: range, sign and facets', () => {
    assert.ok(!ok(data('positiveInteger', { pattern: '[0-9]+' }), '-5'));
    assert.ok(!ok(data('positiveInteger'), '0'));
    assert.ok(ok(data('positiveInteger'), '4'));
    assert.ok(!ok(data('unsignedShort'), '65536'));
    assert.ok(ok(data('unsignedLong'), '18446744073709551615'));
    assert.ok(!ok(data('unsignedInt', { maxInclusive: '10' }), '11'));
    assert.ok(ok(data('int'), ' 7 '), 'whitespace collapses for non-string types');
  });

  it('values: token compares collapsed, string exactly', () => {
    assert.ok(ok({ t: 'value', value: 'on', type: 'token' }, ' on '));
    assert.ok(!ok({ t: 'value', value: 'on', type: 'string' }, ' on '));
  });

  it('what it cannot judge is accepted: unknown types, XML name classes in patterns, text', () => {
    assert.ok(ok(data('dateTime'), 'whenever'));
    assert.ok(ok(data('string', { pattern: '\\i\\c*' }), '1abc'));
    assert.ok(ok(data('string', { pattern: '[' }), 'x'), 'a pattern JS cannot read');
    assert.ok(ok({ t: 'text' }, 'anything'));
  });
});
