// Decides whether a message is already end-to-end protected (PGP/MIME, inline PGP, S/MIME) and must pass as is.
// Bounded: only the top level, the first few children and the first text leaf are looked at; never throws.
import { contentTypeOf, dispositionOf, transferEncodingOf } from './content-type.js';
import { mimeLeaves, multipartChildren } from './mime-parts.js';
import { splitMessage } from './split-message.js';
import { decodeTransfer } from './transfer-decoding.js';
import type { HeaderField, Protection, SplitMessage } from './types.js';

const BEGIN_MESSAGE = Buffer.from('-----BEGIN PGP MESSAGE-----', 'latin1');
const END_MESSAGE = Buffer.from('-----END PGP MESSAGE-----', 'latin1');
/** Raw bytes decoded to look for the armor header; leading whitespace longer than this is not "leading". */
const PREFIX_BYTES = 8 * 1024;
/** How far into an Exchange octet-stream part the armor header may start. */
const EXCHANGE_SCAN_BYTES = 64 * 1024;

const NONE: Protection = { kind: 'none' };

const isWhitespace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

function startsWithArmor(decoded: Buffer): boolean {
  let at = 0;
  while (at < decoded.length && isWhitespace(decoded[at])) at += 1;
  return decoded.subarray(at, at + BEGIN_MESSAGE.length).equals(BEGIN_MESSAGE);
}

function isSmimeName(fields: readonly HeaderField[]): boolean {
  const names = [contentTypeOf(fields).params['name'], dispositionOf(fields).filename];
  return names.some((name) => name !== undefined && name.trim().toLowerCase() === 'smime.p7m');
}

function isAttachment(fields: readonly HeaderField[]): boolean {
  return (
    dispositionOf(fields).type === 'attachment' ||
    contentTypeOf(fields).params['name'] !== undefined ||
    dispositionOf(fields).filename !== undefined
  );
}

/** The first text leaf begins with a PGP message armor and contains its end line. */
function isInlinePgp(fields: readonly HeaderField[], body: Buffer): boolean {
  const encoding = transferEncodingOf(fields);
  if (!startsWithArmor(decodeTransfer(body, encoding, PREFIX_BYTES))) return false;
  // Only reached for text that really starts like an OpenPGP message, so decoding all of it is fine.
  return decodeTransfer(body, encoding).indexOf(END_MESSAGE) !== -1;
}

function isBlank(body: Buffer): boolean {
  for (const byte of body) if (!isWhitespace(byte)) return false;
  return true;
}

/** multipart/mixed: [empty text/plain,] application/pgp-encrypted, application/octet-stream with armor. */
function isExchangeMangled(body: Buffer, boundary: string): boolean {
  const parts: { fields: readonly HeaderField[]; body: Buffer }[] = [];
  for (const child of multipartChildren(body, boundary)) {
    if (parts.length === 3) return false;
    parts.push(splitMessage(child));
  }
  const first = parts[0];
  if (parts.length === 3 && first !== undefined) {
    if (contentTypeOf(first.fields).type !== 'text/plain' || !isBlank(first.body)) return false;
    parts.shift();
  }
  const [control, data] = parts;
  if (parts.length !== 2 || control === undefined || data === undefined) return false;
  if (contentTypeOf(control.fields).type !== 'application/pgp-encrypted') return false;
  if (contentTypeOf(data.fields).type !== 'application/octet-stream') return false;
  const decoded = decodeTransfer(data.body, transferEncodingOf(data.fields), EXCHANGE_SCAN_BYTES);
  return decoded.indexOf(BEGIN_MESSAGE) !== -1;
}

function classify(msg: SplitMessage): Protection {
  const { type, params } = contentTypeOf(msg.fields);
  if (type === 'multipart/encrypted') return { kind: 'pgp-mime' };
  if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime') return { kind: 'smime' };
  if (isSmimeName(msg.fields)) return { kind: 'smime' };
  if (type === 'multipart/signed') return NONE; // signed, not encrypted: the filter encrypts it
  const boundary = params['boundary'] ?? '';
  if (type === 'multipart/mixed' && boundary !== '' && isExchangeMangled(msg.body, boundary)) {
    return { kind: 'pgp-mime-exchange' };
  }

  // One depth-first pass decides both: the first text leaf (inline PGP) and the first attachment (smime.p7m).
  // An smime.p7m attachment only counts when no readable text precedes it (a gateway's wrapper): a cleartext
  // message that merely carries such a file must still be encrypted.
  let textDecided = false;
  let attachmentDecided = false;
  let cleartextSeen = false;
  for (const leaf of mimeLeaves(msg.fields, msg.body)) {
    if (!attachmentDecided && isAttachment(leaf.fields)) {
      attachmentDecided = true;
      if (isSmimeName(leaf.fields) && !cleartextSeen) return { kind: 'smime' };
    }
    const isText = contentTypeOf(leaf.fields).type.startsWith('text/');
    if (isText && !isBlank(leaf.body)) cleartextSeen = true;
    if (!textDecided && isText) {
      textDecided = true;
      if (isInlinePgp(leaf.fields, leaf.body)) return { kind: 'pgp-inline' };
    }
    if (textDecided && attachmentDecided) break;
  }
  return NONE;
}

export function detectProtection(msg: SplitMessage): Protection {
  try {
    return classify(msg);
  } catch {
    return NONE; // broken MIME is never "protected": encrypting it again is the safe side
  }
}
