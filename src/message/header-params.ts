// A header value with parameters (`value; name=token; name="quoted"`), as Content-Type and Content-Disposition
// carry them: RFC 2045 quoted strings and backslash escapes, RFC 2231 continuations and charset'lang'value.
// Same results as libmime.parseHeaderValue (which it replaces: libmime loads ~1 MB of charset tables per start).

export interface HeaderParams {
  /** The value before the first unquoted `;`, trimmed (quotes removed). */
  readonly value: string;
  /** Parameter names lower-cased; continuations joined and decoded. */
  readonly params: Record<string, string>;
}

/** Parses `text`; never throws. A parameter without `=` at the end gets the empty value (libmime's "emptykey"). */
export function parseHeaderParams(text: string): HeaderParams {
  const raw = new Map<string, string>();
  let value: string | null = null;
  let key: string | null = null;
  let inKey = false;
  let current = '';
  let quoted = false;
  let escaped = false;
  const finish = (): void => {
    if (key === null) value = current.trim();
    else raw.set(key, current.trim());
  };
  for (const chr of text) {
    if (inKey) {
      // Like libmime, a key runs up to its `=` (a `;` there does not start a new parameter).
      if (chr === '=') {
        key = current.trim().toLowerCase();
        inKey = false;
        current = '';
      } else {
        current += chr;
      }
      continue;
    }
    if (escaped) {
      current += chr;
      escaped = false;
    } else if (chr === '\\') {
      escaped = true;
    } else if (chr === '"') {
      quoted = !quoted;
    } else if (!quoted && chr === ';') {
      finish();
      inKey = true;
      current = '';
    } else {
      current += chr;
    }
  }
  if (!inKey) finish();
  else if (current.trim() !== '') raw.set(current.trim().toLowerCase(), '');
  return { value: value ?? '', params: joinContinuations(raw) };
}

interface Continued {
  charset: string | null;
  pieces: { nr: number; text: string }[];
}

/** RFC 2231 §3-4: `name*0`, `name*1*`, `name*=charset'lang'%XX`: joined in order, percent-decoded in the charset. */
function joinContinuations(raw: Map<string, string>): Record<string, string> {
  const params = new Map<string, string | Continued>();
  for (const [name, value] of raw) {
    const match = /\*((\d+)\*?)?$/.exec(name);
    if (match === null) {
      // A continuation of the same name wins over a plain parameter, whichever came first.
      if (typeof params.get(name) !== 'object') params.set(name, value);
      continue;
    }
    const base = name.slice(0, match.index);
    const nr = Number(match[2]) || 0;
    let entry = params.get(base);
    if (entry === undefined || typeof entry === 'string') {
      entry = { charset: null, pieces: [] };
      params.set(base, entry);
    }
    let text = value;
    const extended = nr === 0 && match[0].endsWith('*') ? /^([^']*)'[^']*'(.*)$/s.exec(value) : null;
    if (extended !== null) {
      entry.charset = extended[1] || 'utf-8';
      text = extended[2] ?? '';
    }
    entry.pieces.push({ nr, text });
  }
  const out: Record<string, string> = {};
  for (const [name, entry] of params) {
    if (typeof entry === 'string') {
      out[name] = entry;
      continue;
    }
    const joined = entry.pieces
      .sort((a, b) => a.nr - b.nr)
      .map((p) => p.text)
      .join('');
    out[name] = entry.charset === null ? decodeEncodedWords(joined) : percentDecode(joined, entry.charset);
  }
  return out;
}

/** Bytes → text in `charset` (Node's TextDecoder has full ICU); an unknown charset is read as UTF-8. */
function decodeBytes(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase()).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** `%XX` escapes to bytes (other characters as their latin1 byte), then decoded in `charset`. */
function percentDecode(text: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }
  return decodeBytes(Uint8Array.from(bytes), charset);
}

/** RFC 2047 encoded words in a joined continuation (as libmime decodes them there); whitespace between words goes. */
function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  const WORD = /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g;
  return text
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?[^?]+\?[QqBb]\?[^?]*\?=)/g, '$1')
    .replace(WORD, (_word, charset: string, encoding: string, data: string) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(
              data
                .replace(/_/g, ' ')
                .replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
              'latin1',
            );
      return decodeBytes(bytes, charset.split('*')[0] ?? charset);
    });
}
