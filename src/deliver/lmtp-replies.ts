// What Dovecot's answers mean for pipe(8). Pure. One invocation has one exit status: 0 only when every recipient
// got 2xx; any 4xx or missing answer defers (75); otherwise a 5xx bounces (69) with Dovecot's own enhanced code.
import { oneLine } from '../mail-path/outcome.js';
import type { LmtpReply } from './ports.js';

const REPLY = /^(\d{3})(?:[ -](?:([245]\.\d{1,3}\.\d{1,3})(?=\s|$))?)?\s*([\s\S]*)$/;

/** One server reply line (nodemailer gives the whole, possibly multi-line, text) → code, enhanced code, text. */
export function parseReply(recipient: string, response: string): LmtpReply {
  const match = REPLY.exec(response.trim());
  if (match === null) return { recipient, code: 0, enhanced: null, text: oneLine(response, 200) };
  const code = Number(match[1]);
  // An enhanced code whose class disagrees with the reply code is not trusted (pipe(8) goes by the text's class).
  const enhanced = match[2] !== undefined && match[2][0] === String(code)[0] ? match[2] : null;
  // Continuation lines of a multi-line reply repeat "250-": keep only their text.
  const text = (match[3] ?? '').replace(/\r?\n\d{3}[ -](?:[245]\.\d{1,3}\.\d{1,3} )?/g, ' ');
  return { recipient, code, enhanced, text: oneLine(text, 200) };
}

export type Verdict =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'deferred'; readonly reply: LmtpReply }
  | { readonly kind: 'rejected'; readonly reply: LmtpReply; readonly dsn: string };

/** How Dovecot's reply reads in our one line: `<rcpt>: LMTP 550 5.1.1 <text>`. Names only that recipient. */
export function replyText(reply: LmtpReply): string {
  const code = [String(reply.code), reply.enhanced].filter((part) => part !== null).join(' ');
  return `<${reply.recipient}>: LMTP ${code} ${reply.text}`.trimEnd();
}

/**
 * All 2xx: delivered. Any 4xx, or a reply that is not a 2xx/5xx code: deferred (nothing is lost, Postfix retries).
 * Otherwise some 5xx: rejected with that recipient's enhanced code (5.0.0 when Dovecot gave none). Recipients that
 * got 2xx beside a 5xx then get the bounce text too, but they were delivered once, and no retry repeats them.
 */
export function verdictOf(replies: readonly LmtpReply[]): Verdict {
  const temporary = replies.find((r) => !(r.code >= 200 && r.code < 300) && !(r.code >= 500 && r.code < 600));
  if (temporary !== undefined) return { kind: 'deferred', reply: temporary };
  const permanent = replies.find((r) => r.code >= 500);
  if (permanent !== undefined) return { kind: 'rejected', reply: permanent, dsn: permanent.enhanced ?? '5.0.0' };
  return { kind: 'delivered' };
}
