// Builds the CRLF-canonical MIME entity that gets encrypted: the original Content-* fields and body bytes,
// wrapped (header protection on) in a multipart/mixed root carrying copies of the protected header fields.
import { chooseBoundary } from './boundary.js';
import { countBareLf, writeCanonicalCrlf, canonicalizeCrlf } from './canonical-eol.js';
import { isContentField, isRemovedOutside, outerSubjectValue, PROTECTED_FIELDS } from './header-protection.js';
import type { HeaderProtectionOptions, SplitMessage } from './types.js';

const CRLF = Buffer.from('\r\n', 'latin1');
const DEFAULT_CONTENT_TYPE = Buffer.from('Content-Type: text/plain; charset=us-ascii\r\n', 'latin1');

export interface InnerPayloadOptions {
  /** Source of the boundary's random part (tests). */
  readonly nextToken?: () => string;
}

/** Content-* fields verbatim (CRLF) — the headers of the entity that holds the original body. */
function contentHeaderLines(msg: SplitMessage): Buffer[] {
  const fields = msg.fields.filter(isContentField);
  const lines = fields.flatMap((field) => [canonicalizeCrlf(field.raw), CRLF]);
  return fields.some((field) => field.lower === 'content-type') ? lines : [DEFAULT_CONTENT_TYPE, ...lines];
}

/** Root header block: multipart/mixed with protected-headers, the field copies and HP-Outer lines. */
function protectedRootHeader(msg: SplitMessage, hp: HeaderProtectionOptions, boundary: string): Buffer[] {
  const placeholder = outerSubjectValue(hp);
  const copies = msg.fields.filter(
    (field) => PROTECTED_FIELDS.has(field.lower) || isRemovedOutside(field, placeholder),
  );
  const root = `Content-Type: multipart/mixed; boundary="${boundary}"; protected-headers="v1"; hp="cipher"\r\n`;
  const lines: Buffer[] = [Buffer.from(root, 'latin1')];
  for (const field of copies) lines.push(canonicalizeCrlf(field.raw), CRLF);
  for (const field of copies) {
    // RFC 9788 §2.2: a field removed from the outside gets no HP-Outer line.
    if (isRemovedOutside(field, placeholder)) continue;
    if (field.lower === 'subject' && placeholder !== null) {
      lines.push(Buffer.from(`HP-Outer: Subject: ${placeholder}\r\n`, 'latin1'));
      continue;
    }
    // The outer field is the original one: `HP-Outer: Name:<value as it came, folding kept>`.
    const colon = field.raw.indexOf(0x3a);
    const value = canonicalizeCrlf(field.raw.subarray(colon + 1));
    lines.push(Buffer.from(`HP-Outer: ${field.name}:`, 'latin1'), value, CRLF);
  }
  return lines;
}

export function buildInnerPayload(
  msg: SplitMessage,
  hp: HeaderProtectionOptions,
  options: InnerPayloadOptions = {},
): Buffer {
  const partHeader = contentHeaderLines(msg);
  let head: Buffer[];
  let tail: Buffer;
  if (hp.enabled) {
    const boundary = chooseBoundary([msg.body, ...partHeader], options.nextToken);
    head = [...protectedRootHeader(msg, hp, boundary), CRLF, Buffer.from(`--${boundary}\r\n`, 'latin1')];
    head.push(...partHeader, CRLF);
    tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  } else {
    head = [...partHeader, CRLF];
    tail = Buffer.alloc(0);
  }
  // One allocation and one copy of the body, which may be tens of megabytes.
  const headLength = head.reduce((sum, buf) => sum + buf.length, 0);
  const out = Buffer.allocUnsafe(headLength + msg.body.length + countBareLf(msg.body) + tail.length);
  let offset = 0;
  for (const buf of head) offset += buf.copy(out, offset);
  offset = writeCanonicalCrlf(msg.body, out, offset);
  tail.copy(out, offset);
  return out;
}
