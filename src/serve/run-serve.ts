// `pgpipe serve`: the resident service. Opens the warm store once, listens, runs each message through the deliver
// pipeline (transaction.ts) with the current config, logs one line per transaction, and lives until SIGTERM/SIGINT:
// stop accepting, let running transactions finish within serve_grace, then 421 the rest and return. SIGHUP re-reads
// the config for the transactions that start after it (the listener, protocol and database need a restart).
import { createSpamc } from '../adapters/spamc.js';
import { createNextHop } from '../adapters/next-hop.js';
import type { Config } from '../config/load-config.js';
import type { DeliverDeps, DeliveryRun } from '../deliver/ports.js';
import { permanent } from '../errors.js';
import { createFilterDeps } from '../filter/create-filter-deps.js';
import type { Envelope } from '../filter/ports.js';
import { failure, oneLine } from '../mail-path/outcome.js';
import { logLine } from '../mail-path/report-lines.js';
import { createFrontEnd } from './front-end.js';
import { startMetricsServer, type MetricsServer } from './metrics-http.js';
import { createServeMetrics, type RecipientCounts, type TransactionOutcome } from './metrics.js';
import { recipientReplies, type Reply } from './replies.js';
import { listenOn } from './listen.js';
import { MemoryBudget } from './memory-budget.js';
import { createServiceLog } from './service-log.js';
import { runTransaction } from './transaction.js';
import { openWarmStore, type WarmStore } from './warm-store.js';

/**
 * Budget bytes a message needs while it is encrypted and handed on, besides its own: OpenPGP.js's packets and armor
 * and nodemailer's dot-stuffed stream while one copy is made and sent (about 4x), and every encrypted copy, all of
 * which are built before the first hand-off (about 1.5x each, one per recipient at most). Measured: one 20 MB
 * message alone grows the process by about 7x its size; 1 MB to 30 keyed recipients held about 40 MB.
 */
export const workBytes = (bytes: number, recipients: number): number =>
  Math.ceil(bytes * (4 + 1.5 * Math.max(1, recipients)));

function required(config: Config): { listen: string; next: string } {
  if (config.serveListen === undefined) throw permanent('config.invalid', 'serve: set --listen or serve_listen');
  if (config.serveNext === undefined) throw permanent('config.invalid', 'serve: set --next or serve_next');
  return { listen: config.serveListen, next: config.serveNext };
}

function depsFor(config: Config, store: WarmStore): DeliverDeps {
  const { encryptor, now } = createFilterDeps(config);
  return {
    keys: store.keysFor(config),
    spamc: createSpamc(config),
    encryptor,
    now,
    lmtp: createNextHop({ address: config.serveNext ?? '', protocol: config.serveProtocol, reuse: true }),
    uid: process.getuid?.() ?? null,
  };
}

/** A transaction answered without running it: the log line says so (never content). */
function refusedLine(
  why: 'over-budget' | 'too-big' | 'busy' | 'slow',
  envelope: Envelope | null,
  queueId: string | null,
) {
  const reasons = {
    slow: 'DATA not complete within the deadline: session closed with 421',
    'over-budget': 'memory budget reached (serve_memory_limit)',
    'too-big': 'message over message_size_limit',
    busy: 'connection limit reached (serve_max_clients)',
  };
  const recipients = (envelope?.recipients ?? []).map((recipient) => ({
    recipient,
    action: 'not-sent' as const,
    why: null,
    fingerprints: [],
  }));
  return logLine(failure('deferred', 'serve.busy', reasons[why], { recipients, spam: null }), 0, queueId);
}

/** The metrics' view of one transaction, from what each recipient is answered: counts and the label. */
function tally(answers: readonly Reply[]): { label: TransactionOutcome; counts: RecipientCounts } {
  const counts = { accepted: 0, deferred: 0, rejected: 0 };
  for (const reply of answers) {
    if (reply.code < 300) counts.accepted++;
    else if (reply.code < 500) counts.deferred++;
    else counts.rejected++;
  }
  const n = answers.length;
  const label =
    counts.accepted === n
      ? 'delivered'
      : counts.deferred === n
        ? 'deferred'
        : counts.rejected === n
          ? 'rejected'
          : 'partial';
  return { label, counts };
}

/** Runs the service until a stop signal; resolves once it has shut down. `load` reads the config (again on HUP). */
export async function runServe(load: () => Config): Promise<void> {
  // Until the service is up a SIGHUP (systemctl reload during start-up) must not end it: it is noted and applied.
  let onHup: () => void = () => undefined;
  const hup = (): void => onHup();
  process.on('SIGHUP', hup);
  let config = load();
  const { listen, next } = required(config);
  const store = await openWarmStore(config);
  const log = createServiceLog(config.log);
  const budget = new MemoryBudget(config.serveMemoryLimit);
  const shutdown = new AbortController();
  let deps = depsFor(config, store);
  const running = new Set<Promise<DeliveryRun>>();
  const metrics = createServeMetrics({ keyCache: () => store.cacheStats(), bytesHeld: () => budget.held });

  const server = createFrontEnd({
    protocol: config.serveProtocol,
    maxClients: () => config.serveMaxClients,
    sizeLimit: () => ({ bytes: config.messageSizeLimit, oversize: config.oversize }),
    receiveDeadlineMs: () => config.deadlineMs,
    budget,
    workBytes,
    async run(raw, envelope, { queueId, xforward }) {
      const startedAt = Date.now();
      const timer = metrics.transactionStarted();
      const transaction = runTransaction(raw, envelope, xforward, { config, deps, shutdown: shutdown.signal });
      running.add(transaction);
      try {
        const run = await transaction;
        log.write(logLine(run.outcome, Date.now() - startedAt, queueId));
        const answers = recipientReplies(run, envelope.recipients);
        const { label, counts } = tally(answers);
        timer.finish(label, counts);
        return answers;
      } finally {
        timer.finish('deferred'); // ignored when already finished
        running.delete(transaction);
      }
    },
    refused(why, envelope, queueId) {
      if (why === 'busy') metrics.refusedSaturated();
      else if (why === 'over-budget') metrics.refusedMemory();
      log.write(refusedLine(why, envelope, queueId));
    },
    opened: () => metrics.connectionOpened(),
    closed: () => metrics.connectionClosed(),
  });
  server.on('error', (error: Error) => log.write(`serve: connection error (${oneLine(error.message, 200)})`));

  // Before the start line: whoever waits for it may signal at once.
  // A second signal while stopping cuts the grace short (an operator's second Ctrl-C, systemd's timeout is SIGKILL).
  let signals = 0;
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (): void => {
      signals++;
      if (signals === 1) resolve();
      else shutdown.abort();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  let bound;
  try {
    bound = await listenOn(server, listen);
  } catch (error) {
    await store.close();
    throw error;
  }
  let metricsServer: MetricsServer | null = null;
  if (config.serveMetrics !== undefined) {
    try {
      metricsServer = await startMetricsServer(config.serveMetrics, metrics.render);
    } catch (error) {
      server.close();
      await store.close();
      throw error;
    }
  }

  const reload = (): void => {
    try {
      const fresh = load();
      const fixed = ['serveListen', 'serveProtocol', 'databaseUrl', 'dbTimeoutMs', 'serveKeyCacheMs', 'log'] as const;
      const ignored = fixed.filter((key) => fresh[key] !== config[key]);
      config = fresh;
      deps = depsFor(config, store);
      budget.setLimit(config.serveMemoryLimit);
      const note = ignored.length > 0 ? ` (${ignored.join(', ')} changed: they need a restart)` : '';
      log.write(`serve: configuration re-read${note}`);
    } catch (error) {
      log.write(`serve: configuration not re-read, keeping the old one (${oneLine(String(error), 200)})`);
    }
  };
  onHup = reload;
  process.stderr.write(`pgpipe serve: listening on ${bound.where} (${config.serveProtocol}), next hop ${next}\n`);

  await stopRequested;

  log.write(`serve: stopping; ${running.size} transaction(s) running, up to ${config.serveGraceMs} ms to finish`);
  // smtp-server stops accepting at once; after closeTimeout it answers the connections left 421 and closes them.
  (server.options as { closeTimeout?: number }).closeTimeout = Math.max(1, config.serveGraceMs);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    shutdown.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // Past the grace: whatever still runs is cancelled (it defers; its client got 421 and Postfix retries).
  shutdown.abort();
  await Promise.allSettled([...running]);
  onHup = () => undefined; // stays installed until the process ends: a late HUP is ignored, not fatal
  await metricsServer?.close();
  await store.close();
  log.write('serve: stopped');
  log.close();
}
