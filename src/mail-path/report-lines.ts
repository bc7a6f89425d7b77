// The two lines a run produces: the status line Postfix captures (and may show senders in a DSN), and the
// operator's log line. Pure. Neither ever holds a subject, body text or key material.
import { oneLine, type Outcome, type RecipientResult, type SpamSummary } from './outcome.js';

/** The long key ID (last 16 hex digits): enough for an operator to tell keys apart. */
export const shortFingerprint = (fingerprint: string): string => fingerprint.slice(-16);

function recipientText(r: RecipientResult): string {
  const keys = r.fingerprints.map(shortFingerprint).join('+');
  switch (r.action) {
    case 'encrypted':
      return `encrypted ${keys}`;
    case 'as-sent':
      return `as sent (${r.why === 'unusable-key' ? 'unusable key' : 'no key'})`;
    case 'unchanged':
      return 'unchanged (already encrypted)';
    case 'expanded': {
      // Counts only: the status line must not say who is behind an alias.
      const members = r.members ?? [];
      const encrypted = members.filter((m) => m.action === 'encrypted').length;
      const plain = members.length - encrypted;
      return `expanded to ${members.length} members (${encrypted} encrypted ${keys}, ${plain} as sent)`;
    }
    default:
      return r.action === 'not-sent' ? 'not sent' : `${r.action} (${r.why ?? 'error'})`;
  }
}

function spamText(spam: SpamSummary | null): string {
  if (spam === null) return 'not checked';
  if (spam.kind === 'unscanned') return `unscanned (${spam.reason})`;
  return `${spam.spam ? 'yes' : 'no'}${spam.score === null ? '' : ` ${spam.score}`}`;
}

const seconds = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(2)}s`;

/**
 * The single line for Postfix: `<dsn> pgpipe: ...`. pipe(8) reads a leading RFC 3463 code on non-zero exits, logs
 * up to 100 characters on success, and puts the text in DSNs, so it names no recipient beyond the one a failure
 * concerns (Bcc and alias-expanded recipients must not leak to the sender), by position instead of address.
 */
export function statusLine(outcome: Outcome, elapsedMs: number, detail: boolean): string {
  if (outcome.kind === 'delivered') {
    const n = outcome.recipients.length;
    const head = `2.0.0 pgpipe: ${n} rcpt${n === 1 ? '' : 's'}`;
    if (!detail) return head;
    const list = outcome.recipients.map(recipientText).join(', ');
    return oneLine(`${head}: ${list}; spam ${spamText(outcome.spam)}; ${seconds(elapsedMs)}`, 1000);
  }
  return oneLine(`${outcome.dsn} pgpipe: ${outcome.reason}`, 1000);
}

/** Quotes a value for a key=value log line when it holds spaces, quotes or '='. */
const logValue = (value: string): string => (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value));

/**
 * The operator's line (syslog, or stderr when run by hand): queue id, recipient count, each recipient's outcome with
 * short fingerprints, spam verdict, duration. Addresses appear here, never in the status line's DSN text.
 */
export function logLine(outcome: Outcome, elapsedMs: number, queueId: string | null): string {
  const status = outcome.kind === 'delivered' ? 'sent' : outcome.kind;
  const parts = [
    `queue_id=${logValue(queueId ?? '-')}`,
    `status=${status}`,
    `rcpts=${outcome.recipients.length}`,
    `spam=${logValue(spamText(outcome.spam))}`,
    `time=${seconds(elapsedMs)}`,
  ];
  if (outcome.kind !== 'delivered')
    parts.push(`dsn=${outcome.dsn}`, `code=${outcome.code}`, `reason=${logValue(outcome.reason)}`);
  for (const r of outcome.recipients) parts.push(`to=<${oneLine(r.recipient, 200)}>:${logValue(recipientText(r))}`);
  return oneLine(parts.join(' '), 3000);
}
