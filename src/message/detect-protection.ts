// Decides whether a message is already end-to-end protected (PGP/MIME, inline PGP, S/MIME) and must pass as is.
// The rule is strict: a message passes unchanged only if its structure is exactly what an encrypting client
// writes and every payload parses to its end as encrypted data (openpgp-data.ts, smime-data.ts), so no byte a
// reader could see is readable text. Preambles hold only the sentences clients write, epilogues and the space
// around an armor only whitespace, the PGP/MIME control part only "Version: 1", and a transfer encoding or header
// that readers could take two ways (duplicate Content-Type, lenient base64, UTF-7 text) is not "only ciphertext".
// Anything else is encrypted: encrypting twice is harmless, cleartext at rest is not.
// Bounded: big parts are decoded in full only when their start looks encrypted; the walk is capped; never throws.
import { contentTypeOf, dispositionOf, transferEncodingOf, type ContentType } from './content-type.js';
import { mimeLeaves, multipartSections, type MultipartFrame } from './mime-parts.js';
import {
  isEncryptedMessage,
  isEncryptedOpenPgp,
  mayBeEncryptedOpenPgp,
  parseArmor,
  startsWithArmor,
} from './openpgp-data.js';
import { isSmimeEnveloped } from './smime-data.js';
import { splitMessage } from './split-message.js';
import { decodeTransfer, decodeTransferStrict } from './transfer-decoding.js';
import type { HeaderField, Protection, SplitMessage } from './types.js';

/** Raw bytes decoded to look for the armor header; leading whitespace longer than this is not "leading". */
const PREFIX_BYTES = 8 * 1024;

const NONE: Protection = { kind: 'none' };

const isWhitespace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

function isBlank(body: Buffer): boolean {
  for (const byte of body) if (!isWhitespace(byte)) return false;
  return true;
}

/** Whitespace-trimmed latin1 text with inner runs of whitespace made one space (for short fixed texts only). */
const normalized = (bytes: Buffer): string =>
  bytes
    .toString('latin1')
    .replace(/[ \t\r\n]+/g, ' ')
    .trim();

/**
 * The preambles encrypting clients write (Thunderbird/Enigmail, GnuPG-based clients, GpgOL, ProtonMail, pgpipe
 * itself; "multi-part message" for the multipart/mixed around inline PGP). Any other preamble text is readable
 * at rest; a reader may show it. The epilogue must be blank.
 */
const KNOWN_PREAMBLE = new RegExp(
  '^(?:This is an OpenPGP/MIME encrypted message \\(RFC (?:2440|4880|9580) and 3156\\)' +
    '|This is a multi-?part message in MIME format\\.?)$',
);

const preambleIsHarmless = (bytes: Buffer): boolean =>
  isBlank(bytes) || (bytes.length < 200 && KNOWN_PREAMBLE.test(normalized(bytes)));

/** Content-Transfer-Encodings RFC 2046 §5.1 allows on a multipart entity (others could hide its body). */
const MULTIPART_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

/** Readers disagree on which of two Content-Type (or Content-Transfer-Encoding) fields wins: never "protected". */
function isUnambiguous(fields: readonly HeaderField[]): boolean {
  let types = 0;
  let encodings = 0;
  for (const field of fields) {
    if (field.lower === 'content-type') types += 1;
    else if (field.lower === 'content-transfer-encoding') encodings += 1;
  }
  return types <= 1 && encodings <= 1;
}

/** A multipart entity adds only a known preamble, delimiters and a blank epilogue, and is not transfer-encoded. */
function frameIsHarmless(frame: MultipartFrame): boolean {
  return (
    isUnambiguous(frame.fields) &&
    MULTIPART_ENCODINGS.has(transferEncodingOf(frame.fields)) &&
    preambleIsHarmless(frame.preamble) &&
    frame.epilogue !== undefined &&
    isBlank(frame.epilogue)
  );
}

/**
 * Charsets in which ASCII armor reads as something else: UTF-7 decodes every `+...` run of base64 characters as
 * text, UTF-16/32 pair the armor's bytes into other characters. A text part in one of them is never inline PGP.
 */
const NON_ASCII_CHARSET =
  /^(?:(?:x-)?(?:unicode-1-1-)?utf-?(?:7|16|32)|x-imap4-modified-utf7|ucs-?[24]|unicode|csunicode|iso-10646-ucs)/;

const isPkcs7Type = (type: string): boolean => type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime';

/** A part that claims to be S/MIME: a pkcs7-mime type, or an smime.p7m name on a non-text part. */
function claimsSmime(fields: readonly HeaderField[], contentType: ContentType): boolean {
  if (isPkcs7Type(contentType.type)) return true;
  if (contentType.type.startsWith('text/')) return false;
  const names = [contentType.params['name'], dispositionOf(fields).filename];
  return names.some((name) => name !== undefined && name.trim().toLowerCase() === 'smime.p7m');
}

const smimeEnveloped = (fields: readonly HeaderField[], body: Buffer): boolean =>
  isUnambiguous(fields) && isSmimeEnveloped(fields, body);

/** The part's whole content, strictly transfer-decoded, when its start (cheaply decoded) passes `looksRight`. */
function strictContent(
  fields: readonly HeaderField[],
  body: Buffer,
  looksRight: (prefix: Buffer) => boolean,
): Buffer | undefined {
  if (!isUnambiguous(fields)) return undefined;
  const encoding = transferEncodingOf(fields);
  if (!looksRight(decodeTransfer(body, encoding, PREFIX_BYTES))) return undefined;
  return decodeTransferStrict(body, encoding);
}

/** A text part that is exactly one encrypted PGP message armor (leading and trailing whitespace allowed). */
function isInlinePgp(fields: readonly HeaderField[], body: Buffer): boolean {
  const charset = contentTypeOf(fields).params['charset']?.trim().toLowerCase() ?? '';
  if (NON_ASCII_CHARSET.test(charset)) return false;
  const whole = strictContent(fields, body, startsWithArmor);
  const data = whole === undefined ? undefined : parseArmor(whole);
  return data !== undefined && isEncryptedMessage(data);
}

/** Part content that is encrypted OpenPGP data, armored or (non-text parts only) binary, and nothing else. */
function holdsEncryptedOpenPgp(fields: readonly HeaderField[], body: Buffer, contentType: ContentType): boolean {
  if (contentType.type.startsWith('text/')) return isInlinePgp(fields, body);
  const whole = strictContent(fields, body, (prefix) => mayBeEncryptedOpenPgp(prefix, true));
  return whole !== undefined && isEncryptedOpenPgp(whole, true);
}

/** The RFC 3156 control part says exactly "Version: 1" (whitespace around it only). */
function isControlPart(part: SplitMessage): boolean {
  if (contentTypeOf(part.fields).type !== 'application/pgp-encrypted' || !isUnambiguous(part.fields)) return false;
  const content = decodeTransferStrict(part.body, transferEncodingOf(part.fields));
  if (content === undefined || content.length >= 200) return false;
  return /^[ \t\r\n]*Version: 1[ \t\r\n]*$/.test(content.toString('latin1'));
}

/**
 * RFC 3156 layout `application/pgp-encrypted` + `application/octet-stream` holding encrypted OpenPGP data;
 * with `leadingBlankText`, an optional empty text/plain part may come first (what Exchange makes of it).
 */
function isPgpMimeLayout(msg: SplitMessage, boundary: string, leadingBlankText: boolean): boolean {
  const parts: SplitMessage[] = [];
  let preamble: Buffer = Buffer.alloc(0);
  let epilogue: Buffer | undefined;
  for (const section of multipartSections(msg.body, boundary)) {
    if (section.kind === 'preamble') preamble = section.bytes;
    else if (section.kind === 'epilogue') epilogue = section.bytes;
    else if (parts.length === 3) return false;
    else parts.push(splitMessage(section.bytes));
  }
  if (!frameIsHarmless({ fields: msg.fields, preamble, epilogue })) return false;
  const first = parts[0];
  if (leadingBlankText && parts.length === 3 && first !== undefined) {
    if (contentTypeOf(first.fields).type !== 'text/plain' || !isBlank(first.body)) return false;
    parts.shift();
  }
  const [control, data] = parts;
  if (parts.length !== 2 || control === undefined || data === undefined || !isControlPart(control)) return false;
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
  let framesHarmless = true;
  let firstTextSeen = false;
  let anchor: Protection | undefined;
  const onLimit = (): void => {
    complete = false;
  };
  const onMultipart = (frame: MultipartFrame): void => {
    framesHarmless &&= frameIsHarmless(frame);
  };
  for (const leaf of mimeLeaves(msg.fields, msg.body, undefined, onLimit, onMultipart)) {
    const contentType = contentTypeOf(leaf.fields);
    const isText = contentType.type.startsWith('text/');
    if (isText && !firstTextSeen) {
      firstTextSeen = true;
      if (isInlinePgp(leaf.fields, leaf.body)) {
        anchor ??= { kind: 'pgp-inline' };
        continue;
      }
    }
    if (claimsSmime(leaf.fields, contentType) && smimeEnveloped(leaf.fields, leaf.body)) {
      anchor ??= { kind: 'smime' };
      continue;
    }
    if (isBlank(leaf.body) || holdsEncryptedOpenPgp(leaf.fields, leaf.body, contentType)) continue;
    return NONE; // cleartext would escape: encrypt the whole message
  }
  return complete && framesHarmless && anchor !== undefined ? anchor : NONE;
}

function classify(msg: SplitMessage): Protection {
  const contentType = contentTypeOf(msg.fields);
  const boundary = contentType.params['boundary'] ?? '';
  if (contentType.type === 'multipart/encrypted') {
    return isPgpMimeLayout(msg, boundary, false) ? { kind: 'pgp-mime' } : NONE;
  }
  if (claimsSmime(msg.fields, contentType)) return smimeEnveloped(msg.fields, msg.body) ? { kind: 'smime' } : NONE;
  if (contentType.type === 'multipart/signed') return NONE; // signed, not encrypted: the filter encrypts it
  if (contentType.type === 'multipart/mixed' && isPgpMimeLayout(msg, boundary, true)) {
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
