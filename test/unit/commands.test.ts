// Command ids: one constant each (commandIds.ts), every package.json command registered by the one
// table in registry.ts and nothing registered elsewhere; destructive verbs in their own menu group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CMD, INTERNAL_COMMANDS } from '../../src/extension/commandIds';

const root = path.join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributed: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);
const ids = Object.values(CMD) as string[];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every command in package.json has an id constant, and every constant is contributed (or internal)', () => {
  assert.deepEqual([...contributed].sort(), ids.filter((id) => !INTERNAL_COMMANDS.includes(id as never)).sort());
  assert.equal(new Set(ids).size, ids.length, 'no id twice');
});

test('registry.ts: the table has one entry per id (by source: the table imports vscode)', () => {
  const src = readFileSync(path.join(root, 'src/extension/registry.ts'), 'utf8');
  const table = src.slice(src.indexOf('export const COMMANDS'), src.indexOf('\n};', src.indexOf('export const COMMANDS')));
  const keys = [...table.matchAll(/^\s*\[CMD\.(\w+)\]:/gm)].map((m) => m[1]);
  assert.deepEqual([...keys].sort(), Object.keys(CMD).sort());
  assert.match(src, /COMMANDS: Record<CommandId, CommandFactory>/, 'typed over CommandId, so the compiler checks it too');
});

test('commands are registered in one place: registry.ts', () => {
  const where = tsFiles(path.join(root, 'src')).filter((f) => /\bregisterCommand\(/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    where.map((f) => path.relative(root, f)),
    ['src/extension/registry.ts'],
  );
});

test('menus name only contributed commands; Force Off and Delete have their own group, apart from Start', () => {
  const items: Array<{ command: string; group?: string }> = Object.values(pkg.contributes.menus).flat() as never;
  for (const m of items) assert.ok(contributed.includes(m.command), m.command);
  const ctx: Array<{ command: string; group?: string }> = pkg.contributes.menus['view/item/context'];
  const groupOf = (id: string) => ctx.filter((m) => m.command === id && m.group !== 'inline').map((m) => m.group!.split('@')[0]);
  const destructive = new Set([...groupOf(CMD.forceOff), ...groupOf(CMD.delete)]);
  assert.equal(destructive.size, 1, 'one group for both');
  const [g] = destructive;
  for (const id of [CMD.start, CMD.shutdown, CMD.reboot, CMD.suspend, CMD.resume]) assert.ok(!groupOf(id).includes(g), `${id} shares ${g}`);
  assert.ok(!ctx.some((m) => m.group === g && m.command !== CMD.forceOff && m.command !== CMD.delete), `only destructive verbs in ${g}`);
});
