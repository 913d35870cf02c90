// Open Shell in the lab's containers of every kind: lxc-tools (lxc-attach under script on the host),
// libvirt-LXC (nsenter under script) and Podman (the engine's exec with a TTY): a command's output,
// a real TTY, the size set at start and a resize seen by `stty size`, and the exit code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { LxcBackend } from '../../src/core/backends/lxc';
import { DockerBackend } from '../../src/core/backends/docker';
import { requireCapability } from '../../src/core/capabilities';
import { ShellSession } from '../../src/core/console/shellSession';
import type { Backend } from '../../src/core/model';
import { waitFor } from './util';

const backends: Record<string, Backend> = {
  labct: new LxcBackend({ id: 'it-lxc', type: 'lxc' }),
  labvlxc: new LibvirtBackend({ id: 'it-vlxc', type: 'libvirt', uri: 'lxc:///system' }),
  labpod: new DockerBackend({ id: 'it-pod', type: 'docker', socketPath: '/run/podman/podman.sock' }),
};

before(async () => {
  await Promise.all(Object.values(backends).map((b) => b.connect()));
});

after(async () => {
  await Promise.all(Object.values(backends).map((b) => b.close()));
});

for (const name of Object.keys(backends)) {
  test(`${name}: a login shell with a TTY, its size followed, a command's output, the exit code`, async () => {
    const b = backends[name];
    const g = (await b.list()).find((x) => x.name === name);
    assert.ok(g, `${name} is in the lab`);
    const s = new ShellSession(name, requireCapability(b, g, 'shell'), ['virtscope-no-such-shell', 'bash', 'sh'], true);
    let out = '';
    s.on('data', (d) => {
      out += d.toString('utf8');
      // answer a cursor position query as a terminal does (busybox ash asks at every prompt)
      if (d.includes('\x1b[6n')) s.write('\x1b[1;1R');
    });
    const exit = new Promise<{ code?: number }>((resolve) => s.on('exit', resolve));
    await s.start(101, 31);
    const shown = () => JSON.stringify(out.slice(-400));
    try {
      // type once the shell shows its prompt, as a person does
      await waitFor(() => /[#$] (\x1b\[[0-9;]*[A-Za-z])*$/.test(out), 30_000, 'the prompt').catch((e: Error) => {
        throw new Error(`${e.message} in ${shown()}`);
      });
      s.write('echo vs-shell-$((6*7)); tty -s && echo vs-has-tty; stty size\r');
      await waitFor(() => out.includes('vs-shell-42') && out.includes('vs-has-tty') && /31 101/.test(out), 30_000, 'output, tty and size').catch((e: Error) => {
        throw new Error(`${e.message} in ${shown()}`);
      });
      assert.match(out, /virtscope-no-such-shell is not in this guest/);
      s.resize(120, 40);
      await new Promise((r) => setTimeout(r, 500));
      s.write('stty size\r');
      await waitFor(() => /40 120/.test(out), 30_000, 'the new size').catch((e: Error) => {
        throw new Error(`${e.message} in ${shown()}`);
      });
      s.write('exit 7\r');
      assert.equal((await exit).code, 7);
    } finally {
      await s.close();
    }
  });
}
