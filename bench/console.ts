// Console benchmark (#16): Open Console's path against `virsh console` on the lab's labvm, and the
// graphical console's bridge against the same RFB client without it.
//   node --import tsx bench/console.ts [--echoes 200] [--kib 256] [--cats 2] [--fps-seconds 2] [--fps-rounds 8]
// In the same run, paths alternating in ABBA order so drift over the run hits both alike:
//   1) keystroke echo: one letter typed into labvm's serial shell, timed until its echo comes back;
//      --echoes per path after a warm-up block, in blocks of 20 (one console client at a time: each
//      block opens the console, types, clears the line and closes it);
//   2) throughput: `cat` of a base64 file the guest agent wrote in the guest's /tmp (--kib KiB),
//      timed from Enter until an end marker the shell prints after it, --cats per path; with the
//      console client's CPU time over it (this process, or virsh; /proc schedstat for virsh);
//   3) graphical console: updates per second while a guest's screen scrolls (bench/screenFps.ts),
//      through the extension's bridge vs straight on the same stream, --fps-rounds blocks of
//      --fps-seconds per way (short blocks, many: the TCG guest's scrolling pace drifts with the load).
// Paths (bench/consolePaths.ts): virtscope = ConsoleSession on the libvirt console stream of a kept
// RPC connection (what Open Console's terminal drives; the terminal's UTF-8 decoding is not in it);
// baseline = `virsh console` on a pty held by util-linux `script` (libvirt's own C client, the
// strongest a user could pick). Never takes the console from another client: waits while it is held. Leaves
// labvm as it was (its shell at an empty prompt, the file removed); the scrolling guest is removed.
// Graphical figures are updates answered per second, QEMU sending at most one per display refresh
// (~30 ms); raw encoding, so the bytes are as many as the bridge could ever carry for that screen.
// Goal (issue #16): echo not slower than virsh console, and under 20 ms on this host.
import * as os from 'node:os';
import { LibvirtBackend } from '../src/core/backends/libvirt';
import { requireCapability } from '../src/core/capabilities';
import type { Guest } from '../src/core/model';
import { atPrompt, echoRoundTrips, LAB_CONSOLE, openVirshConsole, openVirtscopeConsole, openWhenFree, runToMarker, type ConsolePath } from './consolePaths';
import { fpsBlock, startScrollingGuest, whenScrolling, type FpsBlock, type ScrollingGuest, type Via } from './screenFps';
import { arg, median, medianCi, p95 } from './util';

const URI = LAB_CONSOLE.uri;
const GUEST = LAB_CONSOLE.guest;
const ECHOES = Number(arg('echoes', '200'));
const BLOCK = 20;
const KIB = Number(arg('kib', '256'));
const CATS = Number(arg('cats', '2'));
const FPS_SECONDS = Number(arg('fps-seconds', '2'));
const FPS_ROUNDS = Number(arg('fps-rounds', '8'));
const GOAL_MS = 20;
const FILE = `/tmp/vs-conbench-${process.pid}.b64`;

type PathName = 'virtscope' | 'virsh';
const LABEL: Record<PathName, string> = {
  virtscope: 'virtscope Open Console (libvirt console stream)',
  virsh: 'virsh console (baseline, on a pty from script)',
};

interface Ctx {
  readonly backend: LibvirtBackend;
  readonly guest: Guest;
}

/** n pairs in ABBA order: a b, b a, a b, … */
function abba<T>(a: T, b: T, pairs: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < pairs; i++) out.push(...(i % 2 ? [b, a] : [a, b]));
  return out;
}

/** Opens one path's console (waiting while another client holds it), at the prompt; always closes it. */
async function withConsole<T>(ctx: Ctx, which: PathName, fn: (p: ConsolePath) => Promise<T>): Promise<T> {
  const p = await openWhenFree(() => (which === 'virtscope' ? openVirtscopeConsole(ctx.backend, ctx.guest) : openVirshConsole()));
  try {
    await atPrompt(p);
    return await fn(p);
  } finally {
    await p.close();
  }
}

async function echoPhase(ctx: Ctx): Promise<Record<PathName, number[]>> {
  for (const w of ['virtscope', 'virsh'] as const) await withConsole(ctx, w, (p) => echoRoundTrips(p, BLOCK)); // warm-up
  const out: Record<PathName, number[]> = { virtscope: [], virsh: [] };
  for (const w of abba<PathName>('virtscope', 'virsh', Math.ceil(ECHOES / BLOCK))) out[w].push(...(await withConsole(ctx, w, (p) => echoRoundTrips(p, BLOCK))));
  return out;
}

interface Cat {
  readonly ms: number;
  readonly bytes: number;
  /** CPU of the console client over the cat: this process, or virsh (and its pty relay, script). */
  readonly cpuMs: number;
  readonly relayCpuMs?: number;
}

interface Throughput {
  readonly cats: Record<PathName, Cat[]>;
  /** The guest's own `cat` of the file to /dev/null, s (its uptime clock: 10 ms steps). */
  readonly guestCatS: number;
}

async function throughputPhase(ctx: Ctx): Promise<Throughput> {
  const exec = requireCapability(ctx.backend, ctx.guest, 'exec');
  const made = await exec.exec(['sh', '-c', 'head -c "$1" /dev/urandom | base64 > "$2"', 'sh', String(KIB * 768), FILE], { timeoutMs: 300_000 });
  if (made.exitCode !== 0) throw new Error(`writing ${FILE} in ${GUEST} failed: ${made.stderr.trim()}`);
  const t = await exec.exec(['sh', '-c', 'a=$(cut -d" " -f1 /proc/uptime); cat "$1" > /dev/null; echo $a $(cut -d" " -f1 /proc/uptime)', 'sh', FILE]);
  const [a, b] = t.stdout.trim().split(' ').map(Number);
  const cats: Throughput['cats'] = { virtscope: [], virsh: [] };
  for (const w of abba<PathName>('virtscope', 'virsh', CATS)) cats[w].push(await withConsole(ctx, w, (p) => runToMarker(p, `cat ${FILE}`, 900_000)));
  return { cats, guestCatS: b - a };
}

async function removeFile(ctx: Ctx): Promise<void> {
  await requireCapability(ctx.backend, ctx.guest, 'exec')
    .exec(['rm', '-f', FILE])
    .catch((e: Error) => console.error(`could not remove ${FILE} in ${GUEST}: ${e.message}`));
}

async function fpsPhase(
  backend: LibvirtBackend,
  onGuest: (g: ScrollingGuest | undefined) => void,
): Promise<{ blocks: Record<Via, FpsBlock[]>; bootS: number } | string> {
  const g = await startScrollingGuest(backend, `vs-conbench-vnc-${process.pid}`);
  if (!g) return 'not measured: the lab guest kernel is not built (bash scripts/lab.sh build)';
  onGuest(g);
  try {
    const bootS = (await whenScrolling(g.graphics, 300_000)) / 1000;
    const blocks: Record<Via, FpsBlock[]> = { direct: [], bridge: [] };
    for (const via of abba<Via>('direct', 'bridge', FPS_ROUNDS)) blocks[via].push(await fpsBlock(g.graphics, via, FPS_SECONDS));
    return { blocks, bootS };
  } finally {
    onGuest(undefined);
    await g.remove();
  }
}

const f1 = (x: number) => x.toFixed(1);
const ci = ([lo, hi]: [number, number]) => `${f1(lo)}–${f1(hi)}`;

function reportEcho(e: Record<PathName, number[]>): void {
  console.log(`\n1) keystroke echo round trip, ${e.virtscope.length} per path after a warm-up block (ABBA blocks of ${BLOCK})`);
  console.log(`${'path'.padEnd(50)}  median (95 % CI)      p95     max`);
  for (const w of ['virtscope', 'virsh'] as const)
    console.log(
      `${LABEL[w].padEnd(50)}  ${f1(median(e[w])).padStart(5)} ms (${ci(medianCi(e[w]))})  ${f1(p95(e[w])).padStart(5)}  ${f1(Math.max(...e[w])).padStart(6)} ms`,
    );
  const [v, b] = [median(e.virtscope), median(e.virsh)];
  const [vCi, bCi] = [medianCi(e.virtscope), medianCi(e.virsh)];
  const notSlower = v <= b || vCi[0] <= bCi[1];
  console.log(`baseline "virsh console": virtscope/virsh median = ${(v / b).toFixed(2)}x`);
  console.log(
    `goal "not slower, and under ${GOAL_MS} ms": ${notSlower && v < GOAL_MS ? 'met' : 'NOT met'} (median ${f1(v)} ms, ${v <= b ? 'faster than' : notSlower ? 'within the noise of' : 'slower than'} virsh console)`,
  );
}

function reportThroughput(t: Throughput): void {
  const kibs = (c: Cat) => c.bytes / 1024 / (c.ms / 1000);
  const perMib = (ms: number, c: Cat) => ms / (c.bytes / 1048576);
  console.log(`\n2) \`cat\` of a ${KIB} KiB base64 file in the guest until the end marker, ${t.cats.virtscope.length} per path (ABBA)`);
  for (const w of ['virtscope', 'virsh'] as const) {
    const r = t.cats[w].map(kibs);
    const cpu = median(t.cats[w].map((c) => perMib(c.cpuMs, c)));
    const relay =
      t.cats[w][0]?.relayCpuMs === undefined ? '' : ` (+ ${median(t.cats[w].map((c) => perMib(c.relayCpuMs!, c))).toFixed(0)} ms in script's pty relay)`;
    console.log(
      `${LABEL[w].padEnd(50)}  median ${f1(median(r)).padStart(6)} KiB/s  (${r.map(f1).join(', ')}; ${f1(median(t.cats[w].map((c) => c.ms)) / 1000)} s per cat)`,
    );
    console.log(`${''.padEnd(50)}  client CPU ${cpu.toFixed(0)} ms per MiB${relay}`);
  }
  const [v, b] = [median(t.cats.virtscope.map(kibs)), median(t.cats.virsh.map(kibs))];
  console.log(`baseline "virsh console": virtscope/virsh = ${(v / b).toFixed(2)}x`);
  console.log(`the guest's own cat of the file to /dev/null: ${t.guestCatS.toFixed(2)} s — the emulated serial line is the limit`);
  console.log(`at this rate 10 MiB would take ${((10 * 1024) / Math.max(v, b) / 60).toFixed(1)} min per cat: hence ${KIB} KiB (--kib)`);
}

function reportFps(r: { blocks: Record<Via, FpsBlock[]>; bootS: number } | string): void {
  console.log(`\n3) graphical console while the guest's text screen scrolls, ${FPS_ROUNDS} blocks of ${FPS_SECONDS} s per way (ABBA)`);
  if (typeof r === 'string') return void console.log(r);
  const label: Record<Via, string> = { bridge: 'through the bridge (VncBridge, base64 messages)', direct: 'same stream, no bridge (baseline)' };
  for (const via of ['bridge', 'direct'] as const) {
    const bs = r.blocks[via];
    const fps = bs.map((b) => b.updates / b.seconds);
    const mbs = median(bs.map((b) => b.pixelBytes / 1e6 / b.seconds));
    const share = median(bs.map((b) => b.pixelBytes / b.updates / b.screenBytes));
    const cpu = median(bs.map((b) => b.cpuMs / 10 / b.seconds));
    console.log(
      `${label[via].padEnd(50)}  median ${f1(median(fps)).padStart(5)} updates/s (${fps.map(f1).join(', ')}), ${f1(mbs)} MB/s raw pixels (${(share * 100).toFixed(0)} % of the screen per update), bench process CPU ${cpu.toFixed(0)} %`,
    );
  }
  const ratio = median(r.blocks.bridge.map((b) => b.updates / b.seconds)) / median(r.blocks.direct.map((b) => b.updates / b.seconds));
  console.log(`baseline "same stream, no bridge": bridge/direct updates per second = ${ratio.toFixed(2)}x`);
  console.log(`(the scrolling guest booted and scrolled after ${f1(r.bootS)} s; QEMU sends at most one update per ~30 ms refresh)`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const backend = new LibvirtBackend({ id: 'bench-console', type: 'libvirt', uri: URI });
  await backend.connect();
  let scrolling: ScrollingGuest | undefined;
  let ctx: Ctx | undefined;
  const interrupted = async () => {
    await scrolling?.remove();
    if (ctx) await removeFile(ctx);
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
  try {
    const guest = (await backend.list()).find((g) => g.name === GUEST);
    if (!guest || guest.state !== 'running') throw new Error(`${GUEST} is not running on ${URI}: bring the lab up (bash scripts/lab.sh up)`);
    ctx = { backend, guest };
    const tcg = /<domain type='qemu'/.test(await (await backend.client()).domainGetXMLDesc(await (await backend.client()).domainLookupByName(GUEST), 0));
    console.log(`virtscope console benchmark: ${GUEST} on ${URI} (${tcg ? 'TCG: no KVM on this host, every guest instruction emulated' : 'KVM'})`);
    console.log(`host ${os.hostname()}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)} at the start`);
    reportEcho(await echoPhase(ctx));
    try {
      reportThroughput(await throughputPhase(ctx));
    } finally {
      await removeFile(ctx);
    }
    reportFps(await fpsPhase(backend, (g) => (scrolling = g)));
  } finally {
    await backend.close();
  }
  console.log(
    `\nload ${os.loadavg()[0].toFixed(2)} at the end; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; total ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}

main().catch((e) => {
  console.error(`bench console: ${(e as Error).message}`);
  process.exit(1);
});
