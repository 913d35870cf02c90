// `virtscope.hosts`: what a user writes (or Add Host… saves) read into host entries; bad entries are
// reported one by one and the rest still load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { hostIdFor, parseHosts } from '../../src/core/config';
import { hostsSetting } from '../../src/core/settings';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));

test('unset, empty or null: no remote hosts, no problem', () => {
  assert.deepEqual(parseHosts(undefined), { hosts: [], problems: [] });
  assert.deepEqual(parseHosts([]), { hosts: [], problems: [] });
  assert.deepEqual(
    hostsSetting(() => undefined),
    { hosts: [], problems: [] },
  );
  assert.deepEqual(pkg.contributes.configuration.properties['virtscope.hosts'].default, []);
});

test('entries: destination required, id derived when missing, label and port kept, blanks trimmed', () => {
  const { hosts, problems } = parseHosts([
    { destination: 'sshhost-lab' },
    { id: 'kvm1', label: 'KVM one', destination: ' root@kvm1.example.org ', port: 2222 },
    { destination: 'admin@[fe80::1]' },
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(hosts, [
    { id: 'sshhost-lab', destination: 'sshhost-lab' },
    { id: 'kvm1', label: 'KVM one', destination: 'root@kvm1.example.org', port: 2222 },
    { id: 'admin@-fe80-1-', destination: 'admin@[fe80::1]' },
  ]);
});

test('bad entries are reported by number and skipped; the others load', () => {
  const { hosts, problems } = parseHosts([
    'root@a',
    { label: 'no destination' },
    { destination: '-oProxyCommand=touch /tmp/x' },
    { destination: 'two words' },
    { destination: 'b', port: 70000 },
    { destination: 'c', port: '22' },
    { id: 'local', destination: 'd' },
    { id: 'has/slash', destination: 'e' },
    { destination: 'ok' },
    { id: 'ok', destination: 'ok2' },
  ]);
  assert.deepEqual(
    hosts.map((h) => h.id),
    ['ok'],
  );
  assert.equal(problems.length, 9);
  assert.match(problems[0], /^entry 1 is not an object/);
  assert.match(problems[1], /^entry 2: a host needs a destination/);
  assert.match(problems[2], /^entry 3: .*not a host/);
  assert.match(problems[3], /^entry 4: .*not a host/);
  assert.match(problems[4], /^entry 5: the port must be 1-65535/);
  assert.match(problems[5], /^entry 6: the port/);
  assert.match(problems[6], /^entry 7: "local" is this machine's id/);
  assert.match(problems[7], /^entry 8: id "has\/slash" may hold only/);
  assert.match(problems[8], /^entry 10: duplicate id "ok"/);
  assert.deepEqual(parseHosts({ destination: 'x' }).problems, ['virtscope.hosts must be an array']);
});

test('hostIdFor: a readable id from the destination', () => {
  assert.equal(hostIdFor('root@kvm1', 2222), 'root@kvm1-2222');
  assert.equal(hostIdFor('sshhost-lab'), 'sshhost-lab');
  assert.equal(hostIdFor('ü'), 'host');
});
