// Generates src/core/lxcconf/keys.json — the LXC container configuration keys with their value
// forms — from the lxc.container.conf(5) man page that Debian's `lxc` package installs.
//   node scripts/gen-lxc-keys.mjs [man-page.5.gz] [--check]
// --check: exit 1 when the committed table differs from what the man page gives (used by a unit
// test where the man page is installed). The table is committed so a build needs no lxc package.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const manPath = args.find((a) => !a.startsWith('--')) ?? '/usr/share/man/man5/lxc.container.conf.5.gz';
const outPath = path.join(root, 'src/core/lxcconf/keys.json');

/** roff → plain text, keeping **bold** marks so value lists can be read from them. */
function plain(s) {
  return s
    .replace(/\\\*\(T[<>]/g, '')
    .replace(/\\f[BI]/g, '\u0001')
    .replace(/\\f[RP]/g, '\u0002')
    .replace(/\\-/g, '-')
    .replace(/\\\(la/g, '<')
    .replace(/\\\(ra/g, '>')
    .replace(/\\e/g, '\\')
    .replace(/\\&/g, '')
    .replace(/\\ /g, ' ');
}
const bolds = (s) => [...s.matchAll(/\u0001([^\u0002]*)\u0002/g)].map((m) => m[1].trim());
const unmark = (s) => s.replace(/[\u0001\u0002]/g, '');
const clean = (s) =>
  unmark(s)
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();

/** `lxc.net.[i].type` → a regular expression source for real keys such as lxc.net.0.type. */
function keyPattern(key) {
  const parts = key.split(/(\[[^\]]+\])/).filter(Boolean);
  const src = parts
    .map((p, i) => {
      if (p === '[i]') return '\\d+';
      // the last placeholder may itself contain dots (lxc.sysctl.net.ipv4.ip_forward)
      if (p.startsWith('[')) return i === parts.length - 1 ? '[^\\s=]+' : '[^.\\s=]+';
      return p.replace(/[.+*?^$(){}|\\]/g, '\\$&');
    })
    .join('');
  return `^${src}$`;
}

/** Enumerated values a description gives for its key, and the form of the value. */
function valueForm(key, desc, prose = false) {
  const text = unmark(desc).replace(/\s+/g, ' ');
  let values;
  let m;
  // "none: …", "veth: …": bold words with a colon starting a paragraph name the choices
  const colon = prose ? [] : [...desc.matchAll(/(?:^|\n)\u0001(\w+):\u0002/g)].map((x) => x[1]);
  if (colon.length) values = colon;
  else if ((m = /only allowed values are (\S+) and (\S+?)\.?(?:\s|$)/i.exec(text)) || (m = /valid values are (0)\b.* and (1)\b/i.exec(text)))
    values = [m[1], m[2]];
  else if (/^(set this to [01]\b|if set this to 1\b|if this flag is set to 1\b)|\bset to 1\b/i.test(text)) values = ['0', '1'];
  else if ((m = /integer in the range of (\d+)\.\.(\d+)/.exec(text))) {
    const named = [...text.matchAll(/(\d+) = (\w+)/g)].map((x) => x[2].toUpperCase());
    values = [];
    for (let i = +m[1]; i <= +m[2]; i++) values.push(String(i));
    values.push(...named);
  } else {
    // "Some valid options are x86, i686 …", "The accepted modes are bridge and router" (bold tokens)
    const sentence = desc.split(/(?<=\.)\s/).find((s) => /(valid options are|accepted [a-z ]*are|valid ones are)/i.test(unmark(s).replace(/\s+/g, ' ')));
    if (sentence) {
      const b = bolds(sentence).filter((x) => !/^lxc\./.test(x));
      if (b.length) values = b;
      else {
        const list = /(?:valid ones are|valid options are):?\s*([^.]+)/i.exec(unmark(sentence).replace(/\s+/g, ' '));
        if (list)
          values = list[1]
            .split(/,|\band\b/)
            .map((x) => x.trim())
            .filter(Boolean);
      }
    }
  }
  if (values) values = [...new Set(values.map((v) => v.replace(/[.,]$/, '')))];
  let form = 'string';
  if (values && values.join() === '0,1') form = 'boolean';
  else if (values) form = 'enum';
  else if (/^lxc\.hook\.(?!version)/.test(key) || /\b(path|file) (to|of)\b|absolute path|\bpath\b/i.test(text.split('. ')[0])) form = 'path';
  else if (/\b(number|integer|size|in seconds|delay|uid|gid|mtu)\b/i.test(text.split('. ')[0]) || /\.(mtu|uid|gid|delay|order|max|size)$/.test(key))
    form = 'number';
  return { form, values };
}

function parse(roff) {
  const lines = roff.split('\n');
  const keys = [];
  let section = '';
  let cur;
  let inExample = false;
  const flush = () => {
    if (cur) keys.push(cur);
    cur = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.startsWith('.SH') || raw.startsWith('.SS')) {
      flush();
      section = raw
        .replace(/^\.S[HS]\s*/, '')
        .replace(/"/g, '')
        .trim();
      continue;
    }
    if (raw.startsWith('.TP')) {
      flush();
      const head = plain(lines[++i] ?? '');
      const key = unmark(head).trim();
      if (/^lxc\.[\w.[\] -]+$/.test(key)) cur = { key: key.replace(/\s+/g, ' '), section, desc: '' };
      continue;
    }
    if (!cur) continue;
    if (raw.startsWith('.nf')) inExample = true;
    if (raw.startsWith('.fi')) inExample = false;
    if (raw.startsWith('.')) {
      if (raw.startsWith('.PP')) cur.desc += '\n';
      continue;
    }
    cur.desc += (inExample ? '    ' : '') + plain(raw) + '\n';
  }
  flush();

  const out = [];
  const seen = new Set();
  const documented = new Set(keys.map((k) => k.key));
  for (const k of keys) {
    if (seen.has(k.key)) continue;
    seen.add(k.key);
    const { form, values } = valueForm(k.key, k.desc);
    const doc = clean(k.desc);
    out.push({ key: k.key, pattern: keyPattern(k.key), section: titleCase(k.section), form, ...(values ? { values } : {}), doc });
    // keys the description introduces in passing (lxc.net.[i].veth.pair, …): their sentences are their doc
    const sentences = k.desc.split(/(?<=\.)\s+/);
    for (let s = 0; s < sentences.length; s++) {
      for (const b of bolds(sentences[s])) {
        if (!/^lxc\.[\w.[\]-]+$/.test(b) || seen.has(b) || documented.has(b) || !/\b(specifies|options?)\b/.test(unmark(sentences[s]))) continue;
        if (!b.startsWith(k.key.replace(/\.[^.]+$/, '.'))) continue;
        seen.add(b);
        let e = s + 1;
        while (e < sentences.length && !bolds(sentences[e]).some((x) => /^lxc\./.test(x))) e++;
        const own = sentences.slice(s, e).join(' ');
        const vf = valueForm(b, own, true);
        out.push({
          key: b,
          pattern: keyPattern(b),
          section: titleCase(k.section),
          form: vf.form,
          ...(vf.values ? { values: vf.values } : {}),
          doc: clean(own),
        });
      }
    }
  }
  return out;
}

function titleCase(s) {
  return s.toLowerCase().replace(/\b\w/g, (c) => c.toUpperCase());
}

function lxcVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'lxc'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const roff = zlib.gunzipSync(fs.readFileSync(manPath)).toString('utf8');
const table = {
  source: `lxc.container.conf(5), ${path.basename(manPath)} of Debian package lxc ${lxcVersion()}; generated by scripts/gen-lxc-keys.mjs`,
  keys: parse(roff),
};
const text = JSON.stringify(table, null, 1) + '\n';
if (check) {
  const have = fs.existsSync(outPath) ? fs.readFileSync(outPath, 'utf8') : '';
  const a = JSON.parse(have || '{"keys":[]}').keys;
  if (JSON.stringify(a) !== JSON.stringify(table.keys)) {
    console.error(`${path.relative(root, outPath)} is not what ${manPath} gives: run node scripts/gen-lxc-keys.mjs`);
    process.exit(1);
  }
  console.log(`${path.relative(root, outPath)}: ${a.length} keys, matches ${manPath}`);
} else {
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, text);
  console.log(`${path.relative(root, outPath)}: ${table.keys.length} keys from ${manPath}`);
}
