// Inventory benchmark: virtscope's libvirt RPC client vs the CLI path.
//   node --import tsx bench/inventory.ts [--rounds N] [--domains N]
// Generates a libvirt test-driver host with 1,000 domains (running, paused, shut off) and
// measures, in the same run, the median of N rounds after a warm-up:
//   virtscope: LibvirtBackend connected once, then per round list() + stats()
//   CLI:       `virsh -c URI list --all` + `virsh -c URI domstats`, spawned per round
//   kept shell: the same two commands in ONE `virsh` shell kept open on the connection (libvirt's
//              own C client on a kept connection: the strongest baseline a user could pick)
// The lab hosts qemu:///system and lxc:///system are measured the same way when they have
// domains. Prints a table, the ratios against both baselines, whether the ≥10x goal over a process
// per round is met, and the process's peak RSS.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LibvirtBackend } from '../src/core/backends/libvirt';
import { testNodeXml } from './testhost';
import { virsh, VirshShell } from './virshShell';
import { median, timeRounds } from './util';

const BASELINE = 'virsh list --all + virsh domstats';
const KEPT = 'one kept virsh shell: list --all + domstats';
const GOAL = 10;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const ROUNDS = arg('rounds', 9);
const DOMAINS = arg('domains', 1000);

interface Row {
  host: string;
  domains: number;
  connectMs: number;
  coldListMs: number;
  listMs: number;
  statsMs: number;
  virtscopeMs: number;
  cliMs: number;
  cliWhat: string;
  /** The same commands in one kept `virsh` shell (undefined without bulk stats). */
  keptMs?: number;
  bulk: boolean | undefined;
}

async function measure(host: string, uri: string): Promise<Row | string> {
  const backend = new LibvirtBackend({ id: host, type: 'libvirt', uri });
  try {
    let t0 = performance.now();
    await backend.connect();
    const connectMs = performance.now() - t0;
    t0 = performance.now();
    const first = await backend.list();
    const coldListMs = performance.now() - t0;
    if (first.length === 0) return `${host}: no domains, skipped`;

    const listTimes: number[] = [];
    const statsTimes: number[] = [];
    let guests = 0;
    let records = 0;
    const vs = await timeRounds(ROUNDS, async () => {
      const a = performance.now();
      guests = (await backend.list()).length;
      const b = performance.now();
      records = (await backend.stats()).length;
      listTimes.push(b - a);
      statsTimes.push(performance.now() - b);
    });
    if (guests !== first.length || records !== first.length) throw new Error(`${host}: ${guests} guests, ${records} stats records, expected ${first.length}`);

    // The CLI path. Where the driver has no bulk stats (libvirt-LXC) `virsh domstats` fails,
    // so the CLI needs `virsh dominfo` per domain instead.
    const bulk = backend.hasBulkStats;
    const names = first.map((g) => g.name);
    const cliWhat = bulk ? BASELINE : `virsh list --all + ${names.length}× virsh dominfo`;
    const cli = await timeRounds(ROUNDS, async () => {
      const listed = await virsh(uri, 'list', '--all');
      if (bulk) {
        const stats = await virsh(uri, 'domstats');
        if ((stats.match(/^Domain: /gm) ?? []).length !== names.length) throw new Error(`${host}: virsh domstats did not list every domain`);
      } else {
        for (const n of names) await virsh(uri, 'dominfo', n);
      }
      if (listed.split('\n').length < names.length) throw new Error(`${host}: virsh list is short`);
    });
    // The strongest baseline: the same commands in one virsh shell kept open on the connection.
    let keptMs: number | undefined;
    if (bulk) {
      const shell = new VirshShell(uri);
      try {
        keptMs = median(
          await timeRounds(ROUNDS, async () => {
            const out = await shell.run('list --all', 'domstats');
            if ((out.match(/^Domain: /gm) ?? []).length !== names.length) throw new Error(`${host}: the kept virsh shell did not list every domain`);
          }),
        );
      } finally {
        shell.close();
      }
    }
    return {
      keptMs,
      host,
      domains: first.length,
      connectMs,
      coldListMs,
      listMs: median(listTimes.slice(1)),
      statsMs: median(statsTimes.slice(1)),
      virtscopeMs: median(vs),
      cliMs: median(cli),
      cliWhat,
      bulk,
    };
  } catch (e) {
    return `${host}: not measured (${(e as Error).message})`;
  } finally {
    await backend.close().catch(() => undefined);
  }
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

async function main(): Promise<void> {
  const started = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-bench-'));
  const nodeXml = path.join(dir, 'node.xml');
  fs.writeFileSync(nodeXml, testNodeXml(DOMAINS));
  const hosts: [string, string][] = [
    [`test driver, ${DOMAINS} generated domains`, `test+unix://${nodeXml}`],
    ['lab qemu:///system', 'qemu:///system'],
    ['lab lxc:///system', 'lxc:///system'],
  ];
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    for (const [host, uri] of hosts) {
      const r = await measure(host, uri);
      if (typeof r === 'string') notes.push(r);
      else rows.push(r);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  console.log(`virtscope inventory benchmark: median of ${ROUNDS} rounds after 1 warm-up (libvirtd over its unix socket)`);
  console.log('');
  const header = ['host', 'domains', 'virtscope list()+stats()', '(list / stats)', 'kept virsh shell', 'kept/virtscope', 'CLI', 'cli/virtscope', 'CLI path'];
  const table = rows.map((r) => [
    r.host,
    String(r.domains),
    `${fmt(r.virtscopeMs)} ms`,
    `${fmt(r.listMs)} / ${fmt(r.statsMs)} ms`,
    r.keptMs === undefined ? '-' : `${fmt(r.keptMs)} ms`,
    r.keptMs === undefined ? '-' : `${(r.keptMs / r.virtscopeMs).toFixed(1)}x`,
    `${fmt(r.cliMs)} ms`,
    `${(r.cliMs / r.virtscopeMs).toFixed(1)}x`,
    r.cliWhat + (r.bulk === false ? ' (no bulk stats: per-domain fallback)' : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? header[i].length : w)).join('  '));
  for (const row of table) console.log(line(row));
  for (const n of notes) console.log(`(${n})`);
  console.log('');
  console.log('One-off costs (not in the rounds). The test driver parses its node XML on every connect, which every');
  console.log('virsh spawn pays too; its bulk stats carry only state.*, so the first list() fetches sizes per domain.');
  for (const r of rows) {
    console.log(`${r.host}: connect ${fmt(r.connectMs)} ms, first list() ${fmt(r.coldListMs)} ms`);
  }
  const main = rows.find((r) => r.cliWhat === BASELINE);
  if (main) {
    const ratio = main.cliMs / main.virtscopeMs;
    console.log('');
    console.log(`baseline "${BASELINE}" (${main.host}): cli/virtscope = ${ratio.toFixed(1)}x`);
    console.log(`goal ≥${GOAL}x: ${ratio >= GOAL ? 'met' : 'not met'}`);
    if (main.keptMs !== undefined)
      console.log(`baseline "${KEPT}" (${main.host}), the strongest a user could pick: kept/virtscope = ${(main.keptMs / main.virtscopeMs).toFixed(1)}x`);
  } else {
    console.log(`baseline "${BASELINE}": not measured`);
  }
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
