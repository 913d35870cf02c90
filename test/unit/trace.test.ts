// Trace parsers and report on recorded text (see test/fixtures/trace/README.md for where each came from).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import {
  firstIPv4,
  interfaceBridges,
  iperfSentBps,
  parseInfoTraceEvents,
  parseInterrupts,
  parseKickHist,
  parseKprobeProfile,
  txKicks,
  parseKvmEvents,
  netDevByInterface,
  parseQemuTraceLog,
} from '../../src/core/trace/parse';
import { inNetns } from '../../src/core/host/net';
import {
  domainVirtType,
  hostAddressForGuest,
  HostKvmTracer,
  kvmCountsJson,
  mergeKvm,
  refuseUntraceable,
  TRACE_DETAIL,
  TraceResult,
} from '../../src/core/trace/engine';
import type { Host } from '../../src/core/host/host';
import { annotatedDiagram, derivedFigures, reportMarkdown, stepFigures, writeTraceReport } from '../../src/core/trace/report';
import { GUEST_PROBES, STEPS } from '../../src/core/trace/steps';

const fx = (f: string) => readFileSync(path.join(__dirname, '../fixtures/trace', f), 'utf8');

test('kprobe_profile: hits and misses by event name', () => {
  const p = parseKprobeProfile(fx('guest-kprobe_profile.txt'));
  assert.deepEqual(p.get('vs_vp_notify'), { hits: 6, misses: 0 });
  assert.deepEqual(p.get('vs_start_xmit'), { hits: 3, misses: 0 });
  assert.equal(p.size, 2);
  assert.equal(parseKprobeProfile('garbage line\n\n').size, 0);
});

test('/proc/net/dev: tx and rx counters per interface', () => {
  const d = netDevByInterface(fx('guest-proc-net-dev.txt'));
  assert.deepEqual(d.get('eth0'), { rxBytes: 209395015, rxPackets: 25499, txBytes: 1187493578, txPackets: 25465 });
  assert.equal(d.get('lo')?.txPackets, 0);
  assert.equal(d.size, 2);
});

test('QEMU trace log: counts by event and by device/queue', () => {
  const q = parseQemuTraceLog(fx('qemu-trace.log'));
  assert.equal(q.byEvent.get('virtio_queue_notify'), 12);
  assert.equal(q.byEvent.get('virtio_notify'), 23);
  assert.equal(q.notifyByQueue.get('0x557b14ea7040 5'), 8);
  assert.equal(q.notifyByQueue.get('0x557b1513fee0 1'), 3);
  assert.equal(q.notifyByQueue.get('0x557b1528e3f0 2'), 1);
  assert.equal(q.lines, 35);
  // only the events asked for; lines without the pid@time prefix (older QEMU) count too
  const only = parseQemuTraceLog(
    'virtio_queue_notify vdev 0x1 n 1 vq 0x2\nsome other log line\nvirtio_notify vdev 0x1 vq 0x2\n',
    new Set(['virtio_queue_notify']),
  );
  assert.equal(only.lines, 1);
  assert.equal(only.notifyByQueue.get('0x1 1'), 1);
});

test('info trace-events: state per event', () => {
  const e = parseInfoTraceEvents(fx('info-trace-events.txt'));
  assert.equal(e.get('virtio_queue_notify'), true);
  assert.equal(e.get('virtio_notify'), false);
  assert.equal(e.size, 4);
});

test('kvm events: exits by reason, pio, mmio, injections; per QEMU thread; on recorded lines', () => {
  // every line but one (kvm_fast_mmio, hand-written) was recorded on a KVM host: see fixtures/trace/README.md
  const all = parseKvmEvents(fx('kvm-events.txt'));
  // older layout "reason X rip … info …" (a.out, trace-cmd report, linux-kvm.org) and 6.x "vcpu N reason X rip … info1 …"
  const byKey = (m: Map<string, number>) => Object.fromEntries(m);
  assert.equal(all.exits, 13);
  assert.deepEqual(byKey(all.exitsByReason), {
    EXCEPTION_NMI: 4,
    EXTERNAL_INTERRUPT: 2,
    CR_ACCESS: 1,
    EPT_VIOLATION: 1,
    IO_INSTRUCTION: 2,
    EPT_MISCONFIG: 1,
    apic_access: 1,
    io_instruction: 1,
  });
  assert.equal(all.pio, 10);
  assert.deepEqual(byKey(all.pioByPort), { 'pio_write 0x3f8': 5, 'pio_read 0x5658': 1, 'pio_read 0xc13e': 1, 'pio_read 0x71': 2, 'pio_write 0x70': 1 });
  assert.deepEqual([all.mmio, all.fastMmio], [7, 1]);
  assert.deepEqual(byKey(all.userspaceExitsByReason), { KVM_EXIT_IO: 7, KVM_EXIT_HLT: 1, KVM_EXIT_INTERNAL_ERROR: 1 });
  assert.deepEqual(byKey(all.injections), { 'kvm_set_irq (level 1)': 3, kvm_inj_virq: 2, kvm_msi_set_irq: 1 });
  // by thread ids, 6.x layout: the two vCPU threads of one QEMU
  const vcpu0 = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([8396]) });
  assert.deepEqual([...vcpu0.exitsByReason], [['EXTERNAL_INTERRUPT', 2]]);
  assert.equal(vcpu0.lines, 4);
  const both = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([8396, 8397]) });
  assert.equal(both.exits, 3);
  assert.equal(both.exitsByReason.get('CR_ACCESS'), 1);
  // kvm_nested_vmexit repeats the exit ("vcpu 0 reason EXCEPTION_NMI …") and is not counted as one
  const nested = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([1289]) });
  assert.deepEqual(
    [...nested.exitsByReason],
    [
      ['EXCEPTION_NMI', 1],
      ['EPT_VIOLATION', 1],
    ],
  );
  assert.equal(nested.lines, 5);
  // older layout in tracefs (flags column) and without it
  const serial = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([2063]) });
  assert.equal(serial.pio, 2);
  assert.equal(serial.exits, 0);
  assert.equal(serial.injections.get('kvm_set_irq (level 1)'), 2);
  const wiki = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([5664]) });
  assert.deepEqual([wiki.exits, wiki.mmio, wiki.pio, wiki.lines], [2, 1, 1, 9]);
  // trace-cmd report: no flags column, event names padded
  const report = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([6660]) });
  assert.deepEqual([...report.exitsByReason], [['IO_INSTRUCTION', 1]]);
  assert.equal(report.pioByPort.get('pio_read 0x5658'), 1);
  assert.equal(report.userspaceExitsByReason.get('KVM_EXIT_IO'), 1);
  assert.equal(report.lines, 7);
  // perf script ("comm pid [cpu] ts: kvm:event:") and perf-prof (wall clock, flags before [cpu])
  const vmm = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([426566]) });
  assert.equal(vmm.injections.get('kvm_inj_virq'), 2);
  assert.equal(vmm.lines, 3);
  const kworker = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([429543]) });
  assert.equal(kworker.injections.get('kvm_set_irq (level 1)'), 1);
  assert.equal(kworker.lines, 6);
  const dpdk = parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([26027]) });
  assert.equal(dpdk.injections.get('kvm_msi_set_irq'), 1);
  assert.equal(dpdk.lines, 1);
  // the tgid column ("(  31933)", options/record-tgid), recorded on this project's machine: one QEMU's
  // main thread (PIT interrupts) and vCPU thread (port I/O, local APIC MMIO) are both that QEMU's
  const qemu = parseKvmEvents(fx('kvm-events.txt'), { tgid: 31933 });
  assert.deepEqual([qemu.lines, qemu.pio, qemu.mmio, qemu.exits], [31, 5, 6, 0]);
  assert.deepEqual(byKey(qemu.pioByPort), { 'pio_read 0x71': 2, 'pio_write 0x70': 1, 'pio_write 0x3f8': 2 });
  assert.equal(qemu.userspaceExitsByReason.get('KVM_EXIT_IO'), 4);
  assert.equal(qemu.injections.size, 0, 'kvm_set_irq level 0 (a line lowered) is not an injection');
  // by thread id, the same trace: only the main thread
  assert.equal(parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([31933]) }).lines, 6);
  // the hand-written record-tgid line (kvm_fast_mmio: none published, none fired here)
  const one = parseKvmEvents(fx('kvm-events.txt'), { tgid: 4200 });
  assert.deepEqual([one.lines, one.fastMmio, one.exits], [1, 1, 0]);
  assert.equal(parseKvmEvents(fx('kvm-events.txt'), { tgid: 4201 }).lines, 0);
  assert.equal(mergeKvm([all, both]).exits, 16);
});

test('kvm events: a line of another tool or another subsystem is not a kvm event', () => {
  const text = [
    // perf script without the kvm: system, an irq event, a guest ("G") perf-prof line
    ' dbs_load_kernel 426566 [003] 108229.924216:        kvm_inj_virq: irq 52',
    '2023-04-12 15:38:45.754102 G            <...> 350094 dNh. [079] 203124.380722: irq:irq_handler_entry: irq=36 name=virtio0-input.2',
    ' qemu-system-x86-8397    [002] .....  1404.389384: kvm_tdp_mmu_spte_changed: as id 0 gfn 0 level 4 old_spte 2c583e907 new_spte 0',
  ].join('\n');
  const c = parseKvmEvents(text);
  assert.equal(c.lines, 1); // only the kvmmmu line has a kvm_ event name, and it counts nothing
  assert.deepEqual([c.exits, c.pio, c.mmio, c.injections.size], [0, 0, 0, 0]);
});

test('domain XML: bridge of the guest interface, virt type; ip -j; iperf3 -J; nsenter argv', () => {
  const xml = `<domain type='qemu' id='5'><devices><interface type='bridge'><mac address='52:54:00:4d:00:0a'/>
    <source network='vslab' portid='x' bridge='vsbr0'/><target dev='vs-labvm'/><model type='virtio'/></interface>
    <interface type='user'><model type='e1000'/></interface></devices></domain>`;
  assert.deepEqual(interfaceBridges(xml), [{ bridge: 'vsbr0', network: 'vslab', target: 'vs-labvm', model: 'virtio' }]);
  assert.equal(domainVirtType(xml), 'qemu');
  assert.equal(domainVirtType(`<domain type="kvm">`), 'kvm');
  assert.equal(
    firstIPv4('[{"ifname":"vsbr0","addr_info":[{"family":"inet6","local":"fe80::1"},{"family":"inet","local":"10.77.0.1","prefixlen":24}]}]'),
    '10.77.0.1',
  );
  assert.equal(firstIPv4('not json'), undefined);
  assert.equal(iperfSentBps('{"end":{"sum_sent":{"bits_per_second":123.5}}}'), 123.5);
  assert.equal(iperfSentBps('{"error":"unable to connect"}'), undefined);
  assert.deepEqual(inNetns('virtscope-lab', ['iperf3', '-s']), ['nsenter', '--net=/run/netns/virtscope-lab', '--', 'iperf3', '-s']);
  assert.deepEqual(inNetns(undefined, ['ip', 'a']), ['ip', 'a']);
  assert.throws(() => inNetns('../x y', ['ip']));
});

test('report: every diagram step, derived figures, annotated diagram, files', async () => {
  const r = JSON.parse(fx('labvm-tcg-result.json')) as TraceResult;
  const steps = stepFigures(r);
  assert.deepEqual(
    steps.map((s) => s.n),
    STEPS.map((s) => s.n),
  );
  assert.equal(steps.length, 23);
  assert.equal(steps[0].count, r.guestHits.start_xmit);
  assert.equal(steps.find((s) => s.n === 5)?.count, r.guestHits.vp_notify);
  assert.equal(steps.find((s) => s.n === 8)?.count, r.qemu.byEvent.virtio_queue_notify);
  assert.match(steps.find((s) => s.n === 7)?.note ?? '', /TCG/);
  assert.match(steps.find((s) => s.n === 14)?.note ?? '', /inline/);
  // a function left out by choice (kick-path probes) vs one the kernel does not have
  const light = { ...r, detail: 'kick-path', guestHits: { ...r.guestHits } } as TraceResult;
  delete (light.guestHits as Record<string, number>).free_old_xmit_skbs;
  assert.match(stepFigures(light).find((s) => s.n === 2)?.note ?? '', /not counted at detail "kick-path": set virtscope\.trace\.detail to "full"/);
  assert.match(reportMarkdown(light), /detail `kick-path`/);
  // start_xmit not probed: step 1 counts the packets the interface counted (equal on the recorded run)
  delete (light.guestHits as Record<string, number>).start_xmit;
  const s1 = stepFigures(light)[0];
  assert.equal(s1.count, r.txPackets);
  assert.equal(r.txPackets, r.guestHits.start_xmit, 'the counter and the kprobe agree on the recorded run');
  assert.match(s1.source, /eth0 tx_packets counter/);
  delete (light.guestHits as Record<string, number>).netif_tx_wake_queue;
  assert.match(
    derivedFigures(light).find((d) => d.name.startsWith('queue wakes'))!.meaning,
    /^not counted at detail "kick-path": set virtscope\.trace\.detail to "full" to count it\. The driver/,
  );
  assert.match(stepFigures({ ...light, guestMissing: ['free_old_xmit_skbs', 'free_old_xmit'] }).find((s) => s.n === 2)?.note ?? '', /not in this guest kernel/);
  const kicks = derivedFigures(r).find((d) => d.name.startsWith('kicks per packet'));
  assert.ok(kicks?.value && Math.abs(kicks.value - r.guestHits.vp_notify / r.txPackets) < 1e-9);
  const diagram = annotatedDiagram(steps);
  assert.match(diagram, new RegExp(`start_  \\| \\(1\\).*◂ \\(1\\) ${r.guestHits.start_xmit.toLocaleString('en-US')}`));
  for (const s of STEPS) assert.match(diagram, new RegExp(`◂[^\\n]*\\(${s.n}\\) `), `step ${s.n} annotated`);
  const md = reportMarkdown(r);
  assert.match(md, /TCG emulation/);
  assert.match(md, /\| \(23\) \|/);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vs-trace-report-'));
  try {
    const out = await writeTraceReport(r, dir);
    assert.equal(JSON.parse(await fs.readFile(out.json, 'utf8')).steps.length, 23);
    assert.match(await fs.readFile(out.markdown, 'utf8'), /^# virtio-net TX trace: labvm/);
    assert.match(path.basename(out.markdown), /^trace-labvm-\d{4}-/, 'a guest of this machine: no host in the name');
    // a remote guest's report names its host, in the file name too: guests of the same name on two hosts do not mix
    const remote = await writeTraceReport({ ...r, host: 'kvm2 (root@10.0.0.2)' }, dir);
    assert.match(path.basename(remote.markdown), /^trace-labvm-on-kvm2_root_10\.0\.0\.2_-\d{4}-.*\.md$/);
    assert.match(await fs.readFile(remote.markdown, 'utf8'), /^on kvm2 \(root@10\.0\.0\.2\) · /m);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('guest kicks by virtqueue: hist trigger output, TX queue picked, report uses it', () => {
  // recorded on labvm (fixtures/trace/README.md): 20 pings, so 20 kicks on virtio-net's TX queue
  const byQueue = parseKickHist(fx('guest-kick-hist.txt'));
  assert.deepEqual(byQueue, { stats: 1, output: 6, 'output.0': 20 });
  assert.equal(txKicks(byQueue), 20, 'only "output.N" is virtio-net TX; "output" is the agent\'s virtio-serial port');
  assert.equal(txKicks({ output: 6 }), undefined);
  assert.equal(txKicks({ 'output.0': 3, 'output.1': 4, 'input.0': 9 }), 7);
  const tcg = JSON.parse(fx('labvm-tcg-result.json')) as TraceResult;
  const r: TraceResult = { ...tcg, guestKicksByQueue: { ...byQueue, 'output.0': tcg.qemu.txQueueNotifies }, txPackets: 2 * tcg.qemu.txQueueNotifies };
  const d = derivedFigures(r);
  assert.equal(d.find((x) => x.name.startsWith('kicks per packet'))?.value, 0.5);
  assert.match(d.find((x) => x.name.startsWith('kicks per packet'))!.name, /TX queue/);
  assert.equal(d.find((x) => x.name.includes('vs QEMU'))?.value, 0, 'same queue on both sides');
  assert.match(reportMarkdown(r), /## Guest: kicks by virtqueue[\s\S]*`output\.0` \(virtio-net TX\)/);
});

test('guest interrupts from /proc/interrupts: per queue, summed over CPUs; report prefers them to kprobes', () => {
  // labvm's (one CPU, 6.1 "PCI-MSI" chip column) and this machine's (two CPUs, 6.x "PCI-MSIX-<bdf>")
  const g = parseInterrupts(fx('guest-proc-interrupts.txt'));
  assert.equal(g.get('virtio0-output.0'), 14);
  assert.equal(g.get('virtio0-input.0'), 5);
  assert.equal(g.get('virtio3'), 102, 'a shared INTx line is named by its device');
  assert.ok(g.has('timer'), 'other numbered lines parse too');
  assert.ok(![...g.keys()].some((k) => /^(NMI|LOC|ERR|MIS)$/.test(k)));
  const h = parseInterrupts(fx('host-proc-interrupts-2cpu.txt'));
  assert.equal(h.get('virtio1-req.0'), 34525728);
  assert.equal(h.get('virtio2-output.0'), 43961);
  assert.equal(h.get('virtio2-input.0'), 48739, 'counts on CPU1 are summed in');
  const tcg = JSON.parse(fx('labvm-tcg-result.json')) as TraceResult;
  const r: TraceResult = {
    ...tcg,
    txPackets: 100,
    guestInterrupts: { nicDevice: 'virtio0', byName: { 'virtio0-output.0': 25, 'virtio0-input.0': 50, 'virtio1-virtqueues': 5 } },
  };
  const d = derivedFigures(r);
  const tx = d.find((x) => x.name.startsWith('TX completion interrupts'))!;
  assert.equal(tx.value, 0.25);
  assert.match(tx.name, /\/proc\/interrupts virtio0-output\.0/);
  assert.equal(d.find((x) => x.name.startsWith('all guest virtio interrupts'))?.value, 0.8);
  assert.match(reportMarkdown(r), /## Guest: virtio interrupts by queue[\s\S]*`virtio0-output\.0` \(virtio-net TX completions\) \| 25 \| 0\.25/);
  // without them the kprobe counts are used, as before
  assert.match(derivedFigures(tcg).find((x) => x.name.startsWith('TX completion'))!.name, /skb_xmit_done/);
});

test("detail levels: kick-path probes the kick alone, under 5 % of the full trace's hits on the recorded run", () => {
  const full = JSON.parse(fx('labvm-tcg-result.json')) as TraceResult; // recorded at detail full
  const all = Object.values(full.guestHits).reduce((a, b) => a + b, 0);
  const kp = TRACE_DETAIL['kick-path'].guestProbes.reduce((a, f) => a + (full.guestHits[f] ?? 0), 0);
  assert.ok(TRACE_DETAIL['kick-path'].guestProbes.every((f) => (GUEST_PROBES as readonly string[]).includes(f)));
  assert.deepEqual(TRACE_DETAIL['kick-path'].guestProbes, ['vp_notify']);
  assert.ok(kp / all < 0.05, `kick-path hits ${kp} of ${all}`);
  assert.deepEqual(TRACE_DETAIL['kick-path'].qemuEvents, [], 'QEMU is traced at full detail only');
  // a kick-path result: QEMU's steps say why they are empty, and there is no guest/QEMU cross-check row
  const light: TraceResult = {
    ...full,
    detail: 'kick-path',
    qemu: { events: [], byEvent: {}, notifyByQueue: {}, txQueueNotifies: 0 },
    sources: { ...full.sources, qemu: { used: false, note: 'not used at detail kick-path: …' } },
  };
  assert.match(stepFigures(light).find((s) => s.n === 8)?.note ?? '', /not used at detail kick-path/);
  assert.ok(!derivedFigures(light).some((d) => d.name.includes('vs QEMU')));
  assert.ok(derivedFigures(full).some((d) => d.name.includes('vs QEMU')));
});

test('report under KVM: exits per packet, step 7 from IO exits, exits-by-reason table', () => {
  const tcg = JSON.parse(fx('labvm-tcg-result.json')) as TraceResult;
  // the QEMU thread of the recorded trace-cmd report with an IO exit and an EPT_MISCONFIG exit
  const kvm = kvmCountsJson(parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([31218]) }));
  assert.deepEqual(kvm.exitsByReason, { IO_INSTRUCTION: 1, EPT_MISCONFIG: 1 });
  const r: TraceResult = { ...tcg, virtType: 'kvm', kvm, sources: { ...tcg.sources, kvm: { used: true } } };
  const steps = stepFigures(r);
  assert.equal(steps.find((s) => s.n === 7)?.count, 2);
  // older kernels name the reasons in lower case (the recorded linux-kvm.org lines): counted the same
  const wiki = kvmCountsJson(parseKvmEvents(fx('kvm-events.txt'), { pids: new Set([5664]) }));
  assert.equal(stepFigures({ ...r, kvm: wiki }).find((s) => s.n === 7)?.count, wiki.exitsByReason.io_instruction);
  assert.ok(wiki.exitsByReason.io_instruction > 0);
  assert.equal(steps.find((s) => s.n === 6)?.count, kvm.pio + kvm.mmio + kvm.fastMmio);
  assert.ok((derivedFigures(r).find((d) => d.name === 'VM exits per packet')?.value ?? 0) > 0);
  const md = reportMarkdown(r);
  assert.match(md, /## Host: KVM exits of this guest/);
  assert.doesNotMatch(md, /TCG emulation/);
});

test('host kvm tracer: a step failing after the tracefs instance was made removes it again', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'virtscope-test-tracefs-'));
  try {
    const root = path.join(tmp, 'tracing');
    await fs.mkdir(path.join(root, 'events/kvm/kvm_exit'), { recursive: true });
    await fs.mkdir(path.join(root, 'instances'));
    // a QEMU pid with no /proc entry: listing its threads fails after the instance exists
    await fs.writeFile(path.join(tmp, 'vm.pid'), '2147483646\n');
    const kvm = new HostKvmTracer(root);
    await assert.rejects(kvm.start('vm', tmp), /task/);
    assert.deepEqual(await fs.readdir(path.join(root, 'instances')), []);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test("the host's address on a remote guest's bridge: read on that host, and a missing one names the host", async () => {
  const xml = "<domain type='qemu'><devices><interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface></devices></domain>";
  const ran: string[][] = [];
  const hostWith = (stdout: string, exitCode = 0) =>
    ({
      label: 'kvm2',
      run: async (argv: readonly string[]) => (ran.push([...argv]), { exitCode, stdout, stderr: exitCode ? 'Device "br0" does not exist.' : '' }),
    }) as unknown as Host;
  const withIp = JSON.stringify([{ ifname: 'br0', addr_info: [{ family: 'inet', local: '10.81.1.1', prefixlen: 24 }] }]);
  assert.deepEqual(await hostAddressForGuest(xml, undefined, hostWith(withIp)), { ip: '10.81.1.1', bridge: 'br0' });
  assert.deepEqual(ran[0], ['ip', '-j', '-4', 'addr', 'show', 'dev', 'br0']);
  assert.deepEqual(await hostAddressForGuest(xml, undefined, hostWith('[{"ifname":"br0","addr_info":[]}]')), {
    bridge: 'br0',
    why: 'bridge br0 has no IPv4 address on kvm2',
  });
  assert.match((await hostAddressForGuest(xml, undefined, hostWith('', 1))).why ?? '', /^cannot read bridge br0 on kvm2: /);
});

test('a domain the trace cannot work in is refused before anything is switched on, naming its host and every reason', () => {
  const remote = { label: 'kvm2' } as Host;
  const bare = "<domain type='qemu'><name>vm</name><devices><disk type='file'/></devices></domain>";
  assert.throws(
    () => refuseUntraceable('vm', remote, bare),
    /^Error: cannot trace vm on kvm2: it has no network interface \(.*\) and no qemu-guest-agent channel \(.*\)$/,
  );
  const agent = "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
  assert.throws(() => refuseUntraceable('vm', remote, bare.replace('</devices>', `${agent}</devices>`)), /it has no network interface \(/);
  const nic = "<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>";
  assert.throws(() => refuseUntraceable('vm', remote, bare.replace('</devices>', `${nic}</devices>`)), /it has no qemu-guest-agent channel/);
  assert.doesNotThrow(() => refuseUntraceable('vm', remote, bare.replace('</devices>', `${nic}${agent}</devices>`)));
});

test('the report names the host the guest ran on', () => {
  const r = JSON.parse(fx('labvm-tcg-result.json')) as TraceResult;
  assert.match(reportMarkdown({ ...r, host: 'kvm2' }).split('\n')[2], /^on kvm2 · /);
  assert.doesNotMatch(reportMarkdown(r).split('\n')[2], /^on /, 'a result recorded before hosts had no host: no "on"');
});
