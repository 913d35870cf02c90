// What Add Host… offers and accepts: ~/.ssh/config host entries, user@host[:port], qemu+ssh:// URIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDestination, parseQemuSshUri, parseSshConfigHosts } from '../../src/core/host/sshConfig';

test('parseSshConfigHosts: concrete Host names in order, wildcards and negations left out', () => {
  const text = [
    '# my hosts',
    'Host *',
    '  ServerAliveInterval 30',
    'Host kvm1 kvm2',
    '  HostName 10.0.0.1',
    'host=Web-3',
    '  User root',
    'Host *.lab !bad lab?',
    'Host "quoted name" kvm1',
    'Match host foo',
    '  User x',
    '\tHost\tTabbed # trailing comment',
    'Hostname notahost',
    'HostKeyAlias nope',
    'Host',
    '',
  ].join('\n');
  assert.deepEqual(parseSshConfigHosts(text), ['kvm1', 'kvm2', 'Web-3', 'quoted name', 'Tabbed']);
});

test('parseSshConfigHosts: CRLF and an empty file', () => {
  assert.deepEqual(parseSshConfigHosts('Host a\r\n  User b\r\nHost c\r\n'), ['a', 'c']);
  assert.deepEqual(parseSshConfigHosts(''), []);
});

test('parseDestination: alias, user@host, :port, ssh:// and IPv6', () => {
  assert.deepEqual(parseDestination('kvm1'), { destination: 'kvm1' });
  assert.deepEqual(parseDestination(' root@10.0.0.5 '), { destination: 'root@10.0.0.5' });
  assert.deepEqual(parseDestination('root@kvm1:2222'), { destination: 'root@kvm1', port: 2222 });
  assert.deepEqual(parseDestination('ssh://admin@kvm1:2200'), { destination: 'admin@kvm1', port: 2200 });
  assert.deepEqual(parseDestination('root@[fe80::1]:22'), { destination: 'root@fe80::1', port: 22 });
  assert.deepEqual(parseDestination('[::1]'), { destination: '::1' });
});

test('parseDestination: what ssh would read as an option or cannot reach is refused with a reason', () => {
  assert.throws(() => parseDestination('-oProxyCommand=touch /tmp/x'), /cannot start with "-"/);
  assert.throws(() => parseDestination(''), /empty/);
  assert.throws(() => parseDestination('a b'), /space/);
  assert.throws(() => parseDestination('root@kvm1:99999'), /port/);
  assert.throws(() => parseDestination('root@'), /host/);
});

test('parseQemuSshUri: the forms virsh accepts, with the parameters that matter', () => {
  assert.deepEqual(parseQemuSshUri('qemu+ssh://root@kvm1/system'), {
    uri: 'qemu+ssh://root@kvm1/system',
    driver: 'qemu',
    user: 'root',
    host: 'kvm1',
    port: undefined,
    path: '/system',
    destination: 'root@kvm1',
    remoteUri: 'qemu:///system',
    params: {},
  });
  const u = parseQemuSshUri('qemu+ssh://admin@[fe80::1]:2222/session?socket=/run/x.sock&no_verify=1&keyfile=/k&mode=direct&proxy=native');
  assert.equal(u.host, 'fe80::1');
  assert.equal(u.port, 2222);
  assert.equal(u.destination, 'admin@fe80::1');
  assert.equal(u.remoteUri, 'qemu:///session');
  assert.deepEqual(u.params, { socket: '/run/x.sock', no_verify: '1', keyfile: '/k', mode: 'direct', proxy: 'native' });
  assert.equal(parseQemuSshUri('lxc+ssh://kvm1/system').remoteUri, 'lxc:///system');
  assert.equal(parseQemuSshUri('test+ssh://kvm1/default').remoteUri, 'test:///default');
});

test('parseQemuSshUri: not an ssh URI, or no host, says so', () => {
  assert.throws(() => parseQemuSshUri('qemu:///system'), /not a libvirt \+ssh URI/);
  assert.throws(() => parseQemuSshUri('qemu+ssh:///system'), /no host/);
  assert.throws(() => parseQemuSshUri('qemu+ssh://root@kvm1/system?mode=weird'), /mode/);
});
