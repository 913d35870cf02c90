// Markdown rendering of a benchmark report, the claims table (the container-vs-KVM table's ~5x / ~4x and Felter et al.),
// writing <timestamp>-<slug>.{md,json}, and side-by-side comparison of two reports. No vscode import.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BenchReport, METRICS, MetricId, metricDef, ToolRun } from './types';
import { COMPARISON_TABLE_CITED } from '../metrics/comparisonTable';
import { isContainerKind } from '../model';

export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function fmtFactor(f: number | undefined): string {
  return f === undefined || !Number.isFinite(f) ? '–' : `${f >= 10 ? f.toFixed(0) : f.toFixed(2)}×`;
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function valueOf(r: BenchReport, target: string, metric: MetricId): number | undefined {
  return r.measurements.find((m) => m.target === target && m.metric === metric)?.value;
}

export function targetsOf(r: BenchReport): string[] {
  const seen: string[] = [];
  if (r.spec.options.includeHost) seen.push('host');
  for (const t of r.environment.targets) if (!seen.includes(t.target)) seen.push(t.target);
  return seen;
}

function kindOf(r: BenchReport, target: string): string {
  return target === 'host' ? 'host' : (r.environment.targets.find((t) => t.target === target)?.kind ?? '?');
}

const isContainer = isContainerKind;

/**
 * How many times slower `slow` is than `fast` for a metric: fast/slow for throughput-like figures,
 * slow/fast for latencies. >1 means `slow` is slower.
 */
export function slowdown(metric: MetricId, slow: number | undefined, fast: number | undefined): number | undefined {
  if (slow === undefined || fast === undefined || slow <= 0 || fast <= 0) return undefined;
  return metricDef(metric).higherIsBetter ? fast / slow : slow / fast;
}

export interface Claim {
  id: string;
  source: 'container-vs-KVM table' | 'Felter et al. 2014';
  statement: string;
  /** What is compared: the VM against a container, or the VM against the host (native). */
  against: 'container' | 'host';
  metrics: MetricId[];
  /** The published slowdown factor. */
  factor: number;
  /** Confirmed when this host's factor lies in [lo, hi]. */
  lo: number;
  hi: number;
}

/** Felter et al. figures from their raw data (anchors §3): native / Docker / KVM. */
export const CLAIMS: readonly Claim[] = [
  {
    id: 'table-net',
    source: 'container-vs-KVM table',
    statement: 'Networking, container vs KVM: approx. 5x slower',
    against: 'container',
    metrics: ['net.guestToHost', 'net.hostToGuest', 'net.tcpRtt', 'net.icmpRtt'],
    factor: 5,
    lo: 3.5,
    hi: 6.5,
  },
  {
    id: 'table-disk',
    source: 'container-vs-KVM table',
    statement: 'HDD I/O, container vs KVM: approx. 4x slower',
    against: 'container',
    metrics: ['disk.randread4kQd32', 'disk.randwrite4kQd32', 'disk.randread4kQd1', 'disk.randwrite4kQd1', 'disk.seqread1m', 'disk.seqwrite1m'],
    factor: 4,
    lo: 2.8,
    hi: 5.2,
  },
  {
    id: 'felter-tput',
    source: 'Felter et al. 2014',
    statement: 'TCP throughput (nuttcp): native 9.35, Docker 9.33, KVM 9.29 Gb/s → KVM 1.01× slower than native',
    against: 'host',
    metrics: ['net.guestToHost', 'net.hostToGuest'],
    factor: 9.35 / 9.29,
    lo: 0,
    hi: 1.3,
  },
  {
    id: 'felter-rr',
    source: 'Felter et al. 2014',
    statement: 'TCP_RR (netperf): native 37.6 µs, KVM 67.9 µs → KVM latency +81 % (1.81×)',
    against: 'host',
    metrics: ['net.tcpRtt'],
    factor: 67.9 / 37.6,
    lo: 1.27,
    hi: 2.35,
  },
  {
    id: 'felter-rand',
    source: 'Felter et al. 2014',
    statement: 'fio random read / write IOPS (QD128): native 84.0k / 112.0k, KVM 46.2k / 59.3k → KVM 1.8–1.9× slower',
    against: 'host',
    metrics: ['disk.randread4kQd32', 'disk.randwrite4kQd32'],
    factor: 84.0 / 46.2,
    lo: 1.3,
    hi: 2.5,
  },
  {
    id: 'felter-seq',
    source: 'Felter et al. 2014',
    statement: 'fio sequential read / write: native 807 / 751, KVM 802 / 740 MB/s → KVM 1.01× slower',
    against: 'host',
    metrics: ['disk.seqread1m', 'disk.seqwrite1m'],
    factor: 807 / 802,
    lo: 0,
    hi: 1.3,
  },
];

export interface ClaimResult {
  claim: Claim;
  /** "labvm vs labct: 4.1× (4k random read QD32)" … */
  pairs: Array<{ vm: string; other: string; metric: MetricId; factor: number }>;
  verdict: 'confirmed' | 'not confirmed' | 'mixed' | 'not measured';
}

export function evaluateClaims(r: BenchReport): ClaimResult[] {
  const ts = targetsOf(r);
  const vms = ts.filter((t) => kindOf(r, t) === 'qemu');
  const others = (c: Claim) => (c.against === 'host' ? ts.filter((t) => t === 'host') : ts.filter((t) => isContainer(kindOf(r, t))));
  return CLAIMS.map((claim) => {
    const pairs: ClaimResult['pairs'] = [];
    for (const vm of vms)
      for (const o of others(claim))
        for (const m of claim.metrics) {
          const f = slowdown(m, valueOf(r, vm, m), valueOf(r, o, m));
          if (f !== undefined) pairs.push({ vm, other: o, metric: m, factor: f });
        }
    const ok = pairs.filter((p) => p.factor >= claim.lo && p.factor <= claim.hi).length;
    const verdict = !pairs.length ? 'not measured' : ok === pairs.length ? 'confirmed' : ok === 0 ? 'not confirmed' : 'mixed';
    return { claim, pairs, verdict };
  });
}

const SHORT: Record<MetricId, string> = {
  'net.guestToHost': 'guest→host',
  'net.hostToGuest': 'host→guest',
  'net.tcpRtt': 'TCP RR',
  'net.icmpRtt': 'ICMP RTT',
  'disk.randread4kQd1': 'randread QD1',
  'disk.randwrite4kQd1': 'randwrite QD1',
  'disk.randread4kQd32': 'randread QD32',
  'disk.randwrite4kQd32': 'randwrite QD32',
  'disk.seqread1m': 'seq read',
  'disk.seqwrite1m': 'seq write',
  'disk.randread4kQd1Lat': 'read latency',
  'cpu.eventsPerSec': 'CPU',
  'memory.bandwidth': 'memory',
};

function firstRun(r: BenchReport, tool: string): ToolRun | undefined {
  return r.runs.find((x) => x.tool === tool && x.exitCode === 0) ?? r.runs.find((x) => x.tool === tool);
}

export function renderMarkdown(r: BenchReport, jsonName?: string): string {
  const L: string[] = [];
  const ts = targetsOf(r);
  const o = r.spec.options;
  const host = r.environment.host;
  L.push(`# virtscope benchmark: ${esc(r.title)}`, '');
  L.push(`Run \`${r.id}\`, ${r.startedAt} → ${r.finishedAt}. Suites: ${r.spec.suites.join(', ')}.`);
  if (jsonName) L.push(`Raw data (every tool invocation and its complete output): [${jsonName}](${encodeURI(jsonName)}).`);
  L.push('');

  const warnings = r.notes.filter((n) => n.level === 'warning');
  if (warnings.length) {
    for (const w of warnings) L.push(`> ⚠️ ${esc(w.message)}`, '>');
    L.pop();
    L.push('');
  }

  L.push('## Environment', '');
  if (host.machine)
    L.push(
      `Measured on **${esc(host.machine)}**${host.hostname ? ` (hostname \`${esc(host.hostname)}\`)` : ''}: the host baseline, the servers of the network tests and the guests all ran there.`,
      '',
    );
  L.push('| | host |', '|---|---|');
  L.push(`| CPU | ${esc(host.cpuModel ?? '?')} × ${host.cpus ?? '?'} |`);
  L.push(`| memory | ${(host.memoryBytes / 1024 ** 3).toFixed(1)} GiB |`);
  L.push(`| kernel | ${esc(host.kernel ?? '?')} |`);
  L.push(`| virtualization | ${esc(host.virtualization)} |`);
  L.push(
    `| tools | ${esc(
      Object.entries(host.tools)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ') || '–',
    )} |`,
  );
  if (host.diskTarget) L.push(`| fio file | ${esc(host.diskTarget)} (${esc(host.diskFs ?? '?')}) |`);
  L.push('');
  if (r.environment.targets.length) {
    L.push(
      '| guest | kind | connection | virtualization | kernel | CPU | address → host endpoint | fio target | tools |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const t of r.environment.targets) {
      L.push(
        `| ${esc(t.target)} | ${t.kind} | ${esc(t.connection ?? '')} | ${esc(t.virtualization)} | ${esc(t.kernel ?? '?')} | ${esc(t.cpuModel ?? '?')}${t.cpus ? ` × ${t.cpus}` : ''} | ` +
          `${t.address ? `${t.address} → ${t.hostEndpoint ?? 'none'}` : 'no network'} | ${t.diskTarget ? `${esc(t.diskTarget)} (${esc(t.diskFs ?? '?')})` : '–'} | ` +
          `${esc(
            Object.entries(t.tools)
              .map(([k, v]) => `${k}: ${v}`)
              .join('; '),
          )} |`,
      );
    }
    L.push('');
  }

  L.push('## Method', '');
  L.push(
    'Each suite runs the same program with the same arguments on the host (the baseline) and inside each guest, one target after another. Outputs are parsed from JSON where the tool has it (iperf3 `-J`, fio `--output-format=json`); sockperf, ping and sysbench have no JSON output, so one summary line each is matched strictly. Every invocation (argv, exit code, duration, complete output) is in the JSON file.',
    '',
  );
  if (r.spec.suites.includes('network')) {
    const ip = firstRun(r, 'iperf3');
    L.push(
      `- **Network throughput**: iperf3, ${o.netSeconds} s per direction, one TCP stream. The client runs in the guest against a one-shot server (\`iperf3 -s -1\`) that virtscope starts on the host address in the guest's subnet` +
        `${o.hostNetworkNamespace ? ` (inside network namespace \`${o.hostNetworkNamespace}\`)` : ''}; host → guest uses \`-R\`. The host baseline runs both ends on 127.0.0.1. Figure: the receiver's \`end.sum_received.bits_per_second\`.` +
        (ip ? ` Example: \`${esc(ip.argv.join(' '))}\`.` : ''),
    );
    L.push(
      `- **Request/response latency**: sockperf \`ping-pong --tcp --full-rtt\`, ${o.latencySeconds} s (server \`sockperf sr\` on the host side) — the closest Debian-packaged equivalent of netperf TCP_RR, which Felter et al. used (netperf is not in Debian main; qperf prints only a rounded mean). Figure: mean round trip, µs. When a guest has no sockperf, ICMP echo round trip (\`ping -i 0.02\`, sent from the host side) is reported for every target as a coarser, tool-independent fallback.`,
    );
  }
  if (r.spec.suites.includes('disk')) {
    const f = firstRun(r, 'fio');
    L.push(
      `- **Disk**: fio, one invocation with six jobs run one after another (\`--stonewall\`), ${o.diskSeconds} s each, on a ${o.diskSizeMiB} MiB file in the target's own filesystem (or a block device when one is configured), libaio, \`direct=1\` (page cache bypassed; buffered only where the filesystem rejects O_DIRECT, noted below): 1 MiB sequential write (QD8, first, so the file is laid out), 4k random read QD1 and QD32, 4k random write QD1 and QD32, 1 MiB sequential read (QD8). Figures: \`jobs[].read|write.iops\`, \`bw_bytes\`, \`clat_ns.mean\`.` +
        (f ? ` Example: \`${esc(f.argv.join(' '))}\`.` : ''),
    );
  }
  if (r.spec.suites.includes('cpu'))
    L.push(`- **CPU**: \`sysbench cpu --time=${o.cpuSeconds} --threads=1 run\` (prime numbers up to 10000), events per second.`);
  if (r.spec.suites.includes('memory')) L.push(`- **Memory**: \`sysbench memory --time=${o.cpuSeconds} --threads=1 run\` (1 KiB block writes), MiB/s.`);
  L.push('');

  L.push('## Results', '');
  L.push(`| figure | unit | ${ts.map(esc).join(' | ')} |`, `|---|---|${ts.map(() => '---:|').join('')}`);
  for (const m of METRICS) {
    if (!r.spec.suites.includes(m.suite)) continue;
    const vals = ts.map((t) => valueOf(r, t, m.id));
    if (vals.every((v) => v === undefined)) continue;
    L.push(`| ${m.label} | ${m.unit} | ${vals.map(fmt).join(' | ')} |`);
  }
  L.push('');

  const guests = ts.filter((t) => t !== 'host');
  if (guests.length && ts.includes('host')) {
    L.push('### Guest / host', '', "Each guest's figure divided by the host's (1.00 = same as the host; for latencies, above 1 is slower).", '');
    L.push(`| figure | ${guests.map(esc).join(' | ')} |`, `|---|${guests.map(() => '---:|').join('')}`);
    for (const m of METRICS) {
      const h = valueOf(r, 'host', m.id);
      const row = guests.map((g) => {
        const v = valueOf(r, g, m.id);
        return v !== undefined && h ? (v / h).toFixed(2) : '–';
      });
      if (row.every((x) => x === '–')) continue;
      L.push(`| ${m.label} | ${row.join(' | ')} |`);
    }
    L.push('');
  }
  const vms = ts.filter((t) => kindOf(r, t) === 'qemu');
  const cts = ts.filter((t) => isContainer(kindOf(r, t)));
  if (vms.length && cts.length) {
    const pairs = vms.flatMap((v) => cts.map((c) => [v, c] as const));
    L.push('### VM / container', '', 'How many times slower the VM is than the container (throughput: container ÷ VM; latency: VM ÷ container).', '');
    L.push(`| figure | ${pairs.map(([v, c]) => `${esc(v)} vs ${esc(c)}`).join(' | ')} |`, `|---|${pairs.map(() => '---:|').join('')}`);
    for (const m of METRICS) {
      const row = pairs.map(([v, c]) => fmtFactor(slowdown(m.id, valueOf(r, v, m.id), valueOf(r, c, m.id))));
      if (row.every((x) => x === '–')) continue;
      L.push(`| ${m.label} | ${row.join(' | ')} |`);
    }
    L.push('');
  }

  L.push("## The container-vs-KVM table's claims and Felter et al. on this host", '');
  const tcg = r.environment.targets.some((t) => t.kind === 'qemu' && /TCG/.test(t.virtualization));
  L.push(
    'Confirmed when every measured pair lies within the band around the published factor (the container-vs-KVM table: ±30 %; Felter et al.: see band). ' +
      `The container-vs-KVM table: ${COMPARISON_TABLE_CITED}. ` +
      "Felter et al., IBM RC25482 (2014), figures from the authors' raw data (native / Docker / KVM)." +
      (tcg ? ' **The QEMU guest in this run is TCG-emulated: its factors say nothing about KVM.**' : ''),
    '',
  );
  L.push('| claim | source | published | band | this host | verdict |', '|---|---|---:|---|---|---|');
  for (const c of evaluateClaims(r)) {
    const here = c.pairs.length
      ? c.pairs.map((p) => `${esc(p.vm)} vs ${esc(p.other)} ${SHORT[p.metric]}: ${fmtFactor(p.factor)}`).join('<br>')
      : 'not measured (needs a QEMU guest and ' + (c.claim.against === 'host' ? 'the host baseline' : 'a container') + ' with these figures)';
    L.push(
      `| ${esc(c.claim.statement)} | ${c.claim.source} | ${fmtFactor(c.claim.factor)} | ${fmtFactor(c.claim.lo)}–${fmtFactor(c.claim.hi)} | ${here} | ${c.verdict}${tcg && c.pairs.length ? ' (TCG)' : ''} |`,
    );
  }
  L.push('');

  if (r.notes.some((n) => n.level !== 'warning')) {
    L.push('## Notes', '');
    for (const n of r.notes.filter((x) => x.level !== 'warning')) L.push(`- **${n.level === 'missing-tool' ? 'missing tool' : n.level}**: ${esc(n.message)}`);
    L.push('');
  }

  L.push('## Tool invocations', '');
  L.push('| run | target | argv | exit | time |', '|---|---|---|---:|---:|');
  for (const x of r.runs) L.push(`| ${x.id} | ${esc(x.target)} | \`${esc(x.argv.join(' '))}\` | ${x.exitCode} | ${(x.durationMs / 1000).toFixed(1)} s |`);
  L.push('');
  L.push(`_Re-run: command "virtscope: Re-run Benchmark" on the JSON file. Compare: "virtscope: Compare Benchmark Reports"._`, '');
  return L.join('\n');
}

export function slugify(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'benchmark'
  );
}

/** Writes <dir>/<timestamp>-<slug>.md and .json; returns both paths. */
export async function writeReport(r: BenchReport, dir: string): Promise<{ md: string; json: string }> {
  await fs.mkdir(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${stamp}-${slugify(r.title)}`;
  const json = path.join(dir, `${base}.json`);
  const md = path.join(dir, `${base}.md`);
  await fs.writeFile(json, JSON.stringify(r, null, 1) + '\n');
  await fs.writeFile(md, renderMarkdown(r, `${base}.json`));
  return { md, json };
}

export async function readReport(file: string): Promise<BenchReport> {
  const r = JSON.parse(await fs.readFile(file, 'utf8'));
  if (r?.format !== 'virtscope-bench/1') throw new Error(`${file} is not a virtscope benchmark report (format ${JSON.stringify(r?.format)})`);
  return r as BenchReport;
}

/** Change from a to b in percent (positive = larger). */
export function changePct(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || a === 0) return undefined;
  return ((b - a) / a) * 100;
}

export function renderComparison(a: BenchReport, b: BenchReport, nameA = 'A', nameB = 'B'): string {
  const L: string[] = [];
  L.push(`# virtscope benchmark comparison`, '');
  L.push(`- **${esc(nameA)}**: ${esc(a.title)} (run \`${a.id}\`, ${a.startedAt})`);
  L.push(`- **${esc(nameB)}**: ${esc(b.title)} (run \`${b.id}\`, ${b.startedAt})`, '');
  const envDiff: string[] = [];
  if (a.environment.host.kernel !== b.environment.host.kernel) envDiff.push(`host kernel ${a.environment.host.kernel} → ${b.environment.host.kernel}`);
  if (a.environment.host.cpuModel !== b.environment.host.cpuModel) envDiff.push(`host CPU ${a.environment.host.cpuModel} → ${b.environment.host.cpuModel}`);
  for (const t of b.environment.targets) {
    const o = a.environment.targets.find((x) => x.target === t.target);
    if (o && o.virtualization !== t.virtualization) envDiff.push(`${t.target}: ${o.virtualization} → ${t.virtualization}`);
  }
  if (envDiff.length) L.push('Environment changes: ' + envDiff.map(esc).join('; ') + '.', '');
  L.push(`| target | figure | unit | ${esc(nameA)} | ${esc(nameB)} | change | |`, '|---|---|---|---:|---:|---:|---|');
  const targets = [...new Set([...targetsOf(a), ...targetsOf(b)])];
  for (const t of targets) {
    for (const m of METRICS) {
      const va = valueOf(a, t, m.id);
      const vb = valueOf(b, t, m.id);
      if (va === undefined && vb === undefined) continue;
      const c = changePct(va, vb);
      const better = c === undefined || Math.abs(c) < 5 ? '' : c > 0 === m.higherIsBetter ? 'better' : 'worse';
      L.push(
        `| ${esc(t)} | ${m.label} | ${m.unit} | ${fmt(va)} | ${fmt(vb)} | ${c === undefined ? '–' : `${c >= 0 ? '+' : ''}${c.toFixed(1)} %`} | ${better} |`,
      );
    }
  }
  L.push('', '_"better"/"worse" only when the change exceeds 5 %._', '');
  return L.join('\n');
}
