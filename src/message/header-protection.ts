// Which header fields are protected (copied into the encrypted payload) and what the outer Subject becomes.
import type { HeaderField, HeaderProtectionOptions } from './types.js';

/** RFC 9788 / protected-headers="v1" fields copied verbatim into the payload root (lower-case names). */
export const PROTECTED_FIELDS: ReadonlySet<string> = new Set([
  'from',
  'to',
  'cc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'in-reply-to',
  'references',
]);

/**
 * Fields that carry a copy of the Subject (SpamAssassin's rewrite_header, Exchange/Outlook, gateways). When the
 * Subject is hidden they move inside with the protected copies and leave the outside (no HP-Outer line).
 */
export const SUBJECT_COPIES: ReadonlySet<string> = new Set([
  'x-spam-prev-subject',
  'thread-topic',
  'x-original-subject',
  'original-subject',
  'x-asg-orig-subj',
]);

/**
 * RFC 9788 §3.2.1 hcp_baseline, the default Header Confidentiality Policy (used while the Subject is hidden): the
 * Subject becomes "[...]", Keywords and Comments are removed from the outside, every other field is unchanged. The
 * removed fields move inside beside the protected copies, with no HP-Outer line (§2.2: nothing of them is outside).
 * `--keep-subject` is RFC 9788's hcp_no_confidentiality: nothing is obscured.
 */
export const BASELINE_REMOVED: ReadonlySet<string> = new Set(['comments', 'keywords']);

/** Moved entirely inside by the policy: Keywords, Comments and the Subject's copies, while the Subject is hidden. */
export const isRemovedOutside = (field: HeaderField, placeholder: string | null): boolean =>
  placeholder !== null && (SUBJECT_COPIES.has(field.lower) || BASELINE_REMOVED.has(field.lower));

/**
 * Signatures over the plaintext (issue 11 item 6): each commits to the body with a `bh=` hash and to header fields
 * such as the real Subject, so left outside it lets anyone confirm a guessed body or Subject (and encryption breaks
 * it anyway). DKIM and its renamed copies (X-Google-DKIM-Signature, X-Original-DKIM-Signature, ...), DomainKeys
 * (signs the body itself), and the whole ARC set: ARC-Message-Signature carries bh= and signs the Subject, and
 * ARC-Seal/ARC-Authentication-Results without it are a broken chain. Any other field with DKIM-style `bh=` and
 * `b=` tags is dropped too, whatever its name, except the fields pgpipe copies inside or keeps for routing (a
 * crafted `Subject: x; bh=1; b=2` is a Subject, not a signature).
 */
const SIGNATURE_FIELDS: ReadonlySet<string> = new Set([
  'domainkey-signature',
  'arc-message-signature',
  'arc-seal',
  'arc-authentication-results',
]);

const NEVER_A_SIGNATURE = (lower: string): boolean =>
  PROTECTED_FIELDS.has(lower) || SUBJECT_COPIES.has(lower) || BASELINE_REMOVED.has(lower) || lower === 'received';

export function isPlaintextSignature(field: HeaderField): boolean {
  if (SIGNATURE_FIELDS.has(field.lower) || field.lower.endsWith('dkim-signature')) return true;
  return !NEVER_A_SIGNATURE(field.lower) && hasSignatureTags(field.raw);
}

/** DKIM tag-list `bh=` and `b=` tags (`[FWS] name [FWS] =`) in the value. Linear: one split, anchored tests. */
function hasSignatureTags(raw: Buffer): boolean {
  const text = raw.toString('latin1');
  const value = text.slice(text.indexOf(':') + 1);
  if (!/bh/i.test(value)) return false;
  const names = new Set(value.split(';').map((tag) => /^[ \t\r\n]*(bh|b)[ \t\r\n]*=/i.exec(tag)?.[1]?.toLowerCase()));
  return names.has('bh') && names.has('b');
}

/** Fields that describe the body and therefore move into the encrypted entity. */
export const isContentField = (field: HeaderField): boolean => field.lower.startsWith('content-');

/** The placeholder Subject value when the real Subject is hidden, else null (Subject stays visible). */
export function outerSubjectValue(hp: HeaderProtectionOptions): string | null {
  if (!hp.enabled || hp.subjectPlaceholder === null) return null;
  const text = hp.subjectPlaceholder;
  // Header bytes must stay 7-bit for non-SMTPUTF8 hops: anything else becomes one RFC 2047 word.
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}
