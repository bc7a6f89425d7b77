// Which header fields are protected (copied into the encrypted payload) and what the outer Subject becomes.
import type { HeaderField, HeaderProtectionOptions } from './types.js';

/** RFC 9788 / protected-headers="v1" fields copied verbatim into the payload root (lower-case names). */
export const PROTECTED_FIELDS: ReadonlySet<string> = new Set([
  'from', 'to', 'cc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references',
]);

/**
 * Fields that carry a copy of the Subject (SpamAssassin's rewrite_header, Exchange/Outlook, gateways). When the
 * Subject is hidden they move inside with the protected copies and leave the outside (no HP-Outer line).
 */
export const SUBJECT_COPIES: ReadonlySet<string> = new Set([
  'x-spam-prev-subject', 'thread-topic', 'x-original-subject', 'original-subject', 'x-asg-orig-subj',
]);

/** Fields that describe the body and therefore move into the encrypted entity. */
export const isContentField = (field: HeaderField): boolean => field.lower.startsWith('content-');

/** The placeholder Subject value when the real Subject is hidden, else null (Subject stays visible). */
/** Moved entirely inside: a Subject copy while the outer Subject is hidden (placeholder = outerSubjectValue). */
export const isHiddenSubjectCopy = (field: HeaderField, placeholder: string | null): boolean =>
  placeholder !== null && SUBJECT_COPIES.has(field.lower);

export function outerSubjectValue(hp: HeaderProtectionOptions): string | null {
  if (!hp.enabled || hp.subjectPlaceholder === null) return null;
  const text = hp.subjectPlaceholder;
  // Header bytes must stay 7-bit for non-SMTPUTF8 hops: anything else becomes one RFC 2047 word.
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}
