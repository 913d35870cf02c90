// The virtio-net TX trace on the lab's QEMU guest (TCG here): the guest's kprobe counts and QEMU's own
// trace events agree, and nothing is left switched on afterwards — also after a cancel.
// The iperf3 server runs in the lab's network namespace; this process stays in the host's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LibvirtBackend } from '../../src/core/backends/libvirt';
import { Guest } from '../../src/core/model';
import { GUEST_CLEANUP, GUEST_LOCK, HostKvmTracer, runTrace, TraceCancelled, TraceTarget } from '../../src/core/trace/engine';
import { promises as fs } from 'node:fs';
import { traceTargetFor } from '../../src/core/trace/target';
import { parseInfoTraceEvents, txKicks } from '../../src/core/trace/parse';
import { stepFigures } from '../../src/core/trace/report';
import { run } from '../../src/core/exec';
import path from 'node:path';

const NETNS = 'virtscope-lab';
const b = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
let guest: Guest;
let target: TraceTarget;

before(async () => {
  await b.connect();
  const g = (await b.list()).find((x) => x.name === 'labvm');
  assert.ok(g, 'lab guest labvm not found: is the lab up (bash scripts/lab.sh up)?');
  guest = g;
  target = traceTargetFor(b, guest);
});
after(() => b.close());

async function assertNothingLeft(): Promise<void> {
  const k = await target.exec.exec([
    '/bin/sh',
    '-c',
    'cat /sys/kernel/tracing/kprobe_events; ls /sys/kernel/tracing/events /sys/kernel/tracing/instances | grep -x virtscope || true',
  ]);
  assert.equal(k.stdout.trim(), '', `guest kprobe_events must be empty and no virtscope event group or tracefs instance left, got: ${k.stdout}`);
  const on = [...parseInfoTraceEvents(await target.hmp('info trace-events'))].filter(([, v]) => v).map(([k]) => k);
  assert.deepEqual(on, [], 'no QEMU trace event left on');
  const ps = await target.exec.exec([
    '/bin/sh',
    '-c',
    'for p in /proc/[0-9]*/cmdline; do tr "\\0" " " < $p 2>/dev/null; echo; done | grep -c "^iperf3 -c" || true',
  ]);
  assert.equal(ps.stdout.trim(), '0', 'no iperf3 client left in the guest');
  const lock = await target.exec.exec(['/bin/sh', '-c', 'ls /run/virtscope-trace.lock /tmp/virtscope-trace.lock 2>/dev/null || true']);
  assert.equal(lock.stdout.trim(), '', 'trace lock released');
}

test('trace labvm for 3 s at the default detail (kick-path): vp_notify per queue, packets and interrupts from counters; QEMU untouched; nothing left on', async () => {
  const r = await runTrace(target, { durationSec: 3, workload: { kind: 'iperf3' }, hostNetns: NETNS });
  assert.equal(r.workload.hostIp, '10.77.0.1', "host address from the guest's bridge vsbr0 in the lab netns");
  assert.ok(r.txPackets > 100, `guest sent packets (${r.txPackets})`);
  assert.ok(r.guestHits.vp_notify > 0, 'vp_notify counted');
  assert.ok((txKicks(r.guestKicksByQueue) ?? 0) > 0, `guest kicks by queue: ${JSON.stringify(r.guestKicksByQueue)}`);
  assert.match(r.sources.kvm.note ?? '', /TCG/);
  assert.ok(r.guestMissing.every((f) => f !== 'vp_notify'));
  // the kick path's one probe, packets and interrupts from counters, no QEMU trace event
  assert.equal(r.detail, 'kick-path');
  assert.deepEqual(Object.keys(r.guestHits), ['vp_notify']);
  const s1 = stepFigures(r)[0];
  assert.equal(s1.count, r.txPackets, 'step 1 (start_xmit) from the interface counter');
  assert.match(s1.source, /tx_packets counter/);
  assert.deepEqual(r.qemu.events, []);
  assert.match(r.sources.qemu.note ?? '', /detail kick-path/);
  assert.equal(r.guestInterrupts?.nicDevice, 'virtio0', 'eth0 is virtio0');
  assert.ok((r.guestInterrupts?.byName['virtio0-output.0'] ?? 0) > 0, `TX completion interrupts counted: ${JSON.stringify(r.guestInterrupts)}`);
  console.log(
    `  kick-path: TX-queue kicks ${txKicks(r.guestKicksByQueue)}, TX interrupts ${r.guestInterrupts?.byName['virtio0-output.0']}, packets ${r.txPackets}`,
  );
  await assertNothingLeft();
});

test('trace labvm at detail full: every probeable step counted, vp_notify = QEMU virtio_queue_notify ± 1 %, /proc/interrupts agrees with the interrupt probes', async () => {
  const ownRecords = async () => Number((await target.exec.exec(['/bin/sh', '-c', 'grep -c " vs_" /sys/kernel/tracing/trace || true'])).stdout.trim());
  const recordsBefore = await ownRecords();
  const r = await runTrace(target, { durationSec: 3, workload: { kind: 'iperf3' }, hostNetns: NETNS, detail: 'full' });
  // the probes count in a tracefs instance of their own with its buffer off: the guest's trace buffer gets nothing
  assert.equal(await ownRecords(), recordsBefore, "no kprobe record written to the guest's own trace buffer");
  assert.equal(r.detail, 'full');
  // the same queue on both sides: the guest's kicks on virtio-net's TX queue (vp_notify keyed by the
  // virtqueue's name) vs QEMU's virtio_queue_notify on the queue that took the most kicks
  const g = txKicks(r.guestKicksByQueue);
  assert.ok(g !== undefined && g > 0, `guest kicks by queue: ${JSON.stringify(r.guestKicksByQueue)}`);
  const q = r.qemu.txQueueNotifies;
  const diff = Math.abs(g - q) / q;
  console.log(
    `  guest vp_notify on output.0 ${g} (all queues ${r.guestHits.vp_notify}), QEMU virtio_queue_notify on ${r.qemu.txQueue} ${q} (all ${r.qemu.byEvent.virtio_queue_notify}): ${(diff * 100).toFixed(2)} %, start_xmit ${r.guestHits.start_xmit}, packets ${r.txPackets}`,
  );
  assert.ok(diff <= 0.01, `guest TX-queue vp_notify ${g} vs QEMU TX-queue virtio_queue_notify ${q}: ${(diff * 100).toFixed(2)} %`);
  // the interface counter that stands in for start_xmit at detail kick-path counts the same calls
  assert.ok(
    Math.abs(r.guestHits.start_xmit - r.txPackets) <= Math.max(5, r.txPackets * 0.01),
    `start_xmit ${r.guestHits.start_xmit} vs tx_packets ${r.txPackets}`,
  );
  const free = (r.guestHits.free_old_xmit_skbs ?? 0) + (r.guestHits.free_old_xmit ?? 0);
  assert.ok(free > 0, 'free_old_xmit(_skbs) counted');
  for (const f of [
    'start_xmit',
    'virtqueue_add_outbuf',
    'virtqueue_kick_prepare',
    'vp_notify',
    'virtqueue_enable_cb_delayed',
    'virtqueue_disable_cb',
    'skb_xmit_done',
    'vring_interrupt',
  ])
    assert.ok(r.guestHits[f] > 0, `${f} counted: ${JSON.stringify(r.guestHits)}`);
  assert.ok((r.qemu.byEvent.virtio_notify ?? 0) > 0, 'QEMU virtio_notify counted at full detail');
  // the TX queue's interrupts (/proc/interrupts, read just inside the probe window) vs the TX-completion
  // callback's kprobe: vring_interrupt calls skb_xmit_done only when the interrupt finds used buffers,
  // so the interrupts are as many or a few more (measured here: 7,705 vs 7,334, about 5 % without work)
  const irq = r.guestInterrupts?.byName['virtio0-output.0'] ?? 0;
  const cb = r.guestHits.skb_xmit_done;
  console.log(
    `  /proc/interrupts virtio0-output.0 ${irq}, skb_xmit_done ${cb}, vring_interrupt ${r.guestHits.vring_interrupt}, QEMU virtio_notify ${r.qemu.byEvent.virtio_notify}`,
  );
  assert.ok(irq > 0 && cb <= irq * 1.01 && irq <= cb * 1.2, `TX interrupts ${irq} vs skb_xmit_done ${cb}`);
  await assertNothingLeft();
});

test('a cancelled trace cleans up: kprobes removed, QEMU events off, iperf3 stopped', async () => {
  const ac = new AbortController();
  const p = runTrace(target, {
    durationSec: 30,
    workload: { kind: 'iperf3' },
    hostNetns: NETNS,
    detail: 'full', // every source on, so every cleanup is exercised
    signal: ac.signal,
    progress: (m) => {
      if (m.startsWith('tracing')) setTimeout(() => ac.abort(), 4000);
    },
  });
  await assert.rejects(p, TraceCancelled);
  await assertNothingLeft();
});

test("host kvm tracer on labvm's QEMU process: private tracefs instance, removed again, mounts restored", async () => {
  // under TCG no kvm event fires; this checks the mechanics the KVM path relies on
  const mountsBefore = (await fs.readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => / tracefs /.test(l)).length;
  const t = new HostKvmTracer();
  const st = await t.start('labvm');
  assert.equal(st.used, true, st.note);
  const inst = (await fs.readdir('/sys/kernel/tracing/instances')).filter((d) => d.startsWith(`virtscope-${process.pid}-`));
  assert.equal(inst.length, 1);
  const msg = await t.stop();
  assert.match(msg, /instance removed/);
  assert.equal(t.counts?.exits, 0, 'TCG: no VM exits');
  const mountsAfter = (await fs.readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => / tracefs /.test(l)).length;
  assert.equal(mountsAfter, mountsBefore);
  if (mountsAfter)
    assert.deepEqual(
      (await fs.readdir('/sys/kernel/tracing/instances')).filter((d) => d.startsWith(`virtscope-${process.pid}-`)),
      [],
    );
});

test("a second trace of the same guest is refused while one runs, and leaves the first one's state alone", async () => {
  const other = await target.exec.exec(['/bin/sh', '-c', GUEST_LOCK, 'sh', 'other-trace', '120']);
  assert.match(other.stdout, /^locked$/m);
  try {
    await assert.rejects(runTrace(target, { durationSec: 2, workload: { kind: 'external' } }), /another virtio-net trace is running in labvm \(other-trace/);
    const still = await target.exec.exec(['/bin/sh', '-c', 'cat /run/virtscope-trace.lock 2>/dev/null || cat /tmp/virtscope-trace.lock']);
    assert.match(still.stdout, /^other-trace /, "the other trace's lock is kept");
  } finally {
    await target.exec.exec(['/bin/sh', '-c', GUEST_CLEANUP, 'sh', '-', 'other-trace']);
  }
  await assertNothingLeft();
});

test("host kvm tracer on a real KVM guest (this host's /dev/kvm): its port I/O, MMIO and exits to QEMU counted, then all switched off", async (t) => {
  // labkvm boots only firmware (SeaBIOS, then iPXE): this machine's /dev/kvm is PVM, which runs it but
  // not a stock guest kernel. Created paused so the trace sees it from its first instruction.
  const virsh = (...args: string[]) => run('virsh', ['-q', '-c', 'qemu:///system', ...args], { timeoutMs: 60_000 });
  const caps = await virsh('capabilities');
  if (!/<domain type='kvm'/.test(caps.stdout)) return t.skip('libvirt offers no kvm domain type on this host (no /dev/kvm)');
  const instances = async () => (await fs.readdir('/sys/kernel/tracing/instances').catch(() => [])).filter((d) => d.startsWith(`virtscope-${process.pid}-`));
  await virsh('destroy', 'labkvm').catch(() => undefined); // a leftover of a killed run
  await virsh('create', '--paused', path.join(__dirname, '../../scripts/lab/labkvm.xml'));
  const tracer = new HostKvmTracer();
  try {
    const st = await tracer.start('labkvm');
    assert.equal(st.used, true, st.note);
    assert.equal((await instances()).length, 1, 'a private tracefs instance while tracing');
    await virsh('resume', 'labkvm');
    await new Promise((r) => setTimeout(r, 3000));
    assert.match(await tracer.stop(), /kvm events off, tracefs instance removed/);
  } finally {
    await tracer.stop();
    await virsh('destroy', 'labkvm').catch(() => undefined);
  }
  const c = tracer.counts!;
  // SeaBIOS probes PCI through config ports 0xcf8/0xcfc and talks to CMOS and the debug port, each a
  // port I/O that KVM hands to QEMU; labvm (TCG) runs beside it and none of its work is counted
  assert.ok(c.pio > 100, `port I/O counted: ${c.pio}`);
  assert.ok((c.pioByPort.get('pio_write 0xcf8') ?? 0) > 10, `PCI config writes: ${JSON.stringify([...c.pioByPort])}`);
  assert.ok((c.userspaceExitsByReason.get('KVM_EXIT_IO') ?? 0) > 100, `exits to QEMU for I/O: ${JSON.stringify([...c.userspaceExitsByReason])}`);
  assert.ok(c.lines >= c.pio + c.mmio);
  assert.deepEqual(await instances(), [], 'tracefs instance removed');
  const mounted = (await fs.readFile('/proc/mounts', 'utf8')).includes(' /sys/kernel/tracing tracefs ');
  if (mounted)
    assert.equal((await fs.readFile('/sys/kernel/tracing/events/kvm/kvm_pio/enable', 'utf8')).trim(), '0', "the top instance's kvm events untouched");
});
