// Every container of an lxcpath in ONE program run: on a remote host that is one SSH channel per
// poll, not a directory listing plus three channels per container (exists, lxc-info, the config).
// A fixed script; the lxcpath and names arrive as "$@" (the Host quotes them, quote.ts over SSH), so a
// hostile name is data, never code.

/** Exit code of the script when lxc-info is not installed. */
export const LXC_INFO_MISSING = 127;

/**
 * sh -c LISTING sh LXCPATH [NAME...]: for each container (each NAME, else every directory of LXCPATH
 * with a config file) one record of four NUL-terminated fields: name, lxc-info's exit code, its output
 * (`-s -p -H`: State and PID, or its error), the config file.
 */
export const LISTING_SCRIPT = [
  'p=$1; shift',
  `command -v lxc-info >/dev/null 2>&1 || exit ${LXC_INFO_MISSING}`,
  'if [ $# -eq 0 ]; then',
  '  for c in "$p"/*/config "$p"/.[!.]*/config "$p"/..?*/config; do',
  '    [ -f "$c" ] && { n=${c%/config}; set -- "$@" "${n##*/}"; }',
  '  done',
  'fi',
  'for n in "$@"; do',
  '  [ -f "$p/$n/config" ] || continue',
  '  i=$(lxc-info -n "$n" -P "$p" -s -p -H 2>&1); s=$?',
  '  printf \'%s\\0%s\\0%s\\0\' "$n" "$s" "$i"',
  '  cat -- "$p/$n/config" 2>/dev/null',
  "  printf '\\0'",
  'done',
].join('\n');

export interface LxcRecord {
  readonly name: string;
  /** lxc-info's exit code: 0, or its error is in `info`. */
  readonly infoStatus: number;
  readonly info: string;
  /** The config file's text ("" when unreadable). */
  readonly config: string;
}

/** The script's output as records, by name. */
export function parseListing(out: string): LxcRecord[] {
  const f = out.split('\0');
  const records: LxcRecord[] = [];
  for (let i = 0; i + 3 < f.length; i += 4) {
    records.push({ name: f[i], infoStatus: Number(f[i + 1]), info: f[i + 2], config: f[i + 3] });
  }
  return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
