// gpgit's `--inline-flatten`: a multipart/alternative of exactly a useful text/plain part and a text/html part
// becomes that text/plain part alone, so inline PGP can carry it. Lossy by design (the HTML is dropped); the two
// halves of an alternative are meant to say the same thing. Pure; returns null when the rule does not apply.
import { isContentField } from './header-protection.js';
import { contentTypeOf, transferEncodingOf } from './content-type.js';
import { multipartChildren } from './mime-parts.js';
import { splitMessage } from './split-message.js';
import { decodeTransfer } from './transfer-decoding.js';
import type { HeaderField, SplitMessage } from './types.js';

/** gpgit's threshold: the text half must hold at least this many characters once surrounding whitespace goes. */
export const USEFUL_TEXT_CHARS = 10;

/** Added outside so the reader can tell why the HTML is missing (what gpgit's X-GPGIT-Flattened-From says). */
export const FLATTENED_FIELD = 'X-Pgpipe-Flattened-From: multipart/alternative(text/plain,text/html)';

/** Decoded bytes with at least USEFUL_TEXT_CHARS bytes between the first and last non-whitespace byte. */
function isUseful(fields: readonly HeaderField[], body: Buffer): boolean {
  const text = decodeTransfer(body, transferEncodingOf(fields));
  const white = (byte: number | undefined): boolean =>
    byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a || byte === 0x0b || byte === 0x0c;
  let start = 0;
  let end = text.length;
  while (start < end && white(text[start])) start += 1;
  while (end > start && white(text[end - 1])) end -= 1;
  return end - start >= USEFUL_TEXT_CHARS;
}

/**
 * The message with its multipart/alternative body replaced by the text/plain half: the outer non-Content-*
 * fields in order, the text part's own Content-* fields where the outer Content-Type stood, its body as the body.
 */
export function flattenAlternative(msg: SplitMessage): SplitMessage | null {
  const { type, params } = contentTypeOf(msg.fields);
  const boundary = params['boundary'] ?? '';
  if (type !== 'multipart/alternative' || boundary === '') return null;
  const parts: SplitMessage[] = [];
  for (const child of multipartChildren(msg.body, boundary)) {
    if (parts.length === 2) return null;
    parts.push(splitMessage(child));
  }
  const [text, html] = parts;
  if (text === undefined || html === undefined) return null;
  if (contentTypeOf(text.fields).type !== 'text/plain' || contentTypeOf(html.fields).type !== 'text/html') return null;
  if (!text.hasSeparator || !isUseful(text.fields, text.body)) return null;

  const marker: HeaderField = {
    name: 'X-Pgpipe-Flattened-From',
    lower: 'x-pgpipe-flattened-from',
    raw: Buffer.from(FLATTENED_FIELD, 'latin1'),
  };
  const textContent = text.fields.filter(isContentField);
  const fields: HeaderField[] = [];
  let placed = false;
  for (const field of msg.fields) {
    if (!isContentField(field)) {
      fields.push(field);
    } else if (!placed) {
      fields.push(...textContent, marker);
      placed = true;
    }
  }
  // A text part without Content-* fields is text/plain; us-ascii (RFC 2045), and must not inherit the outer type.
  return { ...msg, fields, body: text.body, separator: msg.eol, hasSeparator: true };
}
