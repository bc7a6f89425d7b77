// Builds the RFC 3156 multipart/encrypted message sent in place of the original: the original non-structural
// header fields in order (Subject possibly replaced) around the armored ciphertext. Line endings follow msg.eol.
// The armor (a string, or the chunks of a streamed encryption) is copied once, straight into the result.
import { chooseBoundary } from './boundary.js';
import { countBareLf, withEol, writeCanonicalCrlf } from './canonical-eol.js';
import { isContentField, isPlaintextSignature, isRemovedOutside, outerSubjectValue } from './header-protection.js';
import type { HeaderField, HeaderProtectionOptions, SplitMessage } from './types.js';

/** Dropped from the outside: MIME-Version (replaced); signatures over the plaintext (isPlaintextSignature). */
const DROPPED = new Set(['mime-version']);

export interface OuterMessageOptions {
  /** Source of the boundary's random part (tests). */
  readonly nextToken?: () => string;
}

const keptOutside = (field: HeaderField, placeholder: string | null): boolean =>
  !isContentField(field) &&
  !DROPPED.has(field.lower) &&
  !isPlaintextSignature(field) &&
  !isRemovedOutside(field, placeholder);

export function buildOuterMessage(
  msg: SplitMessage,
  armored: string | readonly Buffer[],
  hp: HeaderProtectionOptions,
  options: OuterMessageOptions = {},
): Buffer {
  const eol = msg.eol;
  const placeholder = outerSubjectValue(hp);
  const lines: Buffer[] = [];
  if (msg.envelope !== undefined) lines.push(msg.envelope); // mbox `From ` line: first, unchanged
  for (const field of msg.fields.filter((f) => keptOutside(f, placeholder))) {
    if (field.lower === 'subject' && placeholder !== null) {
      lines.push(Buffer.from(`Subject: ${placeholder}${eol}`, 'latin1'));
    } else {
      lines.push(withEol(field.raw, eol), Buffer.from(eol, 'latin1'));
    }
  }
  const armor = typeof armored === 'string' ? [armorBytes(armored)] : armorChunks(armored);
  const boundary = chooseBoundary([...armor, ...junctions(armor)], options.nextToken);
  const head = [
    'MIME-Version: 1.0',
    `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`,
    '',
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
    `--${boundary}`,
    'Content-Type: application/pgp-encrypted',
    'Content-Description: PGP/MIME version identification',
    '',
    'Version: 1',
    '',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    'Content-Description: OpenPGP encrypted message',
    'Content-Disposition: inline; filename="encrypted.asc"',
    '',
    '',
  ].join(eol);
  const tail = `${eol}${eol}--${boundary}--${eol}`;
  const headBytes = Buffer.concat([...lines, Buffer.from(head, 'latin1')]);
  // The armor is the bulk (≈1.36 × the message): write it into the result once, converting LF → CRLF on the way.
  let armorLength = 0;
  for (const chunk of armor) armorLength += eol === '\r\n' ? chunk.length + countBareLf(chunk) : chunk.length;
  const out = Buffer.allocUnsafe(headBytes.length + armorLength + tail.length);
  let offset = headBytes.copy(out, 0);
  for (const chunk of armor) {
    offset = eol === '\r\n' ? writeCanonicalCrlf(chunk, out, offset) : offset + chunk.copy(out, offset);
  }
  out.write(tail, offset, 'latin1');
  return out;
}

/**
 * Streamed armor chunks without the trailing line endings (views, no copy). OpenPGP.js armors with LF only; a
 * chunk holding a CR (a CRLF could straddle two chunks) makes us join them and take the string path instead.
 */
function armorChunks(chunks: readonly Buffer[]): Buffer[] {
  if (chunks.some((chunk) => chunk.includes(0x0d))) return [armorBytes(Buffer.concat(chunks).toString('latin1'))];
  const kept = chunks.filter((chunk) => chunk.length > 0);
  for (;;) {
    const last = kept.at(-1);
    if (last === undefined) return kept;
    let end = last.length;
    while (end > 0 && last[end - 1] === 0x0a) end -= 1;
    if (end > 0) {
      kept[kept.length - 1] = last.subarray(0, end);
      return kept;
    }
    kept.pop();
  }
}

/** The bytes around each chunk border, so a boundary string straddling two chunks is found as well. */
function junctions(chunks: readonly Buffer[]): Buffer[] {
  const SIDE = 80; // longer than any boundary chooseBoundary draws
  const out: Buffer[] = [];
  for (let i = 1; i < chunks.length; i += 1) {
    const before = chunks[i - 1] as Buffer;
    const after = chunks[i] as Buffer;
    out.push(Buffer.concat([before.subarray(Math.max(0, before.length - SIDE)), after.subarray(0, SIDE)]));
  }
  return out;
}

/** The armor as LF-only bytes without its trailing line endings (the caller writes CRLF when msg.eol asks). */
function armorBytes(armored: string): Buffer {
  let end = armored.length;
  while (end > 0 && (armored.charCodeAt(end - 1) === 0x0a || armored.charCodeAt(end - 1) === 0x0d)) end -= 1;
  const bytes = Buffer.from(end === armored.length ? armored : armored.slice(0, end), 'utf8');
  // OpenPGP.js armors with LF; CRLF armor from elsewhere is brought to LF first (no copy when there is none).
  return withEol(bytes, '\n');
}
