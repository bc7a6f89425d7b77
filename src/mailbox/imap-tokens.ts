// Pure: the tokens of one IMAP response (RFC 3501 §9) as the reader hands it over, literals inline. Enough for
// what `mailbox encrypt` asks Dovecot for: FETCH items (atoms, quoted strings, literals, parenthesised lists, a
// section such as BODY[HEADER.FIELDS (X)] kept as one atom) and the status of tagged replies.

/** An atom or quoted string is a string, NIL is null, a literal is its bytes, a list an array. */
export type ImapValue = string | null | Buffer | ImapValue[];

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/** Parses `raw` (one whole response, CRLF included) from `start` into its top-level values. */
export function parseValues(raw: Buffer, start = 0): ImapValue[] {
  let at = start;
  const parseList = (close: number | null): ImapValue[] => {
    const values: ImapValue[] = [];
    while (at < raw.length) {
      const byte = raw[at];
      if (byte === SP) {
        at += 1;
      } else if (byte === CR || byte === LF) {
        if (close !== null) throw new Error('unterminated list in IMAP response');
        break;
      } else if (byte === close) {
        at += 1;
        return values;
      } else if (byte === 0x28 /* ( */) {
        at += 1;
        values.push(parseList(0x29));
      } else if (byte === 0x22 /* " */) {
        values.push(quoted());
      } else if (byte === 0x7b /* { */ || (byte === 0x7e /* ~ */ && raw[at + 1] === 0x7b)) {
        values.push(literal());
      } else {
        values.push(atom());
      }
    }
    if (close !== null) throw new Error('unterminated list in IMAP response');
    return values;
  };
  const quoted = (): string => {
    const bytes: number[] = [];
    at += 1;
    while (at < raw.length && raw[at] !== 0x22) {
      if (raw[at] === 0x5c /* \ */) at += 1;
      bytes.push(raw[at] ?? 0);
      at += 1;
    }
    at += 1;
    return Buffer.from(bytes).toString('utf8');
  };
  const literal = (): Buffer => {
    const close = raw.indexOf('}', at);
    const size = Number(
      raw
        .subarray(raw[at] === 0x7e ? at + 2 : at + 1, close)
        .toString('latin1')
        .replace('+', ''),
    );
    if (!Number.isSafeInteger(size) || raw[close + 1] !== CR || raw[close + 2] !== LF) {
      throw new Error('malformed literal in IMAP response');
    }
    at = close + 3 + size;
    return raw.subarray(close + 3, at);
  };
  const atom = (): string | null => {
    const from = at;
    let depth = 0;
    while (at < raw.length) {
      const byte = raw[at];
      if (byte === 0x5b /* [ */) depth += 1;
      else if (byte === 0x5d /* ] */) depth -= 1;
      else if (depth === 0 && (byte === SP || byte === 0x28 || byte === 0x29 || byte === CR || byte === LF)) break;
      at += 1;
    }
    const text = raw.subarray(from, at).toString('latin1');
    return text.toUpperCase() === 'NIL' ? null : text;
  };
  return parseList(null);
}

/** The attributes of an untagged `* N FETCH (...)` response by upper-case name, or null for any other response. */
export function fetchAttributes(raw: Buffer): Map<string, ImapValue> | null {
  const values = parseValues(raw);
  if (values[0] !== '*' || typeof values[2] !== 'string' || values[2].toUpperCase() !== 'FETCH') return null;
  const list = values[3];
  if (!Array.isArray(list)) return null;
  const attributes = new Map<string, ImapValue>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i];
    if (typeof name === 'string') attributes.set(name.toUpperCase(), list[i + 1] ?? null);
  }
  return attributes;
}

/** An IMAP quoted string (RFC 3501 §4.3) for a mailbox name, a date or an atom-unsafe argument. */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
