// libvirt over SSH as libvirt's remote driver does it: which program carries the RPC stream for each
// proxy/mode/socket, the order they are tried in, and that hostile URI values reach no shell unquoted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import type { HostChild } from '../../src/core/host/host';
import { localHost } from '../../src/core/host/local';
import { remoteCommand } from '../../src/core/host/quote';
import { SshUnreachableError } from '../../src/core/host/ssh';
import { processStream } from '../../src/core/host/stream';
import { hostUnreachable } from '../../src/core/backends/reach';
import { parseDestination, parseQemuSshUri } from '../../src/core/host/sshConfig';
import { remoteName, socketUri, sshHostOptionsFor, sshRoutes, SSH_HELPER } from '../../src/core/libvirt/sshTransport';
import { hostIdFor } from '../../src/core/config';
import { destinationProblem, newHostEntry } from '../../src/extension/hostQuestions';
import { FakeHost, fakeLibvirtd, ok } from '../fixtures/remote/fakeHost';

const LEGACY = '/var/run/libvirt/libvirt-sock';
const routes = (uri: string, socket = LEGACY, present = [SSH_HELPER, 'nc']) => sshRoutes(parseQemuSshUri(uri), socket, new Set(present));

test('sshRoutes: proxy=auto tries virt-ssh-helper, then nc, and the streamlocal forward only where neither exists', () => {
  assert.deepEqual(routes('qemu+ssh://root@kvm1/system'), [
    { via: 'helper', argv: [SSH_HELPER, 'qemu:///system'] },
    { via: 'netcat', argv: ['nc', '-U', LEGACY] },
  ]);
  assert.deepEqual(routes('qemu+ssh://kvm1/system', LEGACY, ['nc']), [{ via: 'netcat', argv: ['nc', '-U', LEGACY] }]);
  assert.deepEqual(routes('qemu+ssh://kvm1/system', LEGACY, []), [{ via: 'forward', socket: LEGACY }]);
  // native and netcat: that one program, whatever the host has
  assert.deepEqual(routes('qemu+ssh://kvm1/system?proxy=native', LEGACY, []), [{ via: 'helper', argv: [SSH_HELPER, 'qemu:///system'] }]);
  assert.deepEqual(routes('lxc+ssh://kvm1/system?proxy=netcat', '/s', [SSH_HELPER]), [{ via: 'netcat', argv: ['nc', '-U', '/s'] }]);
  // netcat= names the program
  assert.deepEqual(routes('qemu+ssh://kvm1/system?netcat=/opt/bin/nc', '/s', ['/opt/bin/nc']), [{ via: 'netcat', argv: ['/opt/bin/nc', '-U', '/s'] }]);
  // the helper gets the URI without the client's own parameters; others are the daemon's
  assert.equal(remoteName(parseQemuSshUri('qemu+ssh://kvm1/system?keyfile=/k&mode=direct&proxy=native&no_verify=1')), 'qemu:///system');
  assert.equal(remoteName(parseQemuSshUri('test+ssh://kvm1/default')), 'test:///default');
});

test('socketUri: socket= and mode= pick the socket on the host as libvirt does', () => {
  assert.equal(socketUri(parseQemuSshUri('qemu+ssh://kvm1/system')), 'qemu:///system');
  assert.equal(socketUri(parseQemuSshUri('qemu+ssh://kvm1/system?mode=direct&proxy=netcat')), 'qemu:///system?mode=direct');
  assert.equal(socketUri(parseQemuSshUri('qemu+ssh://kvm1/system?socket=/run/x%20y.sock')), 'qemu:///system?socket=%2Frun%2Fx%20y.sock');
});

test('sshHostOptionsFor: keyfile= is an identity, no_verify=1 turns off the host key check for that host only', () => {
  const o = sshHostOptionsFor(parseQemuSshUri('qemu+ssh://admin@kvm1:2222/system?keyfile=/home/a/.ssh/id&no_verify=1'), { configFile: '/c' });
  assert.deepEqual(o, {
    configFile: '/c',
    destination: 'admin@kvm1',
    port: 2222,
    label: 'admin@kvm1:2222',
    extraArgs: ['-i', '/home/a/.ssh/id'],
    noVerifyHostKey: true,
  });
  assert.equal(sshHostOptionsFor(parseQemuSshUri('qemu+ssh://kvm1/system')).noVerifyHostKey, undefined);
});

test('hostile values in the URI reach the remote shell as one argument each (quote.ts)', () => {
  const hostile = '/run/a b;touch /tmp/pwned-$(id -u)`x`\'"\n&|*';
  const r = routes(
    `qemu+ssh://kvm1/system?proxy=netcat&socket=${encodeURIComponent(hostile)}`,
    parseQemuSshUri(`qemu+ssh://kvm1/system?socket=${encodeURIComponent(hostile)}`).params.socket,
  );
  assert.equal(r[0].via, 'netcat');
  const argv = r[0].via === 'netcat' ? r[0].argv : [];
  assert.deepEqual(argv, ['nc', '-U', hostile]);
  // what sshd hands the login shell: printf shows each argument exactly as given
  const out = execFileSync('sh', ['-c', remoteCommand(['printf', '[%s]', ...argv.slice(1)])], { encoding: 'utf8' });
  assert.equal(out, `[-U][${hostile}]`);
});

test('parse errors say what is wrong', () => {
  assert.throws(() => parseQemuSshUri('qemu+ssh://kvm1/system?proxy=ssh'), /proxy must be auto, netcat or native/);
  assert.throws(() => parseQemuSshUri('qemu+ssh://kvm1/system?mode=both'), /mode must be auto, legacy or direct/);
  assert.throws(() => parseQemuSshUri('qemu+ssh://kvm1/system?no_verify=yes'), /no_verify must be 0 or 1/);
  assert.throws(() => new LibvirtBackend({ id: 'x', type: 'libvirt', label: 'x', uri: 'qemu+ssh:///system' }), /names no host/);
});

test('Add Host…: a pasted qemu+ssh URI is its host', () => {
  assert.deepEqual(parseDestination('qemu+ssh://root@kvm1/system'), { destination: 'root@kvm1' });
  assert.deepEqual(parseDestination('qemu+ssh://root@kvm1:2222/system?keyfile=/k'), { destination: 'root@kvm1', port: 2222 });
  assert.deepEqual(newHostEntry(' qemu+ssh://root@kvm1/system ', []), { id: hostIdFor('root@kvm1', undefined), label: 'root@kvm1', destination: 'root@kvm1' });
  assert.equal(destinationProblem('qemu+ssh://kvm1/system?proxy=ssh')?.startsWith('"qemu+ssh://kvm1/system?proxy=ssh": proxy must be'), true);
});

/** A host whose programs are real local processes: the "helper" and "nc" relay to the fake daemon's local socket. */
class ProgramHost extends FakeHost {
  readonly spawned: string[][] = [];
  constructor(
    readonly present: string[],
    private readonly relayTo: () => string,
    private readonly missing = false,
  ) {
    super('kvm1');
    this.programs.set('sh', () => ok(this.present.map((p) => `${p}\n`).join('')));
  }
  spawn(argv: readonly string[] = []): HostChild {
    this.spawned.push([...argv]);
    if (this.missing) return localHost.spawn(['sh', '-c', `echo "sh: 1: ${argv[0]}: not found" >&2; exit 127`]);
    const relay = "const s=require('net').connect(process.argv[1]);process.stdin.pipe(s);s.pipe(process.stdout);s.on('close',()=>process.exit(0))";
    return localHost.spawn([process.execPath, '-e', relay, this.relayTo()]);
  }
}

async function listOver(uri: string, present: string[], missing = false) {
  let local = '';
  const host = new ProgramHost(present, () => local, missing);
  local = host.bindSocket(LEGACY);
  const d = await fakeLibvirtd(local, ['qemu'], ['remotevm']);
  const b = new LibvirtBackend({ id: 'c', type: 'libvirt', label: 'c', uri }, { host, keepaliveIntervalMs: 0 });
  try {
    const guests = await b.list().then(
      (g) => g.map((x) => x.name),
      (e: Error) => e,
    );
    return { guests, spawned: host.spawned, ran: host.ran };
  } finally {
    await b.close().catch(() => undefined);
    await d.close();
    host.close();
  }
}

test('a qemu+ssh URI lists over virt-ssh-helper, over nc, and over the forward where the host has neither', async () => {
  const helper = await listOver('qemu+ssh://kvm1/system', [SSH_HELPER, 'nc']);
  assert.deepEqual(helper.guests, ['remotevm']);
  assert.deepEqual(helper.spawned, [[SSH_HELPER, 'qemu:///system']]);
  assert.deepEqual(helper.ran[0].slice(0, 2), ['sh', '-c']);
  assert.deepEqual(helper.ran[0].slice(3), ['sh', SSH_HELPER, 'nc']);
  const nc = await listOver('qemu+ssh://kvm1/system', ['nc']);
  assert.deepEqual(nc.guests, ['remotevm']);
  assert.deepEqual(nc.spawned, [['nc', '-U', LEGACY]]);
  const forward = await listOver('qemu+ssh://kvm1/system', []);
  assert.deepEqual(forward.guests, ['remotevm']);
  assert.deepEqual(forward.spawned, []);
});

test('proxy=native with no helper on the host: the error is the shell\'s own "not found"', async () => {
  const r = await listOver('qemu+ssh://kvm1/system?proxy=native', [], true);
  assert.ok(r.guests instanceof Error, `listed: ${JSON.stringify(r)}`);
  assert.match(r.guests.message, /virt-ssh-helper.*not found/);
  assert.deepEqual(r.ran, [], 'native asks the host for no other program');
});

test("processStream: an SSH outage under the helper stays SSH's, so the host is reported unreachable (not the daemon)", async () => {
  const outage = new SshUnreachableError(['virt-ssh-helper'], 'kvm1', 'Timeout, server kvm1 not responding.');
  const child: HostChild = {
    argv: ['virt-ssh-helper'],
    pid: undefined,
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    exited: Promise.resolve({ code: 255, signal: null, error: outage }),
    done: true,
    kill: async () => undefined,
    signal: () => undefined,
  };
  const host = new (class extends FakeHost {
    spawn(): HostChild {
      return child;
    }
  })('kvm1');
  try {
    const e = await new Promise<Error>((resolve) => processStream(host, ['virt-ssh-helper', 'qemu:///system']).on('error', resolve));
    assert.equal(e, outage);
    assert.equal(hostUnreachable(e)?.message, 'kvm1 is unreachable: Timeout, server kvm1 not responding.');
  } finally {
    host.close();
  }
});
