// The filter pipeline: spam check → recipient resolution → encryption → size decision → re-injection.
// Orchestration only, through injected ports; never throws, never exits: it returns an Outcome.
import { temporary } from '../errors.js';
import { removeFields } from '../message/split-message.js';
import { buildCopies } from './build-copies.js';
import { RecipientProgress } from './recipient-progress.js';
import { checkSpam, isSpamField } from './check-spam.js';
import {
  failure,
  outcomeFromError,
  type Outcome,
  type RecipientResult,
  type SpamSummary,
} from '../mail-path/outcome.js';
import { untilAborted } from '../mail-path/until-aborted.js';
import type { Delivery } from './plan-deliveries.js';
import type { ChildResult, FilterDeps, FilterInput } from './ports.js';
import { estimateQueueFileSize } from './queue-size.js';

/** Short, content-free description of a failed sendmail run (log and DSN text). */
export function describeSendmailFailure(result: ChildResult): string {
  if (result.failure === 'spawn') return 'sendmail could not be started';
  if (result.failure !== null) return `sendmail ${result.failure}`;
  if (result.exitCode === null) return `sendmail killed by ${result.signal ?? 'a signal'}`;
  return `sendmail exit ${result.exitCode}`;
}

export async function runFilter(input: FilterInput, deps: FilterDeps, signal: AbortSignal): Promise<Outcome> {
  const { envelope, policy } = input;
  let spam: SpamSummary | null = null;
  const progress = new RecipientProgress(envelope.recipients);
  const results = (): RecipientResult[] => progress.results();

  try {
    // Sender-supplied verdicts are never trusted: SpamAssassin deletes them too, so this only matters unscanned.
    let raw = removeFields(input.raw, isSpamField);
    if (policy.spamCheck) {
      const check = await untilAborted(checkSpam(raw, deps.spamc, input.deadlineAt - deps.now(), signal), signal);
      spam = check.summary;
      if (check.failure !== null && policy.spamdDown === 'defer') {
        return failure('deferred', 'spam.check-failed', `spam check unavailable (${check.failure})`, {
          recipients: results(),
          spam,
        });
      }
      raw = check.raw;
    } else {
      spam = { kind: 'unscanned', reason: 'disabled' };
    }
    signal.throwIfAborted();

    const sizeOf = (payload: Buffer, delivery: Delivery): number =>
      estimateQueueFileSize(payload, { sender: envelope.sender, recipients: delivery.recipients });
    const copies = await buildCopies(raw, envelope, policy, deps, signal, { sizeOf, handOff: 're-inject' });
    progress.plan(copies.planned);
    if (copies.kind === 'refused') {
      return failure(copies.outcome, copies.code, copies.reason, { recipients: results(), spam });
    }
    const { deliveries, payloads } = copies;

    // An envelope recipient counts as served once every copy serving it (one per alias member group) is queued.
    progress.expect(deliveries);
    let calls = 0;
    for (const [index, delivery] of deliveries.entries()) {
      signal.throwIfAborted();
      const result = await untilAborted(
        deps.sendmail.send(
          payloads[index] as Buffer,
          { sender: envelope.sender, recipients: delivery.recipients },
          signal,
        ),
        signal,
      );
      if (result.failure === 'cancelled') signal.throwIfAborted();
      if (result.exitCode !== 0 || result.failure !== null) {
        throw temporary('sendmail.failed', `re-injection failed (${describeSendmailFailure(result)})`);
      }
      calls++;
      for (const r of delivery.serves) progress.copyDone(r);
    }
    return { kind: 'delivered', recipients: results(), spam, handOffs: calls };
  } catch (error) {
    const base = { recipients: results(), spam };
    if (signal.aborted) return failure('deferred', 'deadline.exceeded', 'internal deadline exceeded', base);
    return outcomeFromError(error, base);
  }
}
