// The filter pipeline: spam check → recipient resolution → encryption → size decision → re-injection.
// Orchestration only, through injected ports; never throws, never exits: it returns an Outcome.
import { temporary } from '../errors.js';
import { detectProtection } from '../message/detect-protection.js';
import { removeFields, splitMessage } from '../message/split-message.js';
import { checkSpam, isSpamField } from './check-spam.js';
import { failure, outcomeFromError, type Outcome, type RecipientResult, type SpamSummary } from '../mail-path/outcome.js';
import { untilAborted } from '../mail-path/until-aborted.js';
import { planDeliveries, type Delivery } from './plan-deliveries.js';
import type { ChildResult, FilterDeps, FilterInput } from './ports.js';
import { estimateQueueFileSize } from './queue-size.js';
import { unquoteAddress } from './unquote-address.js';

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
  let planned: readonly RecipientResult[] = envelope.recipients.map((recipient) => ({
    recipient, action: 'not-sent', why: null, fingerprints: [],
  }));
  const sent = new Set<string>();
  const results = (): RecipientResult[] =>
    planned.map((r) => (sent.has(r.recipient) || r.action === 'deferred' || r.action === 'rejected'
      ? r
      : { ...r, action: 'not-sent', why: null, fingerprints: [] }));

  try {
    // Sender-supplied verdicts are never trusted: SpamAssassin deletes them too, so this only matters unscanned.
    let raw = removeFields(input.raw, isSpamField);
    if (policy.spamCheck) {
      const check = await untilAborted(checkSpam(raw, deps.spamc, input.deadlineAt - deps.now(), signal), signal);
      spam = check.summary;
      if (check.failure !== null && policy.spamdDown === 'defer') {
        return failure('deferred', 'spam.check-failed', `spam check unavailable (${check.failure})`, { recipients: results(), spam });
      }
      raw = check.raw;
    } else {
      spam = { kind: 'unscanned', reason: 'disabled' };
    }
    signal.throwIfAborted();

    const message = splitMessage(raw);
    let deliveries: readonly Delivery[];
    if (detectProtection(message).kind !== 'none') {
      // Already end-to-end protected: everyone gets it unchanged in one call, and the key store is not needed.
      deliveries = [{ kind: 'as-sent', recipients: envelope.recipients, serves: envelope.recipients }];
      planned = envelope.recipients.map((recipient) => ({ recipient, action: 'unchanged', why: 'protected', fingerprints: [] }));
    } else {
      const addresses = [...new Set(envelope.recipients.map(unquoteAddress))];
      const states = await untilAborted(deps.keys.lookup(addresses, signal), signal);
      const plan = planDeliveries(envelope.recipients, states, policy);
      planned = plan.results;
      if (plan.kind === 'refuse') return failure(plan.outcome, plan.code, plan.reason, { recipients: results(), spam });
      deliveries = plan.deliveries;
    }

    const tooBig = (delivery: Delivery, size: number): Outcome => {
      // Named by the envelope recipient it serves: an alias member's address must not reach the sender's DSN.
      const who = delivery.serves.length === 1 ? `<${delivery.serves[0]}>: ` : '';
      const what = delivery.kind === 'encrypt' ? 'message too big after encryption' : 'message too big to re-inject';
      const reason = `${who}${what} (about ${size} bytes, limit ${policy.messageSizeLimit})`;
      return failure(policy.oversize === 'reject' ? 'rejected' : 'deferred', 'size.exceeded', reason, { recipients: results(), spam });
    };
    // Armor is at least 4/3 of what it encrypts: a message that cannot fit is decided before spending the time
    // and memory to encrypt it (a huge message must not exhaust the heap on its way to a certain refusal).
    const doomed = deliveries.find((d) => d.kind === 'encrypt');
    if (policy.messageSizeLimit > 0 && doomed !== undefined) {
      const atLeast = await deps.encryptor.minimumSize(message);
      if (atLeast > policy.messageSizeLimit) return tooBig(doomed, atLeast);
    }

    // Build every copy before the first sendmail call: a failure now leaves nothing half-sent.
    const payloads: Buffer[] = [];
    for (const delivery of deliveries) {
      payloads.push(delivery.kind === 'encrypt' ? await untilAborted(deps.encryptor.encrypt(message, delivery.keys), signal) : raw);
      signal.throwIfAborted();
    }
    if (policy.messageSizeLimit > 0) {
      for (const [index, delivery] of deliveries.entries()) {
        const size = estimateQueueFileSize(payloads[index] as Buffer, { sender: envelope.sender, recipients: delivery.recipients });
        if (size <= policy.messageSizeLimit) continue;
        return tooBig(delivery, size);
      }
    }

    // An envelope recipient counts as served once every copy serving it (one per alias member group) is queued.
    const pending = new Map<string, number>();
    for (const delivery of deliveries) for (const r of delivery.serves) pending.set(r, (pending.get(r) ?? 0) + 1);
    let calls = 0;
    for (const [index, delivery] of deliveries.entries()) {
      signal.throwIfAborted();
      const result = await untilAborted(
        deps.sendmail.send(payloads[index] as Buffer, { sender: envelope.sender, recipients: delivery.recipients }, signal),
        signal,
      );
      if (result.failure === 'cancelled') signal.throwIfAborted();
      if (result.exitCode !== 0 || result.failure !== null) {
        throw temporary('sendmail.failed', `re-injection failed (${describeSendmailFailure(result)})`);
      }
      calls++;
      for (const r of delivery.serves) {
        const left = (pending.get(r) ?? 1) - 1;
        pending.set(r, left);
        if (left === 0) sent.add(r);
      }
    }
    return { kind: 'delivered', recipients: results(), spam, sendmailCalls: calls };
  } catch (error) {
    const base = { recipients: results(), spam };
    if (signal.aborted) return failure('deferred', 'deadline.exceeded', 'internal deadline exceeded', base);
    return outcomeFromError(error, base);
  }
}
