// Decides whether a message is already end-to-end protected (PGP/MIME, inline PGP, S/MIME) and must pass as is.
// Protected means really encrypted (signed-only data does not count) and no cleartext part escapes beside it.
// Bounded: parts are decoded only as far as the checks need, the walk is capped; never throws.
import { contentTypeOf, dispositionOf, transferEncodingOf, type ContentType } from './content-type.js';
import { mimeLeaves, multipartChildren } from './mime-parts.js';
import { armorIsEncrypted, isEncryptedOpenPgp, startsWithArmor } from './openpgp-data.js';
import { isSmimeEnveloped } from './smime-data.js';
import { splitMessage } from './split-message.js';
import { decodeTransfer } from './transfer-decoding.js';
import type { HeaderField, Protection, SplitMessage } from './types.js';

const END_MESSAGE = Buffer.from('-----END PGP MESSAGE-----', 'latin1');
/** Raw bytes decoded to look for the armor header; leading whitespace longer than this is not "leading". */
const PREFIX_BYTES = 8 * 1024;

const NONE: Protection = { kind: 'none' };

const isWhitespace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

function isBlank(body: Buffer): boolean {
  for (const byte of body) if (!isWhitespace(byte)) return false;
  return true;
}

const isPkcs7Type = (type: string): boolean =>
  type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime';

/** A part that claims to be S/MIME: a pkcs7-mime type, or an smime.p7m name on a non-text part. */
function claimsSmime(fields: readonly HeaderField[], contentType: ContentType): boolean {
  if (isPkcs7Type(contentType.type)) return true;
  if (contentType.type.startsWith('text/')) return false;
  const names = [contentType.params['name'], dispositionOf(fields).filename];
  return names.some((name) => name !== undefined && name.trim().toLowerCase() === 'smime.p7m');
}

/**
 * The whole armor, and nothing else: optional armor headers, base64 lines, an optional CRC line, the END line, then
 * only whitespace. Anything readable between or after (a "footer" with the real text) makes the part cleartext.
 * Line by line, so it is linear on a 20 MB body.
 */
const WHOLE_ARMOR =
  /^\s*-----BEGIN PGP MESSAGE-----[ \t]*\r?\n(?:[^\r\n:]+:[^\r\n]*\r?\n)*[ \t]*\r?\n(?:[A-Za-z0-9+/]+=*[ \t]*\r?\n)+(?:=[A-Za-z0-9+/]{4}[ \t]*\r?\n)?-----END PGP MESSAGE-----\s*$/;

/** A text part that is exactly one encrypted PGP message armor (leading and trailing whitespace allowed). */
function isInlinePgp(fields: readonly HeaderField[], body: Buffer): boolean {
  const encoding = transferEncodingOf(fields);
  const prefix = decodeTransfer(body, encoding, PREFIX_BYTES);
  if (!startsWithArmor(prefix) || !armorIsEncrypted(prefix)) return false;
  // Only reached for text that really starts like an encrypted OpenPGP message, so decoding all of it is fine.
  const whole = decodeTransfer(body, encoding);
  return whole.indexOf(END_MESSAGE) !== -1 && WHOLE_ARMOR.test(whole.toString('latin1'));
}

/** Part content that is encrypted OpenPGP data, armored or (non-text parts only) binary. */
function holdsEncryptedOpenPgp(fields: readonly HeaderField[], body: Buffer, contentType: ContentType): boolean {
  if (contentType.type.startsWith('text/')) return isInlinePgp(fields, body);
  return isEncryptedOpenPgp(decodeTransfer(body, transferEncodingOf(fields), PREFIX_BYTES), true);
}

/**
 * RFC 3156 layout `application/pgp-encrypted` + `application/octet-stream` holding encrypted OpenPGP data;
 * with `leadingBlankText`, an optional empty text/plain part may come first (what Exchange makes of it).
 */
function isPgpMimeLayout(body: Buffer, boundary: string, leadingBlankText: boolean): boolean {
  const parts: { fields: readonly HeaderField[]; body: Buffer }[] = [];
  for (const child of multipartChildren(body, boundary)) {
    if (parts.length === 3) return false;
    parts.push(splitMessage(child));
  }
  const first = parts[0];
  if (leadingBlankText && parts.length === 3 && first !== undefined) {
    if (contentTypeOf(first.fields).type !== 'text/plain' || !isBlank(first.body)) return false;
    parts.shift();
  }
  const [control, data] = parts;
  if (parts.length !== 2 || control === undefined || data === undefined) return false;
  if (contentTypeOf(control.fields).type !== 'application/pgp-encrypted') return false;
  const dataType = contentTypeOf(data.fields);
  return dataType.type === 'application/octet-stream' && holdsEncryptedOpenPgp(data.fields, data.body, dataType);
}

/**
 * One depth-first pass over every leaf. Protected when the first text leaf is inline PGP or some leaf is S/MIME
 * enveloped data, and every other leaf is blank or itself encrypted; any cleartext leaf (or an incomplete walk)
 * means the message gets encrypted.
 */
function classifyLeaves(msg: SplitMessage): Protection {
  let complete = true;
  let firstTextSeen = false;
  let anchor: Protection | undefined;
  const leaves = mimeLeaves(msg.fields, msg.body, undefined, () => {
    complete = false;
  });
  for (const leaf of leaves) {
    const contentType = contentTypeOf(leaf.fields);
    const isText = contentType.type.startsWith('text/');
    if (isText && !firstTextSeen) {
      firstTextSeen = true;
      if (isInlinePgp(leaf.fields, leaf.body)) {
        anchor ??= { kind: 'pgp-inline' };
        continue;
      }
    }
    if (claimsSmime(leaf.fields, contentType) && isSmimeEnveloped(leaf.fields, leaf.body)) {
      anchor ??= { kind: 'smime' };
      continue;
    }
    if (isBlank(leaf.body) || holdsEncryptedOpenPgp(leaf.fields, leaf.body, contentType)) continue;
    return NONE; // cleartext would escape: encrypt the whole message
  }
  return complete && anchor !== undefined ? anchor : NONE;
}

function classify(msg: SplitMessage): Protection {
  const contentType = contentTypeOf(msg.fields);
  const boundary = contentType.params['boundary'] ?? '';
  if (contentType.type === 'multipart/encrypted') {
    return isPgpMimeLayout(msg.body, boundary, false) ? { kind: 'pgp-mime' } : NONE;
  }
  if (claimsSmime(msg.fields, contentType)) return isSmimeEnveloped(msg.fields, msg.body) ? { kind: 'smime' } : NONE;
  if (contentType.type === 'multipart/signed') return NONE; // signed, not encrypted: the filter encrypts it
  if (contentType.type === 'multipart/mixed' && isPgpMimeLayout(msg.body, boundary, true)) {
    return { kind: 'pgp-mime-exchange' };
  }
  return classifyLeaves(msg);
}

export function detectProtection(msg: SplitMessage): Protection {
  try {
    return classify(msg);
  } catch {
    return NONE; // broken MIME is never "protected": encrypting it again is the safe side
  }
}
