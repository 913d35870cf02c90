// Trace overhead: iperf3 throughput from the lab's QEMU guest to the host with the virtio-net TX
// trace running vs without it, in the same run (alternating rounds, same code path: the baseline
// round runs the trace engine with no kprobes and no QEMU trace events).
//   node --import tsx bench/trace-overhead.ts [--rounds N] [--seconds S] [--guest labvm] [--netns virtscope-lab]
// Needs the lab (bash scripts/lab.sh up). Goal: overhead < 10 %. Under TCG (no KVM on this machine)
// the figure is that of an emulated CPU, where a kprobe hit costs far more than on hardware.
import { LibvirtBackend } from '../src/core/backends/libvirt';
import { runTrace } from '../src/core/trace/engine';
import { traceTargetFor } from '../src/core/trace/target';

const GOAL = 0.1;
function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const ROUNDS = Number(arg('rounds', '3'));
const SECONDS = Number(arg('seconds', '5'));
const GUEST = arg('guest', 'labvm');
const NETNS = arg('netns', 'virtscope-lab');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const b = new LibvirtBackend({ id: 'q', type: 'libvirt', uri: 'qemu:///system' });
  await b.connect();
  try {
    const g = (await b.list()).find((x) => x.name === GUEST);
    if (!g) throw new Error(`guest ${GUEST} not found on qemu:///system: bash scripts/lab.sh up`);
    const target = traceTargetFor(b, g);
    const base: number[] = [];
    const traced: number[] = [];
    let virt = '';
    for (let i = 0; i < ROUNDS; i++) {
      // alternate the order so drift (other load on the machine) hits both sides alike
      for (const withTrace of i % 2 ? [true, false] : [false, true]) {
        const r = await runTrace(target, { durationSec: SECONDS, workload: { kind: 'iperf3' }, hostNetns: NETNS, noTrace: !withTrace });
        virt = r.virtType;
        const bps = r.workload.sentBitsPerSecond;
        if (!bps) throw new Error(`iperf3 gave no throughput: ${r.warnings.join('; ')}`);
        (withTrace ? traced : base).push(bps);
        console.log(`  round ${i + 1} ${withTrace ? 'traced  ' : 'baseline'} ${(bps / 1e6).toFixed(0)} Mbit/s${withTrace ? ` (vp_notify ${r.guestHits.vp_notify}, start_xmit ${r.guestHits.start_xmit})` : ''}`);
      }
    }
    const mb = median(base);
    const mt = median(traced);
    const overhead = (mb - mt) / mb;
    console.log('');
    console.log(`| ${GUEST} (${virt === 'qemu' ? 'TCG' : virt}), iperf3 guest → host, ${SECONDS} s × ${ROUNDS} rounds | median Mbit/s | runs |`);
    console.log('|---|---:|---|');
    console.log(`| without trace | ${(mb / 1e6).toFixed(0)} | ${base.map((x) => (x / 1e6).toFixed(0)).join(', ')} |`);
    console.log(`| with trace (kprobes + QEMU trace events) | ${(mt / 1e6).toFixed(0)} | ${traced.map((x) => (x / 1e6).toFixed(0)).join(', ')} |`);
    console.log('');
    console.log(`trace overhead: ${(overhead * 100).toFixed(1)} % of throughput (goal < ${GOAL * 100} %): ${overhead < GOAL ? 'met' : 'NOT met'}`);
    if (virt === 'qemu') console.log('note: TCG guest (no KVM here): kprobe traps are emulated, so this overstates the overhead on a KVM host.');
  } finally {
    await b.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
