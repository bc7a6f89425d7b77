// Test-side raw MIME reading: header fields with their exact bytes, the body, Content-Type parameters.
// Written independently of src/message so the round-trip tests do not check pgpipe against itself.

export interface RawField {
  readonly name: string;
  readonly lower: string;
  /** `Name: value` plus continuation lines with their own line endings, without the final line ending. */
  readonly raw: Buffer;
}

export interface RawMessage {
  /** A leading mbox `From sender date` line with its line ending (pipe(8) flags=F), not a header field. */
  readonly envelope: Buffer | null;
  readonly fields: readonly RawField[];
  readonly body: Buffer;
  readonly hasSeparator: boolean;
}

const FIELD_START = /^[!-9;-~]+:/;

/**
 * Splits at the first empty line (LF or CRLF). A line that is neither `name:` nor a continuation ends the header
 * section without a separator and starts the body. Works on latin1 so every byte survives.
 */
export function splitRaw(input: Buffer): RawMessage {
  const text = input.toString('latin1');
  const fields: { name: string; start: number; end: number }[] = [];
  // `From ` (no colon right after) on the first line is an mbox envelope line, not the end of the header section.
  const envelopeLength = /^From (?![ \t]*:)/.test(text) ? text.indexOf('\n') + 1 || text.length : 0;
  const finish = (bodyStart: number, hasSeparator: boolean) =>
    finishSplit(input, text, fields, envelopeLength, bodyStart, hasSeparator);
  let pos = envelopeLength;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl === -1 ? text.length : nl;
    const line = text.slice(pos, lineEnd).replace(/\r$/, '');
    const next = nl === -1 ? text.length : nl + 1;
    if (line === '') return finish(next, true);
    const last = fields.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.end = lineEnd;
    } else if (FIELD_START.test(line)) {
      fields.push({ name: line.slice(0, line.indexOf(':')), start: pos, end: lineEnd });
    } else {
      return finish(pos, false);
    }
    pos = next;
  }
  return finish(text.length, false);
}

function finishSplit(
  input: Buffer,
  text: string,
  spans: readonly { name: string; start: number; end: number }[],
  envelopeLength: number,
  bodyStart: number,
  hasSeparator: boolean,
): RawMessage {
  const fields = spans.map(({ name, start, end }) => {
    // A field ends before its line ending; drop a CR that belongs to the CRLF.
    const rawText = text.slice(start, end).replace(/\r$/, '');
    return { name, lower: name.toLowerCase(), raw: Buffer.from(rawText, 'latin1') };
  });
  const envelope = envelopeLength > 0 ? input.subarray(0, envelopeLength) : null;
  return { envelope, fields, body: input.subarray(bodyStart), hasSeparator };
}

export const fieldsNamed = (msg: RawMessage, lower: string): RawField[] => msg.fields.filter((f) => f.lower === lower);

/** The unfolded, trimmed latin1 value after the colon. */
export function fieldValue(field: RawField): string {
  const text = field.raw.toString('latin1');
  return text
    .slice(text.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
}

/** Bare LF → CRLF; existing CRLF and lone CR stay as they are. */
export const toCrlf = (buf: Buffer): Buffer =>
  Buffer.from(buf.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1');

export interface ContentType {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

/** `type/sub; a=b; c="d e"` → lower-case type and parameter names; quoted values unquoted. */
export function parseContentType(value: string): ContentType {
  const [head = '', ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = v;
  }
  return { type: head.trim().toLowerCase(), params };
}

function splitParams(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '\\' && quoted) {
      current += c + (value[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** Whether the raw parameter in a Content-Type field is written with quotes, e.g. protocol="...". */
export const paramIsQuoted = (fieldText: string, name: string): boolean =>
  new RegExp(`;\\s*${name}\\s*=\\s*"`, 'i').test(fieldText);

/**
 * The body parts of a multipart body (between `--boundary` lines, closing delimiter required),
 * each as raw bytes without the CRLF/LF that belongs to the next delimiter.
 */
export function splitMultipart(body: Buffer, boundary: string): { preamble: Buffer; parts: Buffer[]; closed: boolean } {
  const text = body.toString('latin1');
  const delimiter = new RegExp(`(^|\\r?\\n)--${escapeRegExp(boundary)}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const marks: { start: number; end: number; close: boolean }[] = [];
  for (const m of text.matchAll(delimiter)) {
    marks.push({ start: m.index, end: m.index + m[0].length, close: m[2] === '--' });
    if (m[2] === '--') break;
  }
  const first = marks[0];
  const preamble = Buffer.from(first ? text.slice(0, first.start) : text, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    const here = marks[i];
    const next = marks[i + 1];
    if (!here || !next || here.close) break;
    const start = text.indexOf('\n', here.end) + 1;
    parts.push(Buffer.from(text.slice(start, next.start), 'latin1'));
  }
  return { preamble, parts, closed: marks.at(-1)?.close === true };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
