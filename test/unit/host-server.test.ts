// Host-side servers: ready only when the kernel shows the LISTEN socket; failures carry the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { localHost } from '../../src/core/host/local';
import { HostServer, listensOn, startIperfServer } from '../../src/core/host/server';
import { Host } from '../../src/core/host/host';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
`;

test('listensOn: a LISTEN socket on the port, not an established one', () => {
  assert.equal(listensOn(TCP, 8080), true);
  assert.equal(listensOn(TCP, 8081), false, 'state 01 is ESTABLISHED');
  assert.equal(listensOn('', 8080), false);
});

/** A free loopback port (closed again before it is used). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('HostServer: ready once it listens; stop kills it', async () => {
  const port = await freePort();
  const server = new HostServer(localHost, [process.execPath, '-e', `require('net').createServer().listen(${port}, '127.0.0.1'); setTimeout(() => {}, 30000)`]);
  await server.start(port);
  const c = net.createConnection({ port, host: '127.0.0.1' });
  await new Promise<void>((r, j) => c.once('connect', r).once('error', j));
  c.destroy();
  assert.equal(await server.stop(), true);
  assert.equal(await server.stop(), false, 'already stopped');
});

test('HostServer on a host that gives no pid (a remote one: SSH runs the process): ready once its namespace shows the LISTEN socket', async () => {
  const port = await freePort();
  // this machine, with the pid hidden as SshHost's processes have none
  const noPid = (argv: readonly string[]) => {
    const c = localHost.spawn(argv);
    return new Proxy(c, { get: (t, k) => (k === 'pid' ? undefined : typeof (t as any)[k] === 'function' ? (t as any)[k].bind(t) : (t as any)[k]) });
  };
  const server = new HostServer({ label: 'pidless', run: localHost.run.bind(localHost), spawn: noPid } as unknown as Host, [
    process.execPath,
    '-e',
    `require('net').createServer().listen(${port}, '127.0.0.1'); setTimeout(() => {}, 30000)`,
  ]);
  await server.start(port);
  const c = net.createConnection({ port, host: '127.0.0.1' });
  await new Promise<void>((r, j) => c.once('connect', r).once('error', j));
  c.destroy();
  assert.equal(await server.stop(), true);
});

test('HostServer: a server that exits without listening fails with its own output, at once', async () => {
  const t0 = Date.now();
  const server = new HostServer(localHost, ['sh', '-c', 'echo "bind failed: Address already in use" >&2; exit 1']);
  await assert.rejects(server.start(9), /did not start listening on this machine: bind failed: Address already in use/);
  assert.ok(Date.now() - t0 < 5000);
});

test('startIperfServer: tries the next port while one is in use; a missing iperf3 is said plainly', async () => {
  const argvs: string[][] = [];
  const fake = (inUse: boolean, missing = false): Host =>
    ({
      ...localHost,
      label: 'fake host',
      readFile: localHost.readFile.bind(localHost),
      spawn: (argv: readonly string[]) => {
        argvs.push([...argv]);
        return localHost.spawn(
          missing
            ? ['virtscope-no-such-program']
            : ['sh', '-c', inUse ? 'echo "iperf3: error - unable to start listener for connections: Address already in use"; exit 1' : 'exit 1'],
        );
      },
    }) as unknown as Host;
  await assert.rejects(
    startIperfServer(fake(true), { bind: '127.0.0.1', netns: 'lab', firstPort: 5300, ports: 3 }),
    /no free port for iperf3 on 127\.0\.0\.1 \(netns lab\) on fake host in 5300–5302/,
  );
  assert.deepEqual(
    argvs.map((a) => a.at(-1)),
    ['5300', '5301', '5302'],
  );
  assert.deepEqual(argvs[0].slice(0, 4), ['nsenter', '--net=/run/netns/lab', '--', 'iperf3']);
  await assert.rejects(startIperfServer(fake(false, true), { bind: '127.0.0.1', firstPort: 5300 }), /iperf3 is not installed on fake host/);
});
