// LXD's /1.0/metrics answer (OpenMetrics text) read into per-instance counters: CPU seconds, memory,
// processes, network and disk bytes. Only the sample lines matter here (`name{labels} value`); the
// `# HELP`/`# TYPE` lines and metrics of the daemon itself are skipped.

export interface InstanceCounters {
  cpuSeconds?: number;
  memoryBytes?: number;
  processes?: number;
  rxBytes?: number;
  txBytes?: number;
  readBytes?: number;
  writtenBytes?: number;
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The sample lines of an OpenMetrics text. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value });
  }
  return out;
}

const add = (c: InstanceCounters, k: keyof InstanceCounters, v: number) => (c[k] = (c[k] ?? 0) + v);

/** Per instance ("project/name"): the counters the member overview shows. */
export function instanceCounters(text: string): Map<string, InstanceCounters> {
  const by = new Map<string, InstanceCounters>();
  const mem = new Map<string, { total?: number; available?: number; rss?: number }>();
  for (const s of parseSamples(text)) {
    const name = s.labels.name;
    if (!name) continue;
    const key = `${s.labels.project ?? 'default'}/${name}`;
    const c = by.get(key) ?? {};
    by.set(key, c);
    const dev = s.labels.device ?? '';
    switch (s.name) {
      case 'lxd_cpu_seconds_total':
        if (s.labels.mode !== 'idle' && s.labels.mode !== 'iowait') add(c, 'cpuSeconds', s.value);
        break;
      case 'lxd_procs_total':
        c.processes = s.value;
        break;
      case 'lxd_network_receive_bytes_total':
        if (dev !== 'lo') add(c, 'rxBytes', s.value);
        break;
      case 'lxd_network_transmit_bytes_total':
        if (dev !== 'lo') add(c, 'txBytes', s.value);
        break;
      case 'lxd_disk_read_bytes_total':
        add(c, 'readBytes', s.value);
        break;
      case 'lxd_disk_written_bytes_total':
        add(c, 'writtenBytes', s.value);
        break;
      case 'lxd_memory_MemTotal_bytes':
      case 'lxd_memory_MemAvailable_bytes':
      case 'lxd_memory_RSS_bytes': {
        const m = mem.get(key) ?? {};
        mem.set(key, m);
        if (s.name === 'lxd_memory_RSS_bytes') m.rss = s.value;
        else if (s.name === 'lxd_memory_MemTotal_bytes') m.total = s.value;
        else m.available = s.value;
        break;
      }
    }
  }
  // in use: total less available (what `free` calls used), else the resident set
  for (const [key, m] of mem) {
    const c = by.get(key)!;
    if (m.total !== undefined && m.available !== undefined) c.memoryBytes = m.total - m.available;
    else if (m.rss !== undefined) c.memoryBytes = m.rss;
  }
  return by;
}
