// Full benchmark of the lab (host, labct, labvlxc, labvm) written as a report, like "Run Benchmark…":
//   node --import tsx bench/lab-report.ts [--seconds S] [--out DIR]
// Prints the Results, ratio and claims sections of the Markdown. Not part of `npm run bench` (minutes).
import { createBackend } from '../src/core/backends';
import { runBenchmark } from '../src/core/bench/engine';
import { renderMarkdown, writeReport } from '../src/core/bench/report';
import { resolveTargets } from '../src/core/bench/resolve';
import { DEFAULT_OPTIONS } from '../src/core/bench/types';
import { Backend, ConnectionConfig } from '../src/core/model';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const SECONDS = Number(arg('seconds', '3'));
const OUT = arg('out', '.virtscope/reports');

async function main(): Promise<void> {
  const conns: ConnectionConfig[] = [
    { id: 'qemu-system', type: 'libvirt', uri: 'qemu:///system' },
    { id: 'lxc-system', type: 'libvirt', uri: 'lxc:///system' },
    { id: 'lxc-tools', type: 'lxc' },
  ];
  const open: Backend[] = [];
  const backends = conns.map((c) => ({
    id: c.id,
    backend: async () => {
      const b = createBackend(c);
      await b.connect();
      open.push(b);
      return b;
    },
  }));
  // labvm's root is in RAM (initramfs): its disk is the zero-filled scratch device /dev/vda
  const targets = await resolveTargets(['labct', 'labvlxc', { guestName: 'labvm', diskPath: '/dev/vda', rawDeviceWrites: true }], backends);
  const t0 = Date.now();
  const report = await runBenchmark(
    {
      suites: ['network', 'disk', 'cpu', 'memory'],
      guests: targets.map((t) => t.ref),
      options: {
        ...DEFAULT_OPTIONS,
        netSeconds: SECONDS,
        latencySeconds: SECONDS,
        diskSeconds: SECONDS,
        cpuSeconds: SECONDS,
        hostNetworkNamespace: 'virtscope-lab',
      },
    },
    targets,
    { progress: (s) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${s}\n`) },
  );
  for (const b of open) await b.close();
  const out = await writeReport(report, OUT);
  const md = renderMarkdown(report);
  const from = md.indexOf('## Results');
  const to = md.indexOf('## Notes');
  console.log(md.slice(from, to > 0 ? to : undefined));
  console.log(`report: ${out.md}\nraw data: ${out.json}`);
}

main().catch((e) => {
  console.error(`lab-report: ${(e as Error).message}`);
  process.exit(1);
});
