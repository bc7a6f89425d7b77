// The program: commander setup, the exit boundary for hand-run commands, and the crash guard.
// The only place (besides the filter's own boundary) that decides process exit codes.
import { Command, CommanderError } from 'commander';
import { registerAdmin } from './admin/register-admin.js';
import { adminFailure } from './cli-support.js';
import { registerEncrypt } from './commands/register-encrypt.js';
import { isPgpipeError, type PgpipeError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { registerDeliver } from './deliver/register-deliver.js';
import { registerFilter } from './filter/register-filter.js';
import { registerSetup } from './setup/register-setup.js';

/** RFC 3463 code for a temporary failure; pipe(8) defers on a leading 4.x.x whatever the exit status. */
export function dsnFor(error: PgpipeError | null): string {
  switch (error?.code) {
    case 'key.unusable':
    case 'encrypt.failed':
      return '4.7.5'; // cryptographic failure
    case 'config.invalid':
    case 'usage':
      return '4.3.5'; // system configuration error
    case 'input.too-large':
    case 'size.exceeded':
      return '4.3.4';
    default:
      return '4.3.0';
  }
}

/** PGPIPE_DEBUG=1: the stack of an unexpected error on stderr, for the operator (may name addresses). */
function debugTrace(error: unknown): void {
  if (process.env.PGPIPE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? error.message}\n`);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 400);
}

/** `encrypt` and unknown failures: 64 for usage, else 75 with a 4.x.x line (Postfix would defer). */
function failHandRun(error: unknown): void {
  if (isPgpipeError(error) && error.code === 'usage') {
    process.stderr.write(`pgpipe: ${oneLine(error.message)}\n`);
    process.exitCode = ExitCode.usage;
    return;
  }
  const known = isPgpipeError(error) ? error : null;
  if (!known) debugTrace(error);
  const reason = known ? known.message : 'internal error';
  process.stderr.write(`${dsnFor(known)} pgpipe: ${oneLine(reason)}\n`);
  process.exitCode = ExitCode.tempFail;
}

/**
 * Postfix's argv: `filter` or `deliver` anywhere before `--`, or sendmail-style `-f`/`-oi` (master.cf with a misplaced option or a
 * misspelt command). Commander errors then defer (4.3.5, 75) instead of exiting 64, which pipe(8) bounces.
 * bin/pgpipe applies the same rule before dist/ is loaded.
 */
export function isFilterArgv(argv: readonly string[]): boolean {
  if (argv[0] === 'setup') return false; // `setup postfix --mode filter|deliver` is run by hand, never by pipe(8)
  const head = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  return head.includes('filter') || head.includes('deliver') || head.includes('-f') || head.includes('-oi');
}

function installCrashGuard(): void {
  // Node's own exit code for a crash is 1, which pipe(8) turns into a bounce: defer instead.
  const crash = (error: unknown): void => {
    debugTrace(error);
    process.stderr.write('4.3.0 pgpipe: internal error\n');
    process.exit(ExitCode.tempFail);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/**
 * `first` is argv[0]: the per-message commands (filter, encrypt) skip defining the admin commands (a few ms per
 * message); anything else (`--help`, `help`, admin commands, no argument) gets the whole program.
 */
export function buildProgram(first?: string): Command {
  const program = new Command('pgpipe')
    .description('encrypt incoming mail to recipients\' OpenPGP keys stored in PostgreSQL (a Postfix pipe filter)')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(false)
    .addHelpText(
      'after',
      `
Examples:
  pgpipe encrypt --to alice@example.org < message.eml
  pgpipe filter -f sender@example.net -- alice@example.org < message.eml   (what Postfix runs)
  pgpipe user add alice@example.org --key alice.asc --password-stdin`,
    );
  registerEncrypt(program);
  registerFilter(program);
  registerDeliver(program);
  if (first !== 'filter' && first !== 'encrypt' && first !== 'deliver') {
    registerAdmin(program);
    registerSetup(program);
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  installCrashGuard();
  const filterMode = isFilterArgv(argv);
  const program = buildProgram(argv[0]);
  if (filterMode) {
    // Commander's own messages must not reach Postfix: they would not start with a DSN code.
    program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) {
        process.exitCode = ExitCode.ok;
      } else if (filterMode) {
        process.stderr.write(`4.3.5 pgpipe: bad filter arguments (${oneLine(error.message)})\n`);
        process.exitCode = ExitCode.tempFail;
      } else {
        process.exitCode = ExitCode.usage;
      }
      return;
    }
    if (filterMode) {
      process.stderr.write('4.3.0 pgpipe: internal error\n');
      process.exitCode = ExitCode.tempFail;
      return;
    }
    if (argv[0] === 'encrypt') failHandRun(error);
    else {
      const { code, line } = adminFailure(error);
      process.stderr.write(`pgpipe: ${oneLine(line)}\n`);
      process.exitCode = code;
    }
  }
}
