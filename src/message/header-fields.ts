// Reading header fields: the unfolded value of one field, and of the first field of a name.
// Values are latin1 strings (one char per byte, lossless); RFC 2047 words are left encoded.
import type { HeaderField, SplitMessage } from './types.js';

const isTrimmed = (code: number): boolean => code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;

/** Text after the first colon, unfolded (CRLF/LF before whitespace removed) and trimmed of SP/HTAB/CR/LF. */
export function headerValue(field: HeaderField): string {
  const text = field.raw.toString('latin1');
  const colon = text.indexOf(':');
  const value = colon === -1 ? '' : text.slice(colon + 1);
  const unfolded = value.replace(/\r?\n(?=[ \t])/g, '');
  // Trimmed by index, not by regex: `[ \t]+$` retries at every position of a long whitespace run (O(n²), a DoS
  // with a 100 KB header). String.prototype.trim would also eat 0xA0 (NBSP in latin1), a data byte here.
  let start = 0;
  let end = unfolded.length;
  while (start < end && isTrimmed(unfolded.charCodeAt(start))) start += 1;
  while (end > start && isTrimmed(unfolded.charCodeAt(end - 1))) end -= 1;
  return unfolded.slice(start, end);
}

/** The unfolded value of the first field named `lowerName` (case-insensitive), or null when there is none. */
export function firstFieldValue(msg: Pick<SplitMessage, 'fields'>, lowerName: string): string | null {
  const wanted = lowerName.toLowerCase();
  const field = msg.fields.find((f) => f.lower === wanted);
  return field === undefined ? null : headerValue(field);
}
