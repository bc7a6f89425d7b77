// The oracle's own header/body split, written from the rules in the README (not imported from src/), so that a bug in
// src/message/split-message.ts cannot hide itself. Bytes stay latin1; nothing is decoded.

export interface OracleField {
  /** Lower-cased name. */
  readonly lower: string;
  /** Raw field, all lines, without the final line ending. */
  readonly raw: Buffer;
}

export interface OracleSplit {
  /** A leading mbox `From ` envelope line (with its EOL): not a header, never content (sendmail strips it). */
  readonly envelope: Buffer;
  readonly fields: readonly OracleField[];
  readonly body: Buffer;
  readonly hasSeparator: boolean;
}

// RFC 5322 ftext (printable US-ASCII except ":"), then the obsolete optional WSP before the colon (§4.5).
const FIELD_START = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * A leading mbox `From ` line is set aside (as src/message does, and as every sendmail strips it). Then:
 * header section = lines up to the first empty line; a line that is neither `name:` nor a continuation ends the
 * header section and starts the body. Lines end at LF (a CR before it belongs to the line ending).
 */
export function oracleSplit(raw: Buffer): OracleSplit {
  const fields: { lower: string; start: number; end: number }[] = [];
  const envelopeEnd = envelopeLength(raw);
  const envelope = raw.subarray(0, envelopeEnd);
  let pos = envelopeEnd;
  while (pos < raw.length) {
    const lf = raw.indexOf(0x0a, pos);
    const lineEnd = lf === -1 ? raw.length : lf; // exclusive, before LF
    const contentEnd = lineEnd > pos && raw[lineEnd - 1] === 0x0d && lf !== -1 ? lineEnd - 1 : lineEnd;
    const next = lf === -1 ? raw.length : lf + 1;
    if (contentEnd === pos && lf !== -1) {
      return { envelope, fields: materialise(raw, fields), body: raw.subarray(next), hasSeparator: true };
    }
    const first = raw[pos];
    if ((first === 0x20 || first === 0x09) && fields.length > 0) {
      fields[fields.length - 1]!.end = contentEnd;
    } else {
      const head = raw.toString('latin1', pos, contentEnd);
      const match = FIELD_START.exec(head);
      if (match === null)
        return { envelope, fields: materialise(raw, fields), body: raw.subarray(pos), hasSeparator: false };
      fields.push({ lower: (match[1] ?? '').toLowerCase(), start: pos, end: contentEnd });
    }
    pos = next;
  }
  return { envelope, fields: materialise(raw, fields), body: Buffer.alloc(0), hasSeparator: false };
}

/** `From ` at byte 0, not the obsolete `From :` field syntax, ended by LF, no bare CR before it: an mbox envelope. */
function envelopeLength(raw: Buffer): number {
  if (raw.toString('latin1', 0, 5) !== 'From ') return 0;
  const lf = raw.indexOf(0x0a);
  if (lf === -1) return 0;
  const line = raw.toString('latin1', 0, lf).replace(/\r$/, '');
  if (FIELD_START.test(line) || line.includes('\r')) return 0;
  return lf + 1;
}

const materialise = (raw: Buffer, fields: { lower: string; start: number; end: number }[]): OracleField[] =>
  fields.map((f) => ({ lower: f.lower, raw: raw.subarray(f.start, f.end) }));

/** Bare LF → CRLF; CRLF and lone CR untouched (RFC 3156's canonical form, as pgpipe writes the payload). */
export function crlf(buf: Buffer): Buffer {
  let count = 0;
  for (let i = 0; i < buf.length; i += 1) if (buf[i] === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) count += 1;
  if (count === 0) return buf;
  const out = Buffer.alloc(buf.length + count);
  let o = 0;
  for (let i = 0; i < buf.length; i += 1) {
    const byte = buf[i]!;
    if (byte === 0x0a && (i === 0 || buf[i - 1] !== 0x0d)) out[o++] = 0x0d;
    out[o++] = byte;
  }
  return out;
}
