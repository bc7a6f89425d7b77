// Finds every armored OpenPGP key block in a text (readKeys only reads the first block; see pgp-mime.md §3).
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
 * Returns the blocks in text order. A BEGIN line without its END yields the rest of the text as the block
 * (it will then fail to parse and be reported as garbage rather than vanish). Lines are trimmed, CRLF → LF,
 * so keys pasted with indentation or Windows line ends still parse.
 */
export function splitArmorBlocks(text: string): ArmorBlock[] {
  const blocks: ArmorBlock[] = [];
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
    const endAt = text.indexOf(endMarker, rest);
    const stop = endAt < 0 ? text.length : endAt + endMarker.length;
    blocks.push({ kind: type.kind, text: tidy(text.slice(start, stop)) });
    from = stop;
  }
  return blocks;
}

function tidy(block: string): string {
  return `${block
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .join('\n')}\n`;
}
