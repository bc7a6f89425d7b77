// Finds every armored OpenPGP key block in a text (OpenPGP.js readKeys reads only the first block, ignoring the rest).
// Linear scan with indexOf, no regex backtracking: a stored value may be megabytes of garbage. No parsing here.

export interface ArmorBlock {
  readonly kind: 'public' | 'private';
  readonly text: string;
}

const BEGIN = '-----BEGIN PGP ';
const KINDS = [
  { label: 'PUBLIC KEY BLOCK-----', kind: 'public' },
  { label: 'PRIVATE KEY BLOCK-----', kind: 'private' },
  // PGP 2.x / early GnuPG spelling of a secret key export.
  { label: 'SECRET KEY BLOCK-----', kind: 'private' },
] as const;

/**
 * Returns the blocks in text order. A BEGIN line without its END before the next BEGIN is truncated: it yields the
 * text up to that next BEGIN, so it is reported as garbage and never hides a complete block stored after it.
 * Consecutive truncated BEGINs make one block (a value of 100 000 BEGIN lines is one garbage report, not 100 000).
 * Lines are trimmed, CRLF → LF, so keys pasted with indentation or Windows line ends still parse.
 */
export function splitArmorBlocks(text: string): ArmorBlock[] {
  const blocks: ArmorBlock[] = [];
  let truncated: { start: number; stop: number; kind: ArmorBlock['kind'] } | null = null;
  const flush = () => {
    if (truncated !== null)
      blocks.push({ kind: truncated.kind, text: tidy(text.slice(truncated.start, truncated.stop)) });
    truncated = null;
  };
  // Last END position found per kind (-1: none left), reused while still ahead: many truncated BEGINs stay linear.
  const ends = new Map<string, number>();
  let from = 0;
  for (;;) {
    const start = text.indexOf(BEGIN, from);
    if (start < 0) break;
    const rest = start + BEGIN.length;
    const type = KINDS.find((k) => text.startsWith(k.label, rest));
    if (type === undefined) {
      from = rest; // e.g. BEGIN PGP MESSAGE / SIGNATURE: not a key
      continue;
    }
    const endMarker = `-----END PGP ${type.label}`;
    const cached = ends.get(endMarker);
    const endAt = cached !== undefined && (cached < 0 || cached >= rest) ? cached : text.indexOf(endMarker, rest);
    ends.set(endMarker, endAt);
    const nextBegin = text.indexOf(BEGIN, rest);
    if (endAt >= 0 && (nextBegin < 0 || endAt < nextBegin)) {
      flush();
      from = endAt + endMarker.length;
      blocks.push({ kind: type.kind, text: tidy(text.slice(start, from)) });
      continue;
    }
    from = nextBegin >= 0 ? nextBegin : text.length;
    if (truncated !== null && truncated.stop === start) {
      // Private wins when merging, so a half-pasted secret key is still named as one.
      truncated = { start: truncated.start, stop: from, kind: type.kind === 'private' ? 'private' : truncated.kind };
    } else {
      flush();
      truncated = { start, stop: from, kind: type.kind };
    }
  }
  flush();
  return blocks;
}

function tidy(block: string): string {
  return `${block
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .join('\n')}\n`;
}
