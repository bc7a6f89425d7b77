// The one way out for hand-run commands (encrypt, the admin commands, help, --version): commander parses argv and
// runs the action, and this turns what happened into one exit status and at most one stderr line. `encrypt` fails
// like a pipe(8) mode would (75 with a 4.x.x line: scripts and a pipe transport may run it); admin commands use
// sysexits (64 usage, 75 temporary, 78 configuration, 70 bug, 1 refused).
import { CommanderError, type Command } from 'commander';
import { isPgpipeError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { dsnFor, oneLine } from './mail-path/outcome.js';

/** The status an action resolved to (e.g. `key check` exits 1 when a key needs attention). */
let actionStatus: number = ExitCode.ok;

/** Wraps an action: the number it resolves to (or 0) is the exit status; what it throws goes to handFailure. */
export function runAction<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    actionStatus = (await fn(...args)) ?? ExitCode.ok;
  };
}

/** PGPIPE_DEBUG=1: the stack of an unexpected error on stderr, for the operator (may name addresses). */
function debugTrace(error: unknown): void {
  if (process.env.PGPIPE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack ?? error.message}\n`);
}

/** Exit status and the one stderr line (null: commander has already said it) for a failed hand-run command. */
export function handFailure(error: unknown, command: string | undefined): { code: number; line: string | null } {
  if (error instanceof CommanderError) {
    const done = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    return { code: done ? ExitCode.ok : ExitCode.usage, line: null };
  }
  const known = isPgpipeError(error) ? error : null;
  if (known?.code === 'usage') return { code: ExitCode.usage, line: `pgpipe: ${oneLine(known.message)}` };
  if (command === 'encrypt') {
    if (known === null) debugTrace(error);
    const reason = known === null ? 'internal error' : oneLine(known.message);
    return { code: ExitCode.tempFail, line: `${dsnFor(known?.code ?? 'internal', true)} pgpipe: ${reason}` };
  }
  // Admin lines are for a person at a terminal: one line, but an address in UTF-8 stays readable.
  const said = (text: string): string => `pgpipe: ${text.replace(/[\r\n]+/g, ' ')}`;
  if (known === null) {
    const what = error instanceof Error ? error.message : String(error);
    return { code: ExitCode.software, line: said(`internal error: ${what}`) };
  }
  if (known.code === 'config.invalid') return { code: ExitCode.config, line: said(known.message) };
  return { code: known.temporary ? ExitCode.tempFail : 1, line: said(known.message) };
}

/** Runs a hand-run command line through `program` and sets the exit status once, at the end. */
export async function runHandCommand(program: Command, argv: readonly string[]): Promise<void> {
  // Node's own exit code for a crash is 1; a script (or a pipe transport running encrypt) should retry: 75.
  const crash = (error: unknown): void => {
    debugTrace(error);
    process.stderr.write('4.3.0 pgpipe: internal error\n');
    process.exit(ExitCode.tempFail);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  // A reader that stops early (`pgpipe user list | head -1`) is not a crash. For encrypt, the result did not
  // arrive whole, so it fails like any encrypt failure; for the rest, the reader had what it wanted.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') return crash(error);
    if (argv[0] !== 'encrypt') process.exit(ExitCode.ok);
    process.stderr.write('4.3.0 pgpipe: standard output closed before the whole result was written\n');
    process.exit(ExitCode.tempFail);
  });
  let code: number;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    code = actionStatus;
  } catch (error) {
    const failed = handFailure(error, argv[0]);
    if (failed.line !== null) process.stderr.write(`${failed.line}\n`);
    code = failed.code;
  }
  // Not process.exit(): the store's connection may still be closing in the background, and stdout draining.
  process.exitCode = code;
}
