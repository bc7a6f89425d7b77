// What serve answers Postfix after the final dot, from what the pipeline did. Pure. LMTP answers each recipient on
// its own: 250 only for a recipient every copy of which the next hop accepted, the next hop's own 5xx (code and text)
// for one it refused, a policy refusal's 5xx, and a 4xx for everything else (Postfix keeps the mail queued for
// those recipients only). SMTP has one answer for the whole transaction (see transactionReply).
import type { DeliveryRun } from '../deliver/ports.js';
import { oneLine, type Outcome, type RecipientResult } from '../mail-path/outcome.js';
import { shortFingerprint } from '../mail-path/report-lines.js';

export interface Reply {
  /** Basic reply code: 250, 4xx, 5xx. */
  readonly code: number;
  /** RFC 3463 enhanced code, first word of the text. */
  readonly enhanced: string;
  readonly text: string;
}

const is = (klass: number) => (reply: { readonly code: number }) => Math.floor(reply.code / 100) === klass;

function acceptedText(result: RecipientResult | undefined): string {
  switch (result?.action) {
    case 'encrypted':
      return `encrypted to ${result.fingerprints.map(shortFingerprint).join('+')}`;
    case 'as-sent':
      return `delivered as sent (${result.why === 'unusable-key' ? 'unusable key' : 'no key'})`;
    case 'unchanged':
      return 'delivered unchanged (already encrypted)';
    case 'expanded':
      return 'delivered to the alias members';
    default:
      return 'delivered';
  }
}

/** A policy refusal's basic code: 552 for size (RFC 5321 §4.2.2: storage allocation exceeded), else 550. */
const policyCode = (outcome: Extract<Outcome, { kind: 'rejected' }>): number =>
  outcome.code === 'size.exceeded' ? 552 : 550;

/**
 * One envelope recipient's answer. A 421 is never passed on: smtp-server closes the session after sending one, and the
 * recipients after it would get no answer; the next hop's 421 becomes 451 with its own enhanced code.
 */
export function recipientReply(run: DeliveryRun, recipient: string): Reply {
  const reply = answerFor(run, recipient);
  return reply.code === 421 ? { ...reply, code: 451 } : reply;
}

function answerFor(run: DeliveryRun, recipient: string): Reply {
  const { outcome, accepted, replies } = run;
  if (accepted.has(recipient)) {
    const result = outcome.recipients.find((r) => r.recipient === recipient);
    return { code: 250, enhanced: '2.0.0', text: oneLine(`pgpipe: ${acceptedText(result)}`, 200) };
  }
  const own = replies.filter((r) => r.recipient === recipient);
  // The next hop refused this recipient for good (and nothing for it is pending): its own code and text.
  const refused = own.find(is(5));
  if (refused !== undefined && !own.some((r) => !is(2)(r) && !is(5)(r))) {
    const enhanced = refused.enhanced ?? '5.0.0';
    return { code: refused.code, enhanced, text: oneLine(`next hop: ${refused.text}`, 200) };
  }
  if (outcome.kind === 'rejected' && outcome.code !== 'lmtp.rejected') {
    return { code: policyCode(outcome), enhanced: outcome.dsn, text: `pgpipe: ${outcome.reason}` };
  }
  const deferral = own.find((r) => !is(2)(r) && !is(5)(r) && r.code >= 400);
  if (deferral !== undefined) {
    return { code: deferral.code, enhanced: deferral.enhanced ?? '4.3.0', text: oneLine(`next hop: ${deferral.text}`) };
  }
  if (outcome.kind === 'deferred') return { code: 451, enhanced: outcome.dsn, text: `pgpipe: ${outcome.reason}` };
  // DeliveryRun or rejected overall, yet nothing says this recipient was stored: never a 250 on a guess.
  return { code: 451, enhanced: '4.3.0', text: 'pgpipe: no answer from the next hop for this recipient' };
}

/** LMTP: one answer per recipient, in RCPT TO order. */
export function recipientReplies(run: DeliveryRun, recipients: readonly string[]): Reply[] {
  return recipients.map((recipient) => recipientReply(run, recipient));
}

/**
 * SMTP: one answer for all. 250 only when every recipient was accepted. Otherwise any deferral defers the whole
 * transaction (the recipients already accepted may then be delivered twice on the retry: a duplicate, never a loss);
 * with no deferral, the first refusal bounces it (a recipient already accepted is named in that bounce, but got the
 * mail once). The README's serve section and the issue note describe this; the LMTP wiring has neither effect.
 */
export function transactionReply(answers: readonly Reply[]): Reply {
  const failed = answers.filter((a) => !is(2)(a));
  if (failed.length === 0) {
    const n = answers.length;
    return { code: 250, enhanced: '2.0.0', text: `pgpipe: ${n} recipient${n === 1 ? '' : 's'} handed on` };
  }
  return failed.find(is(4)) ?? (failed[0] as Reply);
}
