// The deliver pipeline: spam check (or our filter's verdict) → recipient resolution → encryption → size decision
// → LMTP hand-off to Dovecot. The same decisions as runFilter (check-spam, build-copies with plan-deliveries, the
// encryptor and the key lookup); only the spam step's unless-scanned proof and the last step differ.
// Orchestration only, through ports; never throws, never exits.
import { removeFields } from '../message/split-message.js';
import { buildCopies } from '../filter/build-copies.js';
import { RecipientProgress } from '../filter/recipient-progress.js';
import { checkSpam, isSpamField } from '../filter/check-spam.js';
import {
  failure,
  outcomeFromError,
  withDsn,
  type Failure,
  type Outcome,
  type RecipientResult,
  type SpamSummary,
} from '../mail-path/outcome.js';
import { untilAborted } from '../mail-path/until-aborted.js';
import { replyText, verdictOf, type Verdict } from './lmtp-replies.js';
import type { DeliverDeps, DeliverInput, DeliveryRun, LmtpReply } from './ports.js';
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
  return (await runDelivery(input, deps, signal)).outcome;
}

/** runDeliver with the next hop's per-recipient answers kept (for serve's LMTP replies). Never throws. */
export async function runDelivery(input: DeliverInput, deps: DeliverDeps, signal: AbortSignal): Promise<DeliveryRun> {
  const progress = new RecipientProgress(input.envelope.recipients);
  const replies: LmtpReply[] = [];
  const outcome = await deliverWith(input, deps, signal, progress, replies);
  return { outcome, accepted: new Set(progress.servedRecipients()), replies };
}

async function deliverWith(
  input: DeliverInput,
  deps: DeliverDeps,
  signal: AbortSignal,
  progress: RecipientProgress,
  replies: LmtpReply[],
): Promise<Outcome> {
  const { envelope, policy } = input;
  let spam: SpamSummary | null = null;
  const results = (): RecipientResult[] => progress.results();

  try {
    const checked = await spamStep(input, deps, signal);
    spam = checked.summary;
    if (checked.failure !== null && policy.spamdDown === 'defer') {
      const reason = `spam check unavailable (${checked.failure})`;
      return failure('deferred', 'spam.check-failed', reason, { recipients: results(), spam });
    }
    const raw = checked.raw;
    signal.throwIfAborted();

    // message_size_limit here is what a mailbox may receive: the bytes handed to Dovecot (no queue file).
    const sizeOf = (payload: Buffer): number => payload.length;
    const copies = await buildCopies(raw, envelope, policy, deps, signal, { sizeOf, handOff: 'deliver' });
    progress.plan(copies.planned);
    if (copies.kind === 'refused') {
      return failure(copies.outcome, copies.code, copies.reason, { recipients: results(), spam });
    }
    const { deliveries, payloads } = copies;

    // An envelope recipient counts as stored once every copy serving it (one per alias member group) got 2xx.
    progress.expect(deliveries);
    const served = servedBy(envelope.recipients, copies.planned);
    let handOffs = 0;
    const forward = input.xforward === undefined ? undefined : { xforward: input.xforward };
    for (const [index, delivery] of deliveries.entries()) {
      signal.throwIfAborted();
      const lmtpEnvelope = { sender: envelope.sender, recipients: delivery.recipients };
      const result = await untilAborted(
        deps.lmtp.deliver(payloads[index] as Buffer, lmtpEnvelope, signal, forward),
        signal,
      );
      signal.throwIfAborted();
      handOffs++;
      // Unknown what Dovecot stored: defer at once (the retry may duplicate what it did store).
      if (result.kind === 'failed') {
        return failure('deferred', 'lmtp.failed', result.reason, { recipients: results(), spam });
      }
      // Answers are named by the envelope recipient they serve: an alias member's address must not reach the
      // sender's DSN (the line names the alias instead).
      // An address serving several envelope recipients (a member of two aliases, or a recipient that is also an
      // alias member) answers for each of them.
      const named = result.replies.flatMap((reply) =>
        served(reply.recipient, delivery.serves).map((recipient) => ({ ...reply, recipient })),
      );
      for (const r of delivery.serves) {
        // Stored only on an answer for it, every one 2xx: no answer at all is never "every answer was 2xx".
        const own = named.filter((reply) => reply.recipient === r);
        if (own.length === 0 || !own.every((reply) => reply.code >= 200 && reply.code < 300)) continue;
        progress.copyDone(r);
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

/**
 * Address → the envelope recipients it serves among `serves` (the copy's): itself, and every expanded alias it is a
 * member of. An address the plan does not know is "an alias member", never its own name (it must not reach a DSN).
 */
function servedBy(
  recipients: readonly string[],
  planned: readonly RecipientResult[],
): (address: string, serves: readonly string[]) => string[] {
  const envelope = new Set(recipients);
  const aliasesOf = new Map<string, string[]>();
  for (const r of planned) {
    for (const member of r.members ?? []) {
      aliasesOf.set(member.recipient, [...(aliasesOf.get(member.recipient) ?? []), r.recipient]);
    }
  }
  return (address, serves) => {
    const names = [...(envelope.has(address) ? [address] : []), ...(aliasesOf.get(address) ?? [])];
    const within = names.filter((name) => serves.includes(name));
    if (within.length > 0) return within;
    return names.length > 0 ? names : ['an alias member'];
  };
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
