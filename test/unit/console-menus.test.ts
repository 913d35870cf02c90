// The tree's menus offer Open Console / Open Shell / Show Guest Log exactly where the core says they
// apply (src/core/console/allowed.ts, which the palette's pick uses): every kind in every state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as allowed from '../../src/core/console/allowed';
import { CMD } from '../../src/extension/commandIds';
import { guestItemSpec } from '../../src/core/treeModel';
import type { Guest, GuestKind, GuestState } from '../../src/core/model';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '../..', 'package.json'), 'utf8'));
const menu: Array<{ command: string; when: string; group?: string }> = pkg.contributes.menus['view/item/context'];

/** Evaluates the `viewItem =~ /re/` parts of a when clause (joined by &&) against a context value. */
function shown(when: string, contextValue: string): boolean {
  return when.split('&&').every((part) => {
    const m = /viewItem\s*=~\s*\/(.*)\/\s*$/.exec(part.trim());
    return m ? new RegExp(m[1]).test(contextValue) : true;
  });
}

const KINDS: GuestKind[] = ['qemu', 'libvirt-lxc', 'lxc', 'container', 'lxd-container', 'lxd-vm'];
const STATES: GuestState[] = ['running', 'paused', 'pmsuspended', 'stopped', 'starting', 'stopping', 'crashed', 'unknown'];

const cases: Array<[string, (g: Guest) => boolean]> = [
  [CMD.openConsole, allowed.canOpenConsole],
  [CMD.openShell, allowed.canOpenShell],
  [CMD.showGuestLog, allowed.canShowLog],
  [CMD.openGraphicalConsole, allowed.canOpenGraphicalConsole],
];

for (const [id, predicate] of cases) {
  test(`${id}: in the context menu exactly where the core allows it`, () => {
    const items = menu.filter((m) => m.command === id);
    assert.ok(items.length, 'in the menu');
    for (const kind of KINDS) {
      for (const state of STATES) {
        const g: Guest = { id: 'x', name: 'x', kind, state, rawState: state };
        const ctx = guestItemSpec(g, 'host').contextValue;
        assert.equal(
          items.some((m) => shown(m.when, ctx)),
          predicate(g),
          `${kind} ${state}`,
        );
      }
    }
  });
}
