// One pipe(8) invocation from argv to exit, the same for every pipe mode: the crash guard first, then the envelope
// split off argv, the mode's flags parsed, config, deadline and stdin, the mode's own run, and finish(outcome).
// A mode is a PipeMode: its flags/help and a run that returns an Outcome. Whatever it throws is a deferral.
import { Command, CommanderError } from 'commander';
import { configFor, readAll } from '../cli-support.js';
import type { Config } from '../config/load-config.js';
import { isPgpipeError } from '../errors.js';
import type { Envelope } from '../filter/ports.js';
import type { Mode } from '../modes.js';
import { PIPE_MODES } from '../modes.js';
import { finish, installMailPathGuard, setReportContext } from './exit-boundary.js';
import { failure, outcomeFromError, type Outcome } from './outcome.js';
import { splitPipeArgv } from './pipe-argv.js';
import { untilAborted } from './until-aborted.js';

/** What a pipe mode's run gets: the whole message, the envelope, the merged config, and the deadline. */
export interface PipeInvocation {
  readonly raw: Buffer;
  readonly envelope: Envelope;
  readonly config: Config;
  /** Epoch ms by which the run must be over; `signal` aborts then. */
  readonly deadlineAt: number;
  readonly signal: AbortSignal;
}

export interface PipeMode {
  /**
   * Flags and help as a commander Command, without an action (also listed by `pgpipe --help`). A `--queue-id`
   * option, when the mode defines one, names the queue id in the log line.
   */
  readonly define: () => Command;
  /** One message to its Outcome; never exits. A throw defers (4.3.0 or its PgpipeError's code), never bounces. */
  readonly run: (invocation: PipeInvocation) => Promise<Outcome>;
}

const quiet = { writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined };

/** Runs one pipe(8) invocation and exits with 0, 69 or 75. `argv` starts with the mode's name. */
export async function runPipeMode(mode: Exclude<Mode, { kind: 'hand' }>, argv: readonly string[]): Promise<never> {
  const startedAt = Date.now();
  installMailPathGuard(); // before anything below can throw, exit or hang
  setReportContext({ startedAt, queueId: null, log: 'stderr' });
  let signal: AbortSignal | null = null;
  try {
    if (mode.kind === 'pipe-mistake') return await finish(failure('deferred', 'usage', mode.reason));
    const { pipeMode } = await PIPE_MODES[mode.name]();
    const { optionArgs, envelope } = splitPipeArgv(argv.slice(1));
    // Commander's own text must never be the first thing Postfix reads: it would not start with a DSN code.
    const command = pipeMode.define().exitOverride().configureOutput(quiet).showSuggestionAfterError(false);
    command.action(() => undefined); // so commander checks for stray words, as for any command
    try {
      command.parse(optionArgs, { from: 'user' });
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      const why = error.code === 'commander.helpDisplayed' ? '--help' : error.message;
      return await finish(failure('deferred', 'usage', `bad ${mode.name} arguments (${why})`));
    }
    const queueId = command.opts().queueId;
    setReportContext({ startedAt, queueId: typeof queueId === 'string' ? queueId : null, log: 'stderr' });
    if (isPgpipeError(envelope)) return await finish(outcomeFromError(envelope));
    const config = configFor(command);
    setReportContext({ startedAt, queueId: typeof queueId === 'string' ? queueId : null, log: config.log });

    const deadlineAt = startedAt + config.deadlineMs;
    signal = AbortSignal.timeout(config.deadlineMs);
    // Backstop in case some await escapes the signal: Postfix's own time limit would bounce, we defer first.
    const late = (): void => void finish(failure('deferred', 'deadline.exceeded', 'internal deadline exceeded'));
    setTimeout(late, config.deadlineMs + 2000);
    let raw: Buffer;
    try {
      raw = await untilAborted(readAll(process.stdin), signal);
    } catch (error) {
      if (!signal.aborted) throw error;
      const reason = 'internal deadline exceeded while reading the message';
      return await finish(failure('deferred', 'deadline.exceeded', reason));
    }
    return await finish(await pipeMode.run({ raw, envelope, config, deadlineAt, signal }));
  } catch (error) {
    // A mode's run that throws because the deadline aborted it: say so, rather than "internal error".
    if (signal?.aborted) return finish(failure('deferred', 'deadline.exceeded', 'internal deadline exceeded'));
    return finish(outcomeFromError(error));
  }
}
