// The only way out of the process in a mail-path mode: children killed, one status line written, exit 0, 69 or 75.
// Crashes, unhandled rejections, termination signals and a run that just stops come through here too, so nothing
// exits with 1. Everything ends in finish(outcome) or hardExit(); no path talks through process.exitCode.
import { killLiveChildren } from '../adapters/run-child.js';
import { writeSyslog } from '../adapters/syslog.js';
import { ExitCode } from '../exit-codes.js';
import { exitCodeFor, failure, type Outcome } from './outcome.js';
import { logLine, statusLine } from './report-lines.js';

export interface ReportContext {
  readonly startedAt: number;
  readonly queueId: string | null;
  /** stderr: detailed status line; syslog: short status line + operator line to syslog; none: short line only. */
  readonly log: 'stderr' | 'syslog' | 'none';
}

let context: ReportContext = { startedAt: Date.now(), queueId: null, log: 'stderr' };
/** Set once an outcome is final: a crash after a successful delivery must not turn into 75 (duplicates). */
let finalCode: number | null = null;

export function setReportContext(next: ReportContext): void {
  context = next;
}

function writeLine(line: string): void {
  try {
    // Synchronous on Linux pipes and files, so it is out before exit.
    process.stderr.write(`${line}\n`);
  } catch {
    // Postfix closed the pipe: nothing more to say.
  }
}

function hardExit(code: number, line: string | null): never {
  killLiveChildren();
  if (line !== null) writeLine(line);
  process.exit(code);
}

/** Reports `outcome` and exits with its code. Never returns; never throws. A second call just exits. */
export async function finish(outcome: Outcome): Promise<never> {
  if (finalCode !== null) return hardExit(finalCode, null);
  const code = exitCodeFor(outcome);
  finalCode = code;
  killLiveChildren();
  const elapsed = Date.now() - context.startedAt;
  // The status line first: a deadline backstop or signal during the syslog write then only cuts the log line.
  writeLine(statusLine(outcome, elapsed, context.log === 'stderr'));
  if (context.log === 'syslog') await writeSyslog(logLine(outcome, elapsed, context.queueId));
  return hardExit(code, null);
}

/**
 * Installed first thing in a mail-path mode, before argv is parsed: uncaught errors and SIGTERM/SIGINT/SIGHUP defer
 * (75) after killing children; Node's own code for a crash is 1, which pipe(8) would turn into a bounce.
 */
export function installMailPathGuard(): void {
  const crash = (): void => {
    if (finalCode !== null) hardExit(finalCode, null);
    finalCode = ExitCode.tempFail;
    hardExit(ExitCode.tempFail, '4.3.0 pgpipe: internal error');
  };
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => void finish(failure('deferred', 'signal', `terminated by ${signal}`)));
  }
  // A promise that never settles with nothing else pending would let Node exit 0 (mail lost): defer instead.
  process.on('beforeExit', () => {
    if (finalCode === null) void finish(failure('deferred', 'internal', 'internal error (unfinished)'));
  });
  process.on('exit', (code) => {
    // Last line of defence: whatever path got here, only 0, 69 and 75 leave a mail-path mode.
    if (finalCode === null) {
      // Someone called process.exit() behind our back (a library, a bug): say so, and defer.
      finalCode = ExitCode.tempFail;
      killLiveChildren();
      writeLine('4.3.0 pgpipe: internal error (unexpected exit)');
    }
    // Inside 'exit', process.exit() does not run the listeners again: it just ends with this status.
    if (code !== finalCode) process.exit(finalCode);
  });
  // A closed output pipe must not become an uncaught 'error' event.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}
