// The deliver pipeline: spam check (or our filter's verdict) → recipient resolution → encryption → size decision →
// LMTP hand-off to Dovecot. The same decisions as runFilter (check-spam, plan-deliveries, the encryptor, the key
// lookup); only the last step differs. Orchestration only, through ports; never throws, never exits.
import { detectProtection } from '../message/detect-protection.js';
import { removeFields, splitMessage } from '../message/split-message.js';
import { checkSpam, isSpamField } from '../filter/check-spam.js';
import {
  failure, outcomeFromError, withDsn, type Failure, type Outcome, type RecipientResult, type SpamSummary,
} from '../mail-path/outcome.js';
import { untilAborted } from '../mail-path/until-aborted.js';
import { planDeliveries, type Delivery } from '../filter/plan-deliveries.js';
import { unquoteAddress } from '../filter/unquote-address.js';
import { replyText, verdictOf, type Verdict } from './lmtp-replies.js';
import type { DeliverDeps, DeliverInput, LmtpReply } from './ports.js';
import { filterVerdict } from './scanned-by-filter.js';

interface Spam {
  readonly raw: Buffer;
  readonly summary: SpamSummary;
  /** spamd could not scan (only then may spamd_down=defer refuse). */
  readonly failure: string | null;
}

async function spamStep(input: DeliverInput, deps: DeliverDeps, signal: AbortSignal): Promise<Spam> {
  const { policy } = input;
  const when = policy.spamCheck ? policy.deliverSpamCheck : 'never';
  if (when === 'unless-scanned') {
    // Re-injected by our own filter (same uid, first Received is pickup's): its X-Spam-* fields are spamd's.
    const verdict = filterVerdict(input.raw, deps.uid);
    if (verdict !== null) return { raw: input.raw, summary: verdict, failure: null };
  }
  // Anything else may carry a sender's forged verdict: removed, as filter does, scanned or not.
  const raw = removeFields(input.raw, isSpamField);
  if (when === 'never') return { raw, summary: { kind: 'unscanned', reason: 'disabled' }, failure: null };
  const check = await untilAborted(checkSpam(raw, deps.spamc, input.deadlineAt - deps.now(), signal), signal);
  return { raw: check.raw, summary: check.summary, failure: check.failure };
}

export async function runDeliver(input: DeliverInput, deps: DeliverDeps, signal: AbortSignal): Promise<Outcome> {
  const { envelope, policy } = input;
  let spam: SpamSummary | null = null;
  let planned: readonly RecipientResult[] = envelope.recipients.map((recipient) => ({
    recipient, action: 'not-sent', why: null, fingerprints: [],
  }));
  /** Envelope recipients whose every copy Dovecot answered 2xx for: they keep their planned action in the log. */
  const stored = new Set<string>();
  const results = (): RecipientResult[] =>
    planned.map((r) => (stored.has(r.recipient) || r.action === 'deferred' || r.action === 'rejected'
      ? r
      : { ...r, action: 'not-sent', why: null, fingerprints: [] }));

  try {
    const checked = await spamStep(input, deps, signal);
    spam = checked.summary;
    if (checked.failure !== null && policy.spamdDown === 'defer') {
      const reason = `spam check unavailable (${checked.failure})`;
      return failure('deferred', 'spam.check-failed', reason, { recipients: results(), spam });
    }
    const raw = checked.raw;
    signal.throwIfAborted();

    const message = splitMessage(raw);
    let deliveries: readonly Delivery[];
    if (detectProtection(message).kind !== 'none') {
      // Already end-to-end protected (e.g. pgpipe filter encrypted it before re-injection): stored unchanged.
      deliveries = [{ kind: 'as-sent', recipients: envelope.recipients, serves: envelope.recipients }];
      planned = envelope.recipients.map((recipient) => ({
        recipient, action: 'unchanged', why: 'protected', fingerprints: [],
      }));
    } else {
      const addresses = [...new Set(envelope.recipients.map(unquoteAddress))];
      const states = await untilAborted(deps.keys.lookup(addresses, signal), signal);
      const plan = planDeliveries(envelope.recipients, states, policy);
      planned = plan.results;
      if (plan.kind === 'refuse') return failure(plan.outcome, plan.code, plan.reason, { recipients: results(), spam });
      deliveries = plan.deliveries;
    }

    // message_size_limit here is what a mailbox may receive: the bytes handed to Dovecot (no queue file).
    const tooBig = (delivery: Delivery, size: number): Outcome => {
      // Named by the envelope recipient it serves: an alias member's address must not reach the sender's DSN.
      const who = delivery.serves.length === 1 ? `<${delivery.serves[0]}>: ` : '';
      const what = delivery.kind === 'encrypt' ? 'message too big after encryption' : 'message too big to deliver';
      const reason = `${who}${what} (about ${size} bytes, limit ${policy.messageSizeLimit})`;
      const kind = policy.oversize === 'reject' ? 'rejected' : 'deferred';
      return failure(kind, 'size.exceeded', reason, { recipients: results(), spam });
    };
    if (policy.messageSizeLimit > 0) {
      // Armor is at least 4/3 of the body: refuse before spending the time and memory to encrypt it.
      const atLeast = Math.ceil((message.body.length * 4) / 3);
      const doomed = deliveries.find((d) => d.kind === 'encrypt');
      if (doomed !== undefined && atLeast > policy.messageSizeLimit) return tooBig(doomed, atLeast);
    }

    // Every copy is built and checked before the first hand-off: a failure now leaves nothing half-delivered.
    const payloads: Buffer[] = [];
    for (const delivery of deliveries) {
      const encrypted = delivery.kind === 'encrypt' ? deps.encryptor.encrypt(message, delivery.keys) : null;
      payloads.push(encrypted === null ? raw : await untilAborted(encrypted, signal));
      signal.throwIfAborted();
    }
    if (policy.messageSizeLimit > 0) {
      for (const [index, delivery] of deliveries.entries()) {
        const size = (payloads[index] as Buffer).length;
        if (size > policy.messageSizeLimit) return tooBig(delivery, size);
      }
    }

    // An envelope recipient counts as stored once every copy serving it (one per alias member group) got 2xx.
    const pending = new Map<string, number>();
    for (const delivery of deliveries) for (const r of delivery.serves) pending.set(r, (pending.get(r) ?? 0) + 1);
    const served = servedBy(envelope.recipients, planned);
    let handOffs = 0;
    const replies: LmtpReply[] = [];
    for (const [index, delivery] of deliveries.entries()) {
      signal.throwIfAborted();
      const lmtpEnvelope = { sender: envelope.sender, recipients: delivery.recipients };
      const result = await untilAborted(deps.lmtp.deliver(payloads[index] as Buffer, lmtpEnvelope, signal), signal);
      signal.throwIfAborted();
      handOffs++;
      // Unknown what Dovecot stored: defer at once (the retry may duplicate what it did store).
      if (result.kind === 'failed') {
        return failure('deferred', 'lmtp.failed', result.reason, { recipients: results(), spam });
      }
      // Answers are named by the envelope recipient they serve: an alias member's address must not reach the
      // sender's DSN (the line names the alias instead).
      const named = result.replies.map((reply) => ({ ...reply, recipient: served(reply.recipient) }));
      for (const r of delivery.serves) {
        if (!named.every((reply) => reply.recipient !== r || (reply.code >= 200 && reply.code < 300))) continue;
        const left = (pending.get(r) ?? 1) - 1;
        pending.set(r, left);
        if (left === 0) stored.add(r);
      }
      replies.push(...named);
      // A 4xx: stop here, so fewer copies are repeated on the retry. After a 5xx the other copies still go out:
      // the whole run then bounces, and a recipient never tried would be told "undeliverable" for nothing.
      if (verdictOf(named).kind === 'deferred') break;
    }
    const verdict = verdictOf(replies);
    if (verdict.kind === 'delivered') return { kind: 'delivered', recipients: results(), spam, handOffs };
    return lmtpFailure(verdict, { recipients: markRefused(results(), verdict), spam });
  } catch (error) {
    const base = { recipients: results(), spam };
    if (signal.aborted) return failure('deferred', 'deadline.exceeded', 'internal deadline exceeded', base);
    return outcomeFromError(error, base);
  }
}

/** Address → the envelope recipient it serves: itself, or for an expanded alias's member, the alias. */
function servedBy(recipients: readonly string[], planned: readonly RecipientResult[]): (address: string) => string {
  const envelope = new Set(recipients);
  const aliasOf = new Map<string, string>();
  for (const r of planned) for (const member of r.members ?? []) aliasOf.set(member.recipient, r.recipient);
  return (address) => (envelope.has(address) ? address : (aliasOf.get(address) ?? 'an alias member'));
}

function markRefused(results: RecipientResult[], verdict: Exclude<Verdict, { kind: 'delivered' }>): RecipientResult[] {
  const action = verdict.kind === 'deferred' ? 'deferred' : 'rejected';
  const refused = verdict.reply.recipient;
  return results.map((r) => (r.recipient === refused ? { ...r, action, why: null, fingerprints: [] } : r));
}

/** Dovecot's answer as ours: a 5xx keeps its own enhanced code (the one pipe(8) reads); a 4xx defers as 4.x.x. */
function lmtpFailure(
  verdict: Exclude<Verdict, { kind: 'delivered' }>,
  base: Pick<Failure, 'recipients' | 'spam'>,
): Failure {
  const text = replyText(verdict.reply);
  if (verdict.kind === 'rejected') return withDsn(failure('rejected', 'lmtp.rejected', text, base), verdict.dsn);
  return withDsn(failure('deferred', 'lmtp.failed', text, base), verdict.reply.enhanced ?? '4.3.0');
}
