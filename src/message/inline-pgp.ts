// Inline PGP, gpgit's `--encrypt-mode prefer-inline|inline-or-plain`: a message that is one text/plain part gets
// that part's decoded text encrypted as one armored PGP MESSAGE in place of its body. Everything else about the
// message stays as it came, except the transfer encoding (the armor is 7bit) and what the armor makes stale.
// Pure: the caller encrypts `text` and hands the armor back to buildInlineMessage.
import { withEol } from './canonical-eol.js';
import { contentTypeOf, dispositionOf, transferEncodingOf } from './content-type.js';
import { isPlaintextSignature } from './header-protection.js';
import { decodeTransfer } from './transfer-decoding.js';
import type { HeaderField, SplitMessage } from './types.js';

/** Transfer encodings whose decoded bytes we know; anything else (x-uuencode, garbage) is not inline material. */
const KNOWN_ENCODINGS = new Set(['7bit', '8bit', 'binary', 'quoted-printable', 'base64']);

/**
 * Charsets in which ASCII armor would read as other characters (UTF-7 decodes `+...` runs, UTF-16/32 pair the
 * bytes): the kept charset label would garble the armor, and pgpipe's own check would not see it as encrypted.
 */
const NON_ASCII_CHARSET =
  /^(?:(?:x-)?(?:unicode-1-1-)?utf-?(?:7|16|32)|x-imap4-modified-utf7|ucs-?[24]|unicode|csunicode|iso-10646-ucs)/;

/**
 * Header fields the armor makes stale or that would confirm the plaintext: the old transfer encoding (replaced),
 * a body length or hash (Content-Length, Content-MD5), and signatures over the plaintext (DKIM, ARC, ...: they
 * commit to the body with a hash; gpgit drops DKIM-Signature and DomainKey-Signature for the same reason).
 */
const isStale = (field: HeaderField): boolean =>
  field.lower === 'content-transfer-encoding' ||
  field.lower === 'content-length' ||
  field.lower === 'content-md5' ||
  isPlaintextSignature(field);

/**
 * The armor's `Charset:` header for an ISO-8859 text. NeoMutt's classic PGP backend decodes decrypted inline text
 * as UTF-8 unless the armor says otherwise (the part's own charset label is not used): it showed a latin1 "café" as
 * "caf" and a replacement character without the header, and "café" with it. Only ISO-8859-n: that is the header
 * GnuPG writes and the one pgpipe's "already encrypted" check accepts; UTF-8 and US-ASCII are the default anyway.
 */
function armorCharset(msg: SplitMessage): string | null {
  const charset = contentTypeOf(msg.fields).params['charset']?.trim() ?? '';
  const iso = /^iso[-_]?8859[-_](\d{1,2})$/i.exec(charset);
  return iso === null ? null : `Charset: ISO-8859-${iso[1]}`;
}

/** `armor` with `header` as its first armor header line (after the BEGIN line). */
function withArmorHeader(armor: Buffer, header: string | null): Buffer {
  const lf = armor.indexOf(0x0a);
  if (header === null || lf === -1) return armor;
  return Buffer.concat([armor.subarray(0, lf + 1), Buffer.from(`${header}\n`, 'latin1'), armor.subarray(lf + 1)]);
}

const count = (fields: readonly HeaderField[], lower: string): number =>
  fields.reduce((n, field) => n + (field.lower === lower ? 1 : 0), 0);

/**
 * The decoded text of a message that inline PGP can carry, or null. That is: a single text/plain part (a missing
 * Content-Type is text/plain), not an attachment (a file stays a file: PGP/MIME keeps its name and disposition),
 * with one unambiguous Content-Type and transfer encoding we can decode, in a charset ASCII armor survives. The
 * text is the decoded bytes, charset untouched (never transcoded): the reader decodes it with the kept label.
 */
export function inlineText(msg: SplitMessage): Buffer | null {
  if (count(msg.fields, 'content-type') > 1 || count(msg.fields, 'content-transfer-encoding') > 1) return null;
  const contentType = contentTypeOf(msg.fields);
  if (contentType.type !== 'text/plain') return null;
  if (dispositionOf(msg.fields).type === 'attachment') return null;
  if (NON_ASCII_CHARSET.test(contentType.params['charset']?.trim().toLowerCase() ?? '')) return null;
  const encoding = transferEncodingOf(msg.fields);
  if (!KNOWN_ENCODINGS.has(encoding)) return null;
  return decodeTransfer(msg.body, encoding);
}

/**
 * The inline PGP message: the original header fields in order (Subject included: an inline reader has no
 * protected copy to show, so hiding it would lose it), without the stale ones, Content-Transfer-Encoding 7bit
 * where the old one stood (or after Content-Type), then the armor as the body (with a Charset: header for ISO-8859
 * text, see armorCharset). Line endings follow msg.eol.
 * `armor` is what OpenPGP.js returned (LF line ends; a string or latin1 chunks).
 */
export function buildInlineMessage(msg: SplitMessage, armor: string | readonly Buffer[]): Buffer {
  const eol = msg.eol;
  const eolBytes = Buffer.from(eol, 'latin1');
  const cte = Buffer.from(`Content-Transfer-Encoding: 7bit${eol}`, 'latin1');
  const hadCte = msg.fields.some((f) => f.lower === 'content-transfer-encoding');
  const hadType = msg.fields.some((f) => f.lower === 'content-type');
  const lines: Buffer[] = msg.envelope === undefined ? [] : [msg.envelope];
  let cteWritten = false;
  for (const field of msg.fields) {
    if (field.lower === 'content-transfer-encoding' && !cteWritten) {
      lines.push(cte);
      cteWritten = true;
    }
    if (isStale(field)) continue;
    lines.push(withEol(field.raw, eol), eolBytes);
    if (field.lower === 'content-type' && !hadCte && !cteWritten) {
      lines.push(cte);
      cteWritten = true;
    }
  }
  // No Content-Type and no transfer encoding: a plain RFC 5322 message, already 7bit text/plain by default.
  if (!cteWritten && hadType) lines.push(cte);
  const text = typeof armor === 'string' ? Buffer.from(armor, 'latin1') : Buffer.concat([...armor]);
  return Buffer.concat([...lines, eolBytes, withEol(withArmorHeader(text, armorCharset(msg)), eol)]);
}
