// Splits a raw message into header fields and body bytes without changing a byte (LF, CRLF or mixed input).
// Pure: no decoding of bodies; field names are read as latin1 so 8-bit and NUL bytes survive. A header field
// holding a bare CR ends the header section (the whole field becomes the start of the body). A leading mbox
// `From ` envelope line is set aside (SplitMessage.envelope) so the headers after it are still parsed.
// Lossless: joinMessage(splitMessage(raw)) is raw, byte for byte, so fields are removed through it too.
import type { HeaderField, SplitMessage } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const FROM_SPACE = Buffer.from('From ', 'latin1');

type Eol = '' | '\n' | '\r\n';

/** Length of the field name when `line` starts a header field (`name *WSP ":"`), else -1. */
function fieldNameLength(raw: Buffer, start: number, end: number): number {
  let at = start;
  while (at < end) {
    const byte = raw[at] ?? 0;
    if (byte === COLON || byte === SP || byte === HTAB || byte < 33 || byte > 126) break;
    at += 1;
  }
  const nameEnd = at;
  if (nameEnd === start) return -1;
  while (at < end && (raw[at] === SP || raw[at] === HTAB)) at += 1; // obsolete `Name :` syntax (RFC 5322 §4.5)
  return at < end && raw[at] === COLON ? nameEnd - start : -1;
}

function hasCr(raw: Buffer, start: number, end: number): boolean {
  for (let at = start; at < end; at += 1) if (raw[at] === CR) return true;
  return false;
}

/**
 * Length (with its EOL) of a leading mbox envelope line: `From ` that is not the obsolete `From :` header syntax,
 * ended by a line break and free of bare CR. 0 when there is none.
 */
function envelopeLength(raw: Buffer): number {
  if (!raw.subarray(0, FROM_SPACE.length).equals(FROM_SPACE)) return 0;
  const lf = raw.indexOf(LF);
  if (lf === -1) return 0;
  const contentEnd = lf > 0 && raw[lf - 1] === CR ? lf - 1 : lf;
  if (fieldNameLength(raw, 0, contentEnd) >= 0 || hasCr(raw, 0, contentEnd)) return 0;
  return lf + 1;
}

export function splitMessage(raw: Buffer): SplitMessage {
  const fields: HeaderField[] = [];
  let eol: '\n' | '\r\n' | undefined;
  // The field being collected: where it starts, its name, where its content (without final EOL) ends.
  let fieldStart = -1;
  let fieldName = '';
  let fieldEnd = 0;
  let fieldEol: Eol = '';

  const closeField = (): void => {
    if (fieldStart < 0) return;
    fields.push({
      name: fieldName,
      lower: fieldName.toLowerCase(),
      raw: raw.subarray(fieldStart, fieldEnd),
      eol: fieldEol,
    });
    fieldStart = -1;
  };
  let envelope: Buffer | undefined;
  const result = (body: Buffer, separator: Eol): SplitMessage => {
    closeField();
    const split = { fields, body, eol: eol ?? '\n', hasSeparator: separator !== '', separator };
    return envelope === undefined ? split : { ...split, envelope };
  };

  let lineStart = envelopeLength(raw);
  if (lineStart > 0) {
    envelope = raw.subarray(0, lineStart);
    eol = raw[lineStart - 2] === CR ? '\r\n' : '\n';
  }
  while (lineStart < raw.length) {
    const lf = raw.indexOf(LF, lineStart);
    const next = lf === -1 ? raw.length : lf + 1;
    const lineEol: Eol = lf === -1 ? '' : lf > lineStart && raw[lf - 1] === CR ? '\r\n' : '\n';
    const contentEnd = next - lineEol.length;
    if (eol === undefined && lineEol !== '') eol = lineEol;

    if (contentEnd === lineStart && lineEol !== '') return result(raw.subarray(next), lineEol);
    const first = raw[lineStart];
    if (hasCr(raw, lineStart, contentEnd)) {
      // A bare CR is a line break to some readers: it could hide text inside a header field that stays visible
      // outside the encryption. RFC 5322 forbids it, so the field holding it (whole) starts the body instead.
      if ((first === SP || first === HTAB) && fieldStart >= 0) {
        const bodyStart = fieldStart;
        fieldStart = -1;
        return result(raw.subarray(bodyStart), '');
      }
      return result(raw.subarray(lineStart), '');
    }
    if ((first === SP || first === HTAB) && fieldStart >= 0) {
      fieldEnd = contentEnd; // continuation line: the field grows, folding kept as it came
      fieldEol = lineEol;
    } else {
      const nameLength = fieldNameLength(raw, lineStart, contentEnd);
      if (nameLength < 0) return result(raw.subarray(lineStart), ''); // not a header line: the body starts here
      closeField();
      fieldStart = lineStart;
      fieldName = raw.toString('latin1', lineStart, lineStart + nameLength);
      fieldEnd = contentEnd;
      fieldEol = lineEol;
    }
    lineStart = next;
  }
  return result(raw.subarray(raw.length), '');
}

/**
 * The bytes of `message` again: envelope line, each field with its own line ending, the separator, the body.
 * joinMessage(splitMessage(raw)) equals raw for every input (the fuzz suite checks it).
 */
export function joinMessage(message: SplitMessage): Buffer {
  const pieces: Buffer[] = message.envelope === undefined ? [] : [message.envelope];
  for (const field of message.fields) pieces.push(field.raw, Buffer.from(field.eol ?? message.eol, 'latin1'));
  pieces.push(Buffer.from(message.separator ?? (message.hasSeparator ? message.eol : ''), 'latin1'), message.body);
  return Buffer.concat(pieces);
}

/** `message` without the fields `drop` selects (by lower-cased name); every other byte stays as it came. */
export function withoutFields(message: SplitMessage, drop: (lower: string) => boolean): SplitMessage {
  return { ...message, fields: message.fields.filter((field) => !drop(field.lower)) };
}

/** `raw` without the header fields `drop` selects. Returns `raw` itself when none match. */
export function removeFields(raw: Buffer, drop: (lower: string) => boolean): Buffer {
  const message = splitMessage(raw);
  if (!message.fields.some((field) => drop(field.lower))) return raw;
  return joinMessage(withoutFields(message, drop));
}
