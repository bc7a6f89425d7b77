// Which way in an invocation is, decided once from argv before commander or anything else loads. bin/pgpipe asks
// (so this file imports nothing at run time) and passes the answer to main(); in a pipe mode it also knows that a
// failure to load the rest must still defer.
import type { PipeMode } from './mail-path/pipe-mode.js';

/**
 * The pipe(8) modes: Postfix runs `pgpipe <name> ... -f SENDER -- RECIPIENT...` once per message, and the process
 * must end in 0, 69 or 75 with one DSN line. Adding one is its entry module (a PipeMode) and one line here.
 */
export const PIPE_MODES = {
  filter: () => import('./filter/filter-mode.js'),
  deliver: () => import('./deliver/deliver-mode.js'),
} as const satisfies Record<string, () => Promise<{ readonly pipeMode: PipeMode }>>;

export type PipeModeName = keyof typeof PIPE_MODES;

export type Mode =
  /** argv[0] names a pipe mode. */
  | { readonly kind: 'pipe'; readonly name: PipeModeName }
  /** Postfix's argv with a master.cf mistake (the command misplaced or misspelt): defer every message, 4.3.5. */
  | { readonly kind: 'pipe-mistake'; readonly reason: string }
  /** A person at a shell: encrypt, the admin commands, help. */
  | { readonly kind: 'hand' };

const isPipeModeName = (word: string | undefined): word is PipeModeName =>
  word !== undefined && Object.hasOwn(PIPE_MODES, word);

/**
 * Pipe mode when argv[0] names one. Any other argv that looks like Postfix's (a pipe mode's name, or sendmail-style
 * `-f`/`-oi`, before any `--`) is a master.cf mistake: it must defer, never bounce (a commander usage error exits
 * 64, which pipe(8) bounces). `pgpipe filter --help` alone holds no envelope and is a person asking: hand mode.
 */
export function modeFor(argv: readonly string[]): Mode {
  const first = argv[0];
  if (isPipeModeName(first)) {
    const help = argv.length === 2 && (argv[1] === '--help' || argv[1] === '-h');
    return help ? { kind: 'hand' } : { kind: 'pipe', name: first };
  }
  // `setup postfix --mode filter|deliver` is run by hand, never by pipe(8), though it names a pipe mode.
  if (first === 'help' || first === 'setup') return { kind: 'hand' };
  const head = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const named = head.find(isPipeModeName);
  if (named !== undefined) return { kind: 'pipe-mistake', reason: `bad command line: "${named}" must come first` };
  if (!head.includes('-f') && !head.includes('-oi')) return { kind: 'hand' };
  const shown = first === undefined || first.startsWith('-') ? '' : ` "${first.slice(0, 40)}"`;
  const names = Object.keys(PIPE_MODES).join(', ');
  const reason = `bad command line: expected a pgpipe command (${names}), got${shown || ' options'}`;
  return { kind: 'pipe-mistake', reason };
}
