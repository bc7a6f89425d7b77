// Finds header fields by byte range in a raw message, and removes fields without touching any other byte.
// Pure; works on latin1 text so every byte maps to one char. Same header-end rule as splitMessage: the first
// empty line, or the first line that is neither `name:` nor a continuation.

export interface FieldRange {
  /** Lower-cased field name. */
  readonly lower: string;
  /** Byte offsets of the whole field, continuation lines and its final line ending included. */
  readonly start: number;
  readonly end: number;
}

const FIELD_NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/** Length of a leading mbox `From ` envelope line (with its LF), 0 when there is none. */
function envelopeLength(text: string): number {
  if (!text.startsWith('From ')) return 0;
  const nl = text.indexOf('\n');
  if (nl === -1) return 0;
  const line = text.slice(0, nl).replace(/\r$/, '');
  return FIELD_NAME.test(line) || line.includes('\r') ? 0 : nl + 1;
}

/** The header fields of `raw`, in order. Stops at the header/body boundary. */
export function scanHeader(raw: Buffer): FieldRange[] {
  const text = raw.toString('latin1');
  const fields: FieldRange[] = [];
  let current: { lower: string; start: number } | null = null;
  let pos = envelopeLength(text); // a leading mbox `From ` line is not a header (as in splitMessage)
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const next = nl === -1 ? text.length : nl + 1;
    const whole = text.slice(pos, nl === -1 ? text.length : nl);
    const line = nl === -1 ? whole : whole.replace(/\r$/, '');
    // splitMessage's rule: a field holding a bare CR ends the header section; it and all after it are body.
    const bareCr = line.includes('\r');
    if (current !== null && (line.startsWith(' ') || line.startsWith('\t'))) {
      if (bareCr) return fields; // the current field becomes body as well
      pos = next; // continuation of the current field
      continue;
    }
    if (current !== null) fields.push({ ...current, end: pos });
    current = null;
    const match = bareCr ? null : FIELD_NAME.exec(line);
    if (!match) break; // empty line or body text: the header section is over
    current = { lower: (match[1] as string).toLowerCase(), start: pos };
    pos = next;
  }
  if (current !== null) fields.push({ ...current, end: text.length });
  return fields;
}

/** `raw` without the header fields `drop` selects (by lower-cased name). Returns `raw` itself when none match. */
export function removeFields(raw: Buffer, drop: (lower: string) => boolean): Buffer {
  const doomed = scanHeader(raw).filter((f) => drop(f.lower));
  if (doomed.length === 0) return raw;
  const pieces: Buffer[] = [];
  let pos = 0;
  for (const f of doomed) {
    pieces.push(raw.subarray(pos, f.start));
    pos = f.end;
  }
  pieces.push(raw.subarray(pos));
  return Buffer.concat(pieces);
}

/** Header fields a sender could forge to fake a spam verdict (SpamAssassin deletes these too before scanning). */
export const isSpamField = (lower: string): boolean => lower.startsWith('x-spam-');

/** The unfolded, trimmed value of the first field named `lower`, or null. */
export function firstFieldValue(raw: Buffer, lower: string): string | null {
  const field = scanHeader(raw).find((f) => f.lower === lower);
  if (field === undefined) return null;
  const text = raw.toString('latin1', field.start, field.end);
  return text.slice(text.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim();
}
