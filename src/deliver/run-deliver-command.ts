// `pgpipe deliver`: builds config, ports and deadline, reads stdin, runs the pipeline, and ends through the
// filter's exit boundary (finish: one line, exit 0/69/75). Loaded lazily by register-deliver.ts.
import type { Command } from 'commander';
import { configFor, readAll } from '../cli-support.js';
import type { Config } from '../config/load-config.js';
import { isPgpipeError } from '../errors.js';
import { createLmtp } from '../adapters/lmtp.js';
import { finish, setReportContext } from '../filter/exit-boundary.js';
import type { FilterArgv } from '../filter/filter-argv.js';
import { failure, outcomeFromError } from '../filter/outcome.js';
import { createFilterDeps, policyFrom } from '../filter/run-filter-command.js';
import { untilAborted } from '../filter/run-filter.js';
import type { DeliverDeps, DeliverPolicy } from './ports.js';
import { runDeliver } from './run-deliver.js';

export function deliverPolicyFrom(config: Config): DeliverPolicy {
  return { ...policyFrom(config), deliverSpamCheck: config.deliverSpamCheck };
}

/** The filter's key lookup, spamc and encryptor (lazy imports included), with LMTP instead of sendmail. */
export function createDeliverDeps(config: Config): DeliverDeps {
  const { keys, spamc, encryptor, now } = createFilterDeps(config);
  return { keys, spamc, encryptor, now, lmtp: createLmtp(config), uid: process.getuid?.() ?? null };
}

export async function runDeliverCommand(command: Command, argv: FilterArgv | null): Promise<never> {
  const startedAt = Date.now();
  const queueId = typeof command.opts().queueId === 'string' ? (command.opts().queueId as string) : null;
  setReportContext({ startedAt, queueId, log: 'stderr' });
  if (argv === null) return finish(failure('deferred', 'usage', 'bad command line'));
  if (isPgpipeError(argv.envelope)) return finish(outcomeFromError(argv.envelope));
  let config: Config;
  try {
    config = configFor(command);
  } catch (error) {
    return finish(outcomeFromError(error));
  }
  setReportContext({ startedAt, queueId, log: config.log });
  // Without a listener every message would wait in the queue: say so on every one (4.3.5, like a bad argv).
  if (config.lmtp === undefined) return finish(failure('deferred', 'config.invalid', 'no LMTP address: set --lmtp or lmtp in pgpipe.conf'));

  const deadlineAt = startedAt + config.deadlineMs;
  const signal = AbortSignal.timeout(config.deadlineMs);
  // Backstop in case some await escapes the signal: Postfix's own time limit would bounce, we defer first.
  setTimeout(() => void finish(failure('deferred', 'deadline.exceeded', 'internal deadline exceeded')), config.deadlineMs + 2000);

  let raw: Buffer;
  try {
    raw = await untilAborted(readAll(process.stdin), signal);
  } catch (error) {
    if (signal.aborted) return finish(failure('deferred', 'deadline.exceeded', 'internal deadline exceeded while reading the message'));
    return finish(outcomeFromError(error));
  }
  const outcome = await runDeliver(
    { raw, envelope: argv.envelope, policy: deliverPolicyFrom(config), deadlineAt },
    createDeliverDeps(config),
    signal,
  );
  return finish(outcome);
}
