// Undoes base64 / quoted-printable for the protection check only (the result is never emitted).
// `limit` bounds how many raw bytes are decoded, so a huge part costs only what the caller asks for.

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
