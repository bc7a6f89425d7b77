// Reading header fields: the unfolded value of one field, and all fields of a name in order.
// Values are latin1 strings (one char per byte, lossless); RFC 2047 words are left encoded.
import type { HeaderField, SplitMessage } from './types.js';

/** Text after the first colon, unfolded (CRLF/LF before whitespace removed) and trimmed of SP/HTAB/CR/LF. */
export function headerValue(field: HeaderField): string {
  const text = field.raw.toString('latin1');
  const colon = text.indexOf(':');
  const value = colon === -1 ? '' : text.slice(colon + 1);
  // String.prototype.trim would also eat 0xA0 (NBSP in latin1), which is a data byte here.
  return value.replace(/\r?\n(?=[ \t])/g, '').replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** Every field named `lowerName` (case-insensitive), in message order. */
export function findFields(msg: Pick<SplitMessage, 'fields'>, lowerName: string): HeaderField[] {
  const wanted = lowerName.toLowerCase();
  return msg.fields.filter((field) => field.lower === wanted);
}
