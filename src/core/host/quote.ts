// The ONE place that builds a command line for a remote host. sshd hands the remote login shell a
// single string (`$SHELL -c STRING`), so every argument is quoted for a POSIX shell: inside single
// quotes nothing is special but the single quote itself, written as '\'' (end quote, escaped quote,
// reopen). Assumes a POSIX login shell (sh, bash, dash, zsh, busybox); csh/fish users are not served.

/** Words no POSIX shell changes: left bare so logs stay readable. No `=` (an assignment as argv[0]), no `~`. */
const SAFE = /^[A-Za-z0-9_@%+,./:-]+$/;

/** One argument, quoted so the remote shell hands it to the program byte for byte. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument with a NUL byte cannot be passed to a program');
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command string for `ssh … -- host STRING`: argv[0] runs with argv[1…] exactly as given. */
export function remoteCommand(argv: readonly string[]): string {
  if (!argv.length) throw new Error('empty argv');
  return argv.map(quoteArg).join(' ');
}
