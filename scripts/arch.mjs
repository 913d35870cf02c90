// Draws the README's architecture picture from the real imports: every relative import between
// files of src/ and media/ becomes an edge between the layers the two files belong to.
// `node scripts/arch.mjs` prints the Mermaid block; `--write` puts it into README.md between its
// markers; `--check` exits 1 when README.md differs.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

// first match wins; order from the most specific
const LAYERS = [
  ['hosts', /^src\/core\/(host\/|exec\.ts$)/], // exec.ts: running a program on a Host, with its errors
  ['capabilities', /^src\/core\/capabilities\.ts$/],
  ['backends', /^src\/core\/(backends|libvirt)\//],
  ['connections', /^src\/core\/(connection|model|hosts|inventory|treeModel|config|settings)\.ts$/],
  ['features', /^src\/core\//],
  ['protocol', /^src\/protocol\//],
  ['language server', /^src\/language\//],
  ['views', /^(src\/views|media)\//],
  ['extension', /^src\/extension\//],
];

function layerOf(file) {
  return LAYERS.find(([, re]) => re.test(file))?.[0];
}

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|require\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function resolveImport(from, spec) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const cand of [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')]) {
    if (fs.existsSync(path.join(ROOT, cand)) && fs.statSync(path.join(ROOT, cand)).isFile()) return cand;
  }
  return undefined;
}

export function edges() {
  const counts = new Map();
  const files = [...sources('src'), ...sources('media').filter((f) => !f.includes('/node_modules/'))];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = resolveImport(file, m[1] ?? m[2] ?? m[3]);
      const a = layerOf(file);
      const b = target && layerOf(target);
      if (!a || !b || a === b) continue;
      counts.set(`${a}\0${b}`, (counts.get(`${a}\0${b}`) ?? 0) + 1);
    }
  }
  return [...counts].map(([k, n]) => [...k.split('\0'), n]).sort((x, y) => (x[0] + x[1]).localeCompare(y[0] + y[1]));
}

export function mermaid() {
  const id = (l) => l.replace(/\W/g, '_');
  const lines = ['```mermaid', 'graph TD'];
  for (const [a, b, n] of edges()) lines.push(`  ${id(a)}["${a}"] -->|${n}| ${id(b)}["${b}"]`);
  lines.push('```');
  return lines.join('\n');
}

const BEGIN = '<!-- architecture picture: node scripts/arch.mjs -->';
const END = '<!-- end of the architecture picture -->';

export function readmeBlock() {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  return i < 0 || j < 0 ? undefined : text.slice(i + BEGIN.length, j).trim();
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const block = mermaid();
  if (process.argv.includes('--write')) {
    const file = path.join(ROOT, 'README.md');
    const text = fs.readFileSync(file, 'utf8');
    const i = text.indexOf(BEGIN);
    const j = text.indexOf(END);
    if (i < 0 || j < 0) throw new Error(`README.md has no markers ${BEGIN} … ${END}`);
    fs.writeFileSync(file, `${text.slice(0, i + BEGIN.length)}\n${block}\n${text.slice(j)}`);
  } else if (process.argv.includes('--check')) {
    if (readmeBlock() !== block) {
      console.error('README.md architecture picture differs from the imports; run node scripts/arch.mjs and paste it between the markers');
      process.exit(1);
    }
  } else console.log(`${BEGIN}\n${block}\n${END}`);
}
