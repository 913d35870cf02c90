// Language-server benchmark: start time, and diagnostics latency on a 300-line domain XML.
//   node --import tsx bench/language.ts [--rounds N]
// Measured in the same run, median of N rounds after a warm-up:
//   start:        spawn `node dist/server.js --stdio` → initialize answered (baseline: a bare `node -e ""` spawn)
//   diagnostics:  didChange → publishDiagnostics for the 300-line domain, valid and schema-invalid
//                 (baseline: `xmllint --noout --relaxng domain.rng` alone on the same file)
//   first open:   didOpen → publishDiagnostics in a fresh server (the RNG model is parsed only for invalid documents)
//   completion:   a completion request inside <devices> of the same document
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LspClient, positionOf, serverBundle } from '../test/lsp-client';
import { median } from './util';

const ROUNDS = (() => {
  const i = process.argv.indexOf('--rounds');
  return i >= 0 ? Number(process.argv[i + 1]) : 9;
})();
const SCHEMA = '/usr/share/libvirt/schemas/domain.rng';
const BASELINE = 'xmllint --noout --relaxng domain.rng (alone, same file)';

/** A valid domain of exactly 300 lines: the fixture plus disks and interfaces. */
function domain300(): string {
  const base = fs.readFileSync(path.join(__dirname, '../test/fixtures/language/domain.xml'), 'utf8').trimEnd().split('\n');
  const at = base.findIndex((l) => l.includes('<memballoon'));
  const extra: string[] = [];
  let i = 0;
  const disk = (n: number) => [
    `    <disk type='file' device='disk'>`,
    `      <driver name='qemu' type='qcow2' cache='none' io='native'/>`,
    `      <source file='/var/lib/libvirt/images/data-${n}.qcow2'/>`,
    `      <target dev='vd${String.fromCharCode(98 + (n % 24))}${n >= 24 ? n : ''}' bus='virtio'/>`,
    `    </disk>`,
  ];
  const nic = (n: number) => [
    `    <interface type='network'>`,
    `      <mac address='52:54:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}'/>`,
    `      <source network='default'/>`,
    `      <model type='virtio'/>`,
    `    </interface>`,
  ];
  while (base.length + extra.length + 5 <= 300) {
    extra.push(...(i % 2 ? nic(i) : disk(i)));
    i++;
  }
  const lines = [...base.slice(0, at), ...extra, ...base.slice(at)];
  while (lines.length < 300) lines.splice(at, 0, '    <!-- padding -->');
  return lines.join('\n') + '\n';
}

function timeProcess(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(file, args, (err) => {
      // xmllint exits 3 for an invalid document: still a complete run
      if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
      resolve(performance.now() - t);
    });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const text = domain300();
  const invalid = text.replace('<on_crash>destroy</on_crash>', '<on_crash>explode</on_crash>');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'virtscope-bench-'));
  const file = path.join(dir, 'domain.xml');
  const bad = path.join(dir, 'invalid.xml');
  fs.writeFileSync(file, text);
  fs.writeFileSync(bad, invalid);
  const server = await serverBundle();
  const rows: Array<[string, number, string, number]> = [];

  // baselines
  const nodeBare: number[] = [];
  const lintValid: number[] = [];
  const lintInvalid: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const a = await timeProcess(process.execPath, ['-e', '']);
    const b = await timeProcess('xmllint', ['--noout', '--relaxng', SCHEMA, file]);
    const c = await timeProcess('xmllint', ['--noout', '--relaxng', SCHEMA, bad]);
    if (r === 0) continue; // warm-up
    nodeBare.push(a);
    lintValid.push(b);
    lintInvalid.push(c);
  }

  // server start and first open, each in a fresh process
  const startMs: number[] = [];
  const firstOpen: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const t = performance.now();
    const c = await LspClient.start(server);
    await c.initialize({ debounceMs: 0 });
    const s = performance.now() - t;
    const t2 = performance.now();
    const d = await c.open('virtscope-guest:/bench/domain.xml', 'xml', text);
    const o = performance.now() - t2;
    if (d.length) throw new Error(`the 300-line domain should be valid: ${JSON.stringify(d)}`);
    await c.shutdown();
    if (r === 0) continue;
    startMs.push(s);
    firstOpen.push(o);
  }

  // steady state in one server
  const c = await LspClient.start(server);
  await c.initialize({ debounceMs: 0 });
  const uri = 'virtscope-guest:/bench/domain.xml';
  await c.open(uri, 'xml', text);
  const valid: number[] = [];
  const invalidMs: number[] = [];
  const completion: number[] = [];
  const pos = positionOf(text, '    <memballoon');
  for (let r = 0; r <= ROUNDS; r++) {
    let t = performance.now();
    const d1 = await c.change(uri, `${text}<!-- ${r} -->\n`);
    const v = performance.now() - t;
    if (d1.length) throw new Error(`unexpected diagnostics: ${JSON.stringify(d1)}`);
    t = performance.now();
    const d2 = await c.change(uri, invalid);
    const iv = performance.now() - t;
    if (!d2.some((x) => /explode/.test(x.message))) throw new Error(`the invalid edit was not reported: ${JSON.stringify(d2)}`);
    await c.change(uri, text);
    t = performance.now();
    const items = await c.completion(uri, pos.line, 4);
    const cm = performance.now() - t;
    if (!items.some((i) => i.label === 'disk')) throw new Error('no <disk> in the completion');
    if (r === 0) continue;
    valid.push(v);
    invalidMs.push(iv);
    completion.push(cm);
  }
  await c.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });

  rows.push(['server start (spawn → initialize answered)', median(startMs), 'bare `node -e ""` spawn', median(nodeBare)]);
  rows.push(['first didOpen → diagnostics (fresh server)', median(firstOpen), BASELINE, median(lintValid)]);
  rows.push(['didChange → diagnostics, valid', median(valid), BASELINE, median(lintValid)]);
  rows.push(['didChange → diagnostics, schema-invalid', median(invalidMs), `${BASELINE}, invalid file`, median(lintInvalid)]);
  rows.push(['completion inside <devices>', median(completion), '-', NaN]);

  console.log('');
  console.log(
    `virtscope language-server benchmark: 300-line domain XML (${text.split('\n').length - 1} lines, ${text.length} bytes), median of ${ROUNDS} rounds after 1 warm-up`,
  );
  console.log('');
  const fmt = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1));
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  console.log(`${'measure'.padEnd(w0)}  ${'ms'.padStart(7)}  ${'baseline'.padEnd(w2)}  ${'ms'.padStart(7)}  overhead`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(7)}  ${'-'.repeat(w2)}  ${'-'.repeat(7)}  --------`);
  for (const [m, ms, b, bms] of rows) {
    const over = Number.isNaN(bms) ? '' : `${ms - bms >= 0 ? '+' : ''}${(ms - bms).toFixed(1)} ms`;
    console.log(`${m.padEnd(w0)}  ${fmt(ms).padStart(7)}  ${b.padEnd(w2)}  ${fmt(bms).padStart(7)}  ${over}`);
  }
  console.log('');
  console.log(
    `baseline "${BASELINE}": ${fmt(median(lintValid))} ms valid, ${fmt(median(lintInvalid))} ms invalid; server diagnostics − baseline: ${fmt(median(valid) - median(lintValid))} ms valid, ${fmt(median(invalidMs) - median(lintInvalid))} ms invalid (temp file, JSON-RPC, schema-model pinpointing)`,
  );
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
