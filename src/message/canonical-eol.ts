// Line-ending conversion on raw bytes: bare LF → CRLF (MIME canonical form) and back for header lines.
// Works with Buffer.indexOf only, never decodes to strings; lone CRs and every other byte are left alone.

const LF = 0x0a;
const CR = 0x0d;

/** Number of LF bytes not preceded by CR. */
export function countBareLf(buf: Uint8Array): number {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let count = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) {
    if (at === 0 || bytes[at - 1] !== CR) count += 1;
  }
  return count;
}

/**
 * Copies `src` into `target` at `offset` with every bare LF written as CRLF; returns the offset after the copy.
 * `target` must have room for src.length + countBareLf(src) bytes. Lets callers build a payload with one copy.
 */
export function writeCanonicalCrlf(src: Buffer, target: Buffer, offset: number): number {
  let out = offset;
  let from = 0;
  for (let at = src.indexOf(LF); at !== -1; at = src.indexOf(LF, at + 1)) {
    if (at > 0 && src[at - 1] === CR) continue;
    out += src.copy(target, out, from, at);
    target[out++] = CR;
    target[out++] = LF;
    from = at + 1;
  }
  return out + src.copy(target, out, from);
}

/** Bare LF → CRLF. Returns `buf` itself when it is already canonical (no copy). */
export function canonicalizeCrlf(buf: Buffer): Buffer {
  const extra = countBareLf(buf);
  if (extra === 0) return buf;
  const out = Buffer.allocUnsafe(buf.length + extra);
  writeCanonicalCrlf(buf, out, 0);
  return out;
}

/** Rewrites every line ending (LF or CRLF) of a short buffer, e.g. a folded header field, to `eol`. */
export function withEol(buf: Buffer, eol: '\n' | '\r\n'): Buffer {
  if (eol === '\r\n') return canonicalizeCrlf(buf);
  if (buf.indexOf('\r\n') === -1) return buf;
  return Buffer.from(buf.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}
