// Undoes base64 / quoted-printable for the protection check only (the result is never emitted).
// `limit` bounds how many raw bytes are decoded, so a huge part costs only what the caller asks for.
// decodeTransferStrict is for the "already encrypted" verdict: it refuses every encoding on which readers could
// disagree (junk characters, data after base64 padding, stray `=` in quoted-printable), so the bytes checked are
// all the bytes any reader can see.

const EQUALS = 0x3d;

const hexValue = (byte: number | undefined): number => {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
};

/** RFC 2045 §6.7 decoding; malformed `=` sequences are kept literally. */
export function decodeQuotedPrintable(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  let length = 0;
  let from = 0;
  for (let at = src.indexOf(EQUALS); at !== -1; at = src.indexOf(EQUALS, at + 1)) {
    if (at < from) continue;
    length += src.copy(out, length, from, at);
    const high = hexValue(src[at + 1]);
    const low = hexValue(src[at + 2]);
    if (high >= 0 && low >= 0) {
      out[length++] = high * 16 + low;
      from = at + 3;
      continue;
    }
    // Soft line break: `=`, optional transport whitespace, then (CR)LF or end of input.
    let after = at + 1;
    while (src[after] === 0x20 || src[after] === 0x09) after += 1;
    if (after >= src.length) from = after;
    else if (src[after] === 0x0a) from = after + 1;
    else if (src[after] === 0x0d && src[after + 1] === 0x0a) from = after + 2;
    else {
      out[length++] = EQUALS;
      from = at + 1;
    }
  }
  length += src.copy(out, length, from);
  return out.subarray(0, length);
}

/** Decodes the first `limit` raw bytes of a body with the given Content-Transfer-Encoding. */
export function decodeTransfer(body: Buffer, encoding: string, limit = Infinity): Buffer {
  const raw = body.length > limit ? body.subarray(0, limit) : body;
  if (encoding === 'base64') return Buffer.from(raw.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(raw);
  return raw;
}

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
const isBase64Char = (byte: number): boolean =>
  (byte >= 0x41 && byte <= 0x5a) ||
  (byte >= 0x61 && byte <= 0x7a) ||
  (byte >= 0x30 && byte <= 0x39) ||
  byte === 0x2b ||
  byte === 0x2f;

/**
 * Canonical base64 only: the alphabet and line whitespace, `=` padding only as the last one or two characters,
 * a whole number of 4-character groups. Junk characters (RFC 2045 tells readers to skip them), data after the
 * padding (Node stops at the first `=`, other readers go on) or a cut-off group give undefined.
 */
export function decodeBase64Strict(src: Buffer): Buffer | undefined {
  const compact = Buffer.allocUnsafe(src.length);
  let length = 0;
  let padding = 0;
  for (let at = 0; at < src.length; at += 1) {
    const byte = src[at] ?? 0;
    if (isSpace(byte)) continue;
    if (byte === EQUALS) padding += 1;
    else if (padding > 0 || !isBase64Char(byte)) return undefined;
    compact[length++] = byte;
  }
  if (padding > 2 || length % 4 !== 0) return undefined;
  return Buffer.from(compact.toString('latin1', 0, length), 'base64');
}

/**
 * Quoted-printable where every `=` starts a hex pair or a soft line break (RFC 2045 §6.7); a literal `=` that
 * readers may show, drop or decode differently gives undefined.
 */
export function decodeQuotedPrintableStrict(src: Buffer): Buffer | undefined {
  for (let at = src.indexOf(EQUALS); at !== -1; at = src.indexOf(EQUALS, at + 1)) {
    if (hexValue(src[at + 1]) >= 0 && hexValue(src[at + 2]) >= 0) {
      at += 2;
      continue;
    }
    let after = at + 1;
    while (src[after] === 0x20 || src[after] === 0x09) after += 1;
    const softBreak = after >= src.length || src[after] === 0x0a || (src[after] === 0x0d && src[after + 1] === 0x0a);
    if (!softBreak) return undefined;
  }
  return decodeQuotedPrintable(src);
}

/** Identity encodings (RFC 2045 §6.1); anything else but base64/quoted-printable is unknown to readers too. */
const IDENTITY = new Set(['7bit', '8bit', 'binary']);

/** The whole decoded content, or undefined for an unknown or non-canonical Content-Transfer-Encoding. */
export function decodeTransferStrict(body: Buffer, encoding: string): Buffer | undefined {
  if (encoding === 'base64') return decodeBase64Strict(body);
  if (encoding === 'quoted-printable') return decodeQuotedPrintableStrict(body);
  return IDENTITY.has(encoding) ? body : undefined;
}
