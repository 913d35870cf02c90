// An instance's config keys checked against the server's own list of them, where it has one
// (`/1.0/metadata/configuration`, API extension `metadata_configuration`; LXD 5.0 has not, and then
// only LXD's refusal on save says what is wrong). A typo such as `limits.cpus` is refused before the
// write with the key LXD knows (`limits.cpu`), the way `lxc config set` would refuse it.

/** GET /1.0/metadata/configuration: configs → entity ("instance", "server"…) → group → { keys: [{ name: details }] }. */
export interface LxdConfigMetadata {
  configs?: Record<string, Record<string, { keys?: Array<Record<string, { type?: string; shortdesc?: string }>> }>>;
  [key: string]: unknown;
}

/** The instance keys a server knows: exact names, and patterns (`user.*`, `limits.kernel.[limit_name]`). */
export class ConfigKeyCatalog {
  private readonly exact = new Set<string>();
  private readonly patterns: RegExp[] = [];

  constructor(names: Iterable<string>) {
    for (const n of names) {
      if (!/[*[<]/.test(n)) {
        this.exact.add(n);
        continue;
      }
      // "user.*" any rest; "limits.kernel.[limit_name]" or "<name>" any one segment
      const re = n
        .split(/(\*|\[[^\]]*\]|<[^>]*>)/)
        .map((part) => (part === '*' ? '.+' : /^[[<]/.test(part) ? '[^.]+' : part.replace(/[.+?^${}()|\\]/g, '\\$&')))
        .join('');
      this.patterns.push(new RegExp(`^${re}$`));
    }
  }

  /** The instance entity's keys of a metadata answer; undefined when the answer has none (not understood). */
  static fromMetadata(md: LxdConfigMetadata): ConfigKeyCatalog | undefined {
    const groups = md.configs?.instance;
    if (!groups || typeof groups !== 'object') return undefined;
    const names: string[] = [];
    for (const g of Object.values(groups)) for (const item of g?.keys ?? []) names.push(...Object.keys(item ?? {}));
    return names.length ? new ConfigKeyCatalog(names) : undefined;
  }

  get size(): number {
    return this.exact.size + this.patterns.length;
  }

  knows(key: string): boolean {
    // volatile.* is LXD's own bookkeeping, written by the server and kept as it is
    return this.exact.has(key) || key.startsWith('volatile.') || this.patterns.some((p) => p.test(key));
  }

  /** The closest known name, when one is close enough to be the key meant. */
  suggest(key: string): string | undefined {
    let best: string | undefined;
    let bestD = Math.max(2, Math.floor(key.length / 5)) + 1;
    for (const n of this.exact) {
      const d = editDistance(key, n, bestD);
      if (d < bestD) [best, bestD] = [n, d];
    }
    return best;
  }

  /** What is wrong with a config mapping: one line per unknown key, with the key meant where there is one. */
  problems(config: Record<string, string>): string[] {
    return Object.keys(config)
      .filter((k) => !this.knows(k))
      .map((k) => {
        const s = this.suggest(k);
        return `"${k}" is not a config key this server knows${s ? ` (did you mean "${s}"?)` : ''}`;
      });
  }
}

/** Levenshtein distance, giving up (returning `limit`) once every path is at least `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length];
}
