// `pgpipe filter`: builds config, ports and deadline, reads stdin, runs the pipeline, and ends through finish().
// Loaded lazily by register-filter.ts; the only filter file that touches process.stdin.
import type { Command } from 'commander';
import { configFor, readAll } from '../cli-support.js';
import type { Config } from '../config/load-config.js';
import { isPgpipeError } from '../errors.js';
import { createSendmail } from '../adapters/sendmail.js';
import { createSpamc } from '../adapters/spamc.js';
import { finish, setReportContext } from './exit-boundary.js';
import type { FilterArgv } from './filter-argv.js';
import { failure, outcomeFromError } from './outcome.js';
import type { FilterDeps, FilterPolicy } from './ports.js';
import { runFilter, untilAborted } from './run-filter.js';

export function policyFrom(config: Config): FilterPolicy {
  const { spamCheck, spamdDown, missingKey, unusableKey, messageSizeLimit, oversize } = config;
  return { spamCheck, spamdDown, missingKey, unusableKey, messageSizeLimit, oversize };
}

/** The real ports. Key store and OpenPGP are imported only when a message needs them (start-up time). */
export function createFilterDeps(config: Config): FilterDeps {
  return {
    keys: {
      async lookup(addresses, signal) {
        const { createKeyLookup } = await import('../adapters/key-lookup.js');
        return createKeyLookup(config).lookup(addresses, signal);
      },
    },
    spamc: createSpamc(config),
    sendmail: createSendmail(config),
    encryptor: {
      async encrypt(message, keys) {
        const { encryptMessage, headerProtectionFrom } = await import('../commands/encrypt-message.js');
        return encryptMessage(message, keys, headerProtectionFrom(config));
      },
    },
    now: Date.now,
  };
}

export async function runFilterCommand(command: Command, argv: FilterArgv | null): Promise<never> {
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
  const outcome = await runFilter(
    { raw, envelope: argv.envelope, policy: policyFrom(config), deadlineAt },
    createFilterDeps(config),
    signal,
  );
  return finish(outcome);
}
