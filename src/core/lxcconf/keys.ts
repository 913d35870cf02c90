// LXC container configuration: the keys lxc.container.conf(5) documents (keys.json, generated from
// the man page by scripts/gen-lxc-keys.mjs), and checks of a config's lines against them.
import table from './keys.json';

export type ValueForm = 'boolean' | 'enum' | 'number' | 'path' | 'string';

export interface KeyInfo {
  /** As the man page writes it: lxc.net.[i].type */
  readonly key: string;
  readonly pattern: string;
  readonly section: string;
  readonly form: ValueForm;
  readonly values?: readonly string[];
  readonly doc: string;
}

export const LXC_KEYS_SOURCE: string = table.source;
export const LXC_KEYS: readonly KeyInfo[] = table.keys as KeyInfo[];
const COMPILED = LXC_KEYS.map((k) => ({ info: k, re: new RegExp(k.pattern) }));

/**
 * Keys LXC 2.x used and LXC 3.0 renamed; liblxc 3+ refuses the old names. The renames are those
 * lxc-update-config(1) (/usr/bin/lxc-update-config, lxc package) performs.
 */
export const LEGACY_KEYS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^lxc\.network\.(\d+)\.ipv4$/, 'lxc.net.$1.ipv4.address'],
  [/^lxc\.network\.(\d+)\.ipv6$/, 'lxc.net.$1.ipv6.address'],
  [/^lxc\.network\.(\d+)\.(.*)$/, 'lxc.net.$1.$2'],
  [/^lxc\.network\.type$/, 'lxc.net.0.type'],
  [/^lxc\.network\.(.*)$/, 'lxc.net.0.$1'],
  [/^lxc\.utsname$/, 'lxc.uts.name'],
  [/^lxc\.rootfs$/, 'lxc.rootfs.path'],
  [/^lxc\.rootfs\.backend$/, '(removed: the storage type is part of lxc.rootfs.path)'],
  [/^lxc\.tty$/, 'lxc.tty.max'],
  [/^lxc\.devttydir$/, 'lxc.tty.dir'],
  [/^lxc\.pts$/, 'lxc.pty.max'],
  [/^lxc\.id_map$/, 'lxc.idmap'],
  [/^lxc\.aa_profile$/, 'lxc.apparmor.profile'],
  [/^lxc\.aa_allow_incomplete$/, 'lxc.apparmor.allow_incomplete'],
  [/^lxc\.se_context$/, 'lxc.selinux.context'],
  [/^lxc\.haltsignal$/, 'lxc.signal.halt'],
  [/^lxc\.rebootsignal$/, 'lxc.signal.reboot'],
  [/^lxc\.stopsignal$/, 'lxc.signal.stop'],
  [/^lxc\.init_cmd$/, 'lxc.init.cmd'],
  [/^lxc\.init_uid$/, 'lxc.init.uid'],
  [/^lxc\.init_gid$/, 'lxc.init.gid'],
  [/^lxc\.loglevel$/, 'lxc.log.level'],
  [/^lxc\.logfile$/, 'lxc.log.file'],
  [/^lxc\.console$/, 'lxc.console.path'],
  [/^lxc\.seccomp$/, 'lxc.seccomp.profile'],
  [/^lxc\.mount$/, 'lxc.mount.fstab'],
  [/^lxc\.limit\.(.*)$/, 'lxc.prlimit.$1'],
  [/^lxc\.syslog$/, 'lxc.log.syslog'],
  [/^lxc\.pivotdir$/, '(removed in LXC 3.0: delete the line)'],
  [/^lxc\.kmsg$/, '(removed in LXC 3.0: delete the line)'],
];

/** The documented key a config key is an instance of (exact keys win over placeholders). */
export function lookupKey(key: string): KeyInfo | undefined {
  let wild: KeyInfo | undefined;
  for (const { info, re } of COMPILED) {
    if (!re.test(key)) continue;
    if (!info.key.includes('[')) return info;
    wild ??= info;
  }
  return wild;
}

export interface ConfigLine {
  /** 0-based line number. */
  readonly line: number;
  readonly key: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  /** undefined when the line has no `=`. */
  readonly value?: string;
  readonly valueStart?: number;
  readonly valueEnd?: number;
}

/** Non-blank, non-comment lines of a config, with positions. */
export function configLines(text: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  text.split('\n').forEach((raw, line) => {
    const s = raw.replace(/\r$/, '');
    const ks = s.search(/\S/);
    if (ks < 0 || s[ks] === '#') return;
    const eq = s.indexOf('=');
    if (eq < 0) {
      const ke = ks + /^\S*/.exec(s.slice(ks))![0].length;
      out.push({ line, key: s.slice(ks, ke), keyStart: ks, keyEnd: ke });
      return;
    }
    const key = s.slice(ks, eq).trimEnd();
    const vs0 = eq + 1 + /^\s*/.exec(s.slice(eq + 1))![0].length;
    const value = s.slice(vs0).trimEnd();
    out.push({ line, key, keyStart: ks, keyEnd: ks + key.length, value, valueStart: vs0, valueEnd: vs0 + value.length });
  });
  return out;
}

export interface ConfigProblem {
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** A replacement for the key or value, for a quick fix. */
  readonly replacement?: string;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

/** Concrete spelling of a documented key for suggestions (lxc.net.[i].type → lxc.net.0.type). */
function concrete(k: KeyInfo, like: string): string {
  const idx = /^lxc\.net\.(\d+)\./.exec(like)?.[1] ?? '0';
  return k.key.replace('[i]', idx);
}

/** The closest documented key, if it is close enough to be a typo. */
export function suggestKey(key: string): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const info of LXC_KEYS) {
    if (info.key.includes('[') && !info.key.includes('[i]')) continue;
    const c = concrete(info, key);
    const d = distance(key, c);
    if (!best || d < best.d) best = { k: c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(key.length / 6)) ? best.k : undefined;
}

/** Checks a config against lxc.container.conf(5): unknown or renamed keys, values outside a key's list. */
export function lintLxcConfig(text: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const l of configLines(text)) {
    if (l.value === undefined) {
      out.push({
        line: l.line,
        start: l.keyStart,
        end: l.keyEnd,
        severity: 'error',
        message: `"${l.key}" is not a "key = value" line; liblxc refuses to load the config`,
      });
      continue;
    }
    const info = lookupKey(l.key);
    if (!info) {
      const legacy = LEGACY_KEYS.find(([re]) => re.test(l.key));
      if (legacy) {
        const now = l.key.replace(legacy[0], legacy[1]);
        const fix = now.startsWith('(') ? now.slice(1, -1) : `use ${now} (lxc-update-config converts a whole file)`;
        out.push({
          line: l.line,
          start: l.keyStart,
          end: l.keyEnd,
          severity: 'error',
          message: `${l.key} is a pre-3.0 key that liblxc no longer reads: ${fix}`,
          replacement: now.startsWith('(') ? undefined : now,
        });
        continue;
      }
      const s = suggestKey(l.key);
      out.push({
        line: l.line,
        start: l.keyStart,
        end: l.keyEnd,
        severity: 'warning',
        message: `Unknown key ${l.key}: lxc.container.conf(5) does not document it, and liblxc refuses to load a config with an unsupported key${s ? `. Did you mean ${s}?` : ''}`,
        replacement: s,
      });
      continue;
    }
    // an empty value clears list keys (lxc.net =, lxc.cap.drop =): always allowed
    if (!l.value || !info.values?.length) continue;
    const v = l.value.replace(/^"(.*)"$/, '$1');
    if (info.key === 'lxc.log.level' ? info.values.includes(v.toUpperCase()) : info.values.includes(v)) continue;
    out.push({
      line: l.line,
      start: l.valueStart!,
      end: l.valueEnd!,
      severity: 'warning',
      message: `${v} is not one of the values lxc.container.conf(5) gives for ${info.key}: ${info.values.join(', ')}`,
    });
  }
  return out;
}
