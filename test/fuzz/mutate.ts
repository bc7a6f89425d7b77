// Byte-level mutators for fuzz inputs: each takes bytes and a seeded Rng and returns new bytes plus its name.
// Pure and deterministic (same Rng state → same output); no I/O.
import { armor, base64Lines, packet } from './ciphertext.js';
import type { Rng } from './prng.js';

export interface Mutator {
  readonly name: string;
  apply(input: Buffer, rng: Rng, donor: Buffer): Buffer;
}

const lineStarts = (buf: Buffer): number[] => {
  const starts = [0];
  for (let i = buf.indexOf(0x0a); i !== -1 && i + 1 < buf.length; i = buf.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
};

/** [start, end) of a random line including its LF (if any). */
const randomLine = (buf: Buffer, rng: Rng): [number, number] => {
  const starts = lineStarts(buf);
  const start = rng.pick(starts);
  const lf = buf.indexOf(0x0a, start);
  return [start, lf === -1 ? buf.length : lf + 1];
};

const splice = (buf: Buffer, at: number, remove: number, insert: Buffer): Buffer =>
  Buffer.concat([buf.subarray(0, at), insert, buf.subarray(at + remove)]);

/** Boundary values named in Content-Type params (latin1, best effort: the input may be broken). */
export const boundariesOf = (buf: Buffer): string[] => {
  const text = buf.toString('latin1');
  const found = new Set<string>();
  for (const m of text.matchAll(/boundary\s*=\s*(?:"([^"\r\n]*)"|([^;\s"]+))/gi)) found.add(m[1] ?? m[2] ?? '');
  found.delete('');
  return [...found];
};

const headerEnd = (buf: Buffer): number => {
  const lf = buf.indexOf('\n\n');
  const crlf = buf.indexOf('\r\n\r\n');
  const candidates = [lf === -1 ? -1 : lf + 1, crlf === -1 ? -1 : crlf + 2].filter((n) => n >= 0);
  return candidates.length === 0 ? -1 : Math.min(...candidates);
};

const eolOf = (buf: Buffer): string => (buf.includes('\r\n') ? '\r\n' : '\n');

// ---- issue 11: readable text beside ciphertext. These plant their own body token (TOKEN_PATTERN's shape), so
// the oracle can tell whether readable text ever passed through unchanged. ----

/** A fresh body token: ZQB + m + base36 + n + digits + Z. */
const plant = (r: Rng): string => `ZQBm${r.int(36 ** 5).toString(36)}n${r.int(1000)}Z`;
const secretText = (r: Rng): string => `${r.pick(['SECRET: ', 'the plan is ', '', '> ', '- '])}${plant(r)}`;

/** [start, end) of every line whose content (without EOL and trailing blanks) matches `re`. */
const linesMatching = (buf: Buffer, re: RegExp): [number, number][] => {
  const out: [number, number][] = [];
  for (const start of lineStarts(buf)) {
    const lf = buf.indexOf(0x0a, start);
    const end = lf === -1 ? buf.length : lf + 1;
    if (re.test(buf.toString('latin1', start, end).replace(/[ \t\r\n]+$/, ''))) out.push([start, end]);
  }
  return out;
};
const insertAfterLine = (b: Buffer, line: [number, number], text: string): Buffer => {
  const eol = eolOf(b);
  const needsEol = line[1] === b.length && b[b.length - 1] !== 0x0a;
  return splice(b, line[1], 0, Buffer.from(`${needsEol ? eol : ''}${text}${eol}`, 'latin1'));
};
const BEGIN = /^-----BEGIN PGP MESSAGE-----$/;
const END = /^-----END PGP MESSAGE-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/]{8,}={0,2}$/;

/** The [start, end) of each whole armor block (BEGIN line through END line). */
const armorBlocks = (b: Buffer): [number, number][] => {
  const ends = linesMatching(b, END);
  return linesMatching(b, BEGIN).flatMap(([start]) => {
    const end = ends.find(([s]) => s > start);
    return end === undefined ? [] : [[start, end[1]] as [number, number]];
  });
};

/** Packet sequences that are readable: literal data, or literal data beside session keys / encrypted data. */
const readablePackets = (r: Rng, token: string): Buffer => {
  const literalHeader = Buffer.from('b\x00\x00\x00\x00\x00', 'latin1'); // binary, no file name, no date
  const literal = packet(11, Buffer.concat([literalHeader, Buffer.from(` ${token} `)]));
  const esk = packet(1, Buffer.concat([Buffer.from([3]), r.bytes(8), Buffer.from([1, 0x08, 0x00]), r.bytes(256)]));
  const seipd = packet(18, Buffer.concat([Buffer.from([1]), r.bytes(64)]));
  return r.pick([
    literal, // gpg --store
    Buffer.concat([esk, literal]), // a session key, then no encryption at all
    packet(8, Buffer.concat([Buffer.from([0]), literal])), // "compressed" with algorithm 0 (uncompressed)
    Buffer.concat([esk, seipd, literal]), // a literal packet after the encrypted data
    Buffer.concat([esk, seipd, packet(21, Buffer.from(token))]), // a padding packet holding text
    Buffer.concat([esk, packet(9, Buffer.concat([r.bytes(20), Buffer.from(token)]))]), // legacy SED
  ]);
};

const ISSUE_11_MUTATORS: readonly Mutator[] = [
  {
    name: 'armor-trailing-text',
    apply: (b, r) => {
      const ends = linesMatching(b, END);
      if (ends.length === 0) return Buffer.concat([b, Buffer.from(`${eolOf(b)}${secretText(r)}${eolOf(b)}`)]);
      return insertAfterLine(b, r.pick(ends), secretText(r));
    },
  },
  {
    name: 'armor-leading-text',
    apply: (b, r) => {
      const begins = linesMatching(b, BEGIN);
      return begins.length === 0 ? b : splice(b, r.pick(begins)[0], 0, Buffer.from(`${secretText(r)}${eolOf(b)}`));
    },
  },
  {
    name: 'armor-header-text',
    apply: (b, r) => {
      const begins = linesMatching(b, BEGIN);
      if (begins.length === 0) return b;
      const key = r.pick(['Comment', 'Version', 'Charset', 'MessageID', 'X-Note', 'Hash']);
      return insertAfterLine(b, r.pick(begins), `${key}: ${plant(r)}`);
    },
  },
  {
    name: 'b64-trailing-data',
    apply: (b, r) => {
      // After the last line of a base64 run (armor data, a base64 part, S/MIME DER): more base64 that decodes to
      // text, after a padded quantum ("AA==") or straight on (trailing data after the packets or the DER).
      const runEnds = linesMatching(b, BASE64_LINE).filter(([, end], i, all) => all[i + 1]?.[0] !== end);
      if (runEnds.length === 0) return b;
      const text = base64Lines(Buffer.from(` ${secretText(r)} `), eolOf(b)).replace(/\r?\n$/, '');
      return insertAfterLine(b, r.pick(runEnds), `${r.chance(0.5) ? `AA==${eolOf(b)}` : ''}${text}`);
    },
  },
  {
    name: 'control-part-text',
    apply: (b, r) => {
      const versions = linesMatching(b, /^Version: 1$/);
      if (versions.length === 0) return b;
      const line = r.pick(versions);
      if (r.chance(0.5)) return insertAfterLine(b, line, secretText(r));
      const end = line[0] + 'Version: 1'.length;
      return splice(b, end, 0, Buffer.from(` ${plant(r)}`));
    },
  },
  {
    name: 'multipart-preamble-text',
    apply: (b, r) => {
      const bs = boundariesOf(b);
      if (bs.length === 0) return b;
      const marker = `--${r.pick(bs)}`;
      const first = linesMatching(b, new RegExp(`^${marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))[0];
      return first === undefined ? b : splice(b, first[0], 0, Buffer.from(`${secretText(r)}${eolOf(b)}`));
    },
  },
  {
    name: 'multipart-epilogue-text',
    apply: (b, r) => {
      const bs = boundariesOf(b);
      if (bs.length === 0) return b;
      const marker = `--${r.pick(bs)}--`;
      const closes = linesMatching(b, new RegExp(`^${marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      return closes.length === 0 ? b : insertAfterLine(b, r.pick(closes), secretText(r));
    },
  },
  {
    name: 'armor-readable-packets',
    apply: (b, r) => {
      const blocks = armorBlocks(b);
      if (blocks.length === 0) return b;
      const [start, end] = r.pick(blocks);
      return splice(b, start, end - start, Buffer.from(armor(readablePackets(r, plant(r)), eolOf(b), r), 'latin1'));
    },
  },
  {
    name: 'armor-to-key-or-clearsigned',
    apply: (b, r) => {
      const blocks = armorBlocks(b);
      const eol = eolOf(b);
      const userId = packet(13, Buffer.from(`Alice ${plant(r)} <alice@example.org>`));
      const replacement = r.chance(0.5)
        ? armor(userId, eol, r).replace(/PGP MESSAGE/g, 'PGP PUBLIC KEY BLOCK')
        : [
            '-----BEGIN PGP SIGNED MESSAGE-----',
            'Hash: SHA256',
            '',
            `- ${secretText(r)}`,
            '-----BEGIN PGP SIGNATURE-----',
            '',
            'iHUEARYKAB0WIQQAAAAA',
            '-----END PGP SIGNATURE-----',
            '',
          ].join(eol);
      if (blocks.length === 0) return splice(b, r.pick(lineStarts(b)), 0, Buffer.from(replacement, 'latin1'));
      const [start, end] = r.pick(blocks);
      return splice(b, start, end - start, Buffer.from(replacement, 'latin1'));
    },
  },
];

export const MUTATORS: readonly Mutator[] = [
  { name: 'truncate', apply: (b, r) => b.subarray(0, r.int(b.length + 1)) },
  { name: 'truncate-in-header', apply: (b, r) => b.subarray(0, r.int(Math.max(1, headerEnd(b) + 1))) },
  {
    name: 'insert-random-bytes',
    apply: (b, r) => splice(b, r.int(b.length + 1), 0, r.bytes(r.range(1, 64))),
  },
  {
    name: 'overwrite-bytes',
    apply: (b, r) => {
      const out = Buffer.from(b);
      for (let n = r.range(1, 32); n > 0 && out.length > 0; n -= 1) out[r.int(out.length)] = r.int(256);
      return out;
    },
  },
  {
    name: 'insert-nuls',
    apply: (b, r) => {
      let out = b;
      for (let n = r.range(1, 8); n > 0; n -= 1)
        out = splice(out, r.int(out.length + 1), 0, Buffer.alloc(r.range(1, 4)));
      return out;
    },
  },
  {
    name: 'bare-cr',
    apply: (b, r) => {
      // Turn some LFs (or CRLFs) into a lone CR, and sprinkle stray CRs.
      const out = Buffer.from(b);
      for (let i = 0; i < out.length; i += 1) if (out[i] === 0x0a && r.chance(0.2)) out[i] = 0x0d;
      return splice(out, r.int(out.length + 1), 0, Buffer.from('\r'));
    },
  },
  { name: 'to-crlf', apply: (b) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') },
  { name: 'to-lf', apply: (b) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1') },
  {
    name: 'mix-eol',
    apply: (b, r) =>
      Buffer.from(
        b.toString('latin1').replace(/\r?\n/g, () => (r.chance(0.5) ? '\r\n' : '\n')),
        'latin1',
      ),
  },
  {
    name: 'delete-line',
    apply: (b, r) => {
      const [s, e] = randomLine(b, r);
      return splice(b, s, e - s, Buffer.alloc(0));
    },
  },
  {
    name: 'duplicate-line',
    apply: (b, r) => {
      const [s, e] = randomLine(b, r);
      return splice(b, s, 0, Buffer.from(b.subarray(s, e)));
    },
  },
  {
    name: 'swap-lines',
    apply: (b, r) => {
      const [s1, e1] = randomLine(b, r);
      const [s2, e2] = randomLine(b, r);
      if (s1 === s2) return b;
      const [a, c] =
        s1 < s2
          ? [
              [s1, e1],
              [s2, e2],
            ]
          : [
              [s2, e2],
              [s1, e1],
            ];
      const [as = 0, ae = 0] = a ?? [];
      const [cs = 0, ce = 0] = c ?? [];
      if (ae > cs) return b;
      return Buffer.concat([
        b.subarray(0, as),
        b.subarray(cs, ce),
        b.subarray(ae, cs),
        b.subarray(as, ae),
        b.subarray(ce),
      ]);
    },
  },
  {
    name: 'remove-separator',
    apply: (b) => {
      const end = headerEnd(b);
      if (end === -1) return b;
      const eolLen = b[end] === 0x0d ? 2 : 1;
      return splice(b, end, eolLen, Buffer.alloc(0));
    },
  },
  {
    name: 'duplicate-boundary',
    apply: (b, r) => {
      const bs = boundariesOf(b);
      if (bs.length === 0) return b;
      const eol = eolOf(b);
      const line = `--${r.pick(bs)}${r.chance(0.3) ? '--' : ''}${eol}`;
      const starts = lineStarts(b);
      return splice(b, r.pick(starts), 0, Buffer.from(line.repeat(r.range(1, 3)), 'latin1'));
    },
  },
  {
    name: 'remove-boundaries',
    apply: (b, r) => {
      const bs = boundariesOf(b);
      if (bs.length === 0) return b;
      const target = r.pick(bs);
      const onlyClosing = r.chance(0.5);
      const text = b.toString('latin1');
      const escaped = target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const re = new RegExp(`^--${escaped}${onlyClosing ? '--' : '(?:--)?'}[ \\t]*\\r?\\n?`, 'gm');
      return Buffer.from(text.replace(re, ''), 'latin1');
    },
  },
  {
    name: 'corrupt-boundary-param',
    apply: (b, r) => {
      const text = b.toString('latin1');
      const replacement = r.pick([
        '',
        'boundary=""',
        'boundary=',
        'boundary="x',
        'boundary="' + 'b'.repeat(300) + '"',
        'boundary="\u00ff\u0000"',
        'boundary=a; boundary=b',
      ]);
      return Buffer.from(text.replace(/boundary\s*=\s*(?:"[^"\r\n]*"|[^;\s"]+)/i, replacement), 'latin1');
    },
  },
  {
    name: 'insert-long-line',
    apply: (b, r) => {
      const len = r.pick([1000, 998, 999, 10_000, 100_000]);
      const line = Buffer.alloc(len, r.pick(['x', ' ', '=', '-', 'A']));
      return splice(b, r.pick(lineStarts(b)), 0, Buffer.concat([line, Buffer.from(eolOf(b))]));
    },
  },
  {
    name: 'insert-armor-line',
    apply: (b, r) => {
      const line = r.pick([
        '-----BEGIN PGP MESSAGE-----',
        '-----END PGP MESSAGE-----',
        '-----BEGIN PGP SIGNED MESSAGE-----',
        '-----BEGIN PGP PUBLIC KEY BLOCK-----',
      ]);
      return splice(b, r.pick(lineStarts(b)), 0, Buffer.from(line + eolOf(b)));
    },
  },
  {
    name: 'duplicate-content-type',
    apply: (b, r) => {
      const field = r.pick([
        'Content-Type: multipart/mixed; boundary="dup"',
        'Content-Type: text/html',
        'Content-Transfer-Encoding: base64',
        'MIME-Version: 2.0',
        'Content-Type: multipart/encrypted',
      ]);
      return splice(b, r.pick(lineStarts(b).slice(0, 12)), 0, Buffer.from(field + eolOf(b)));
    },
  },
  {
    name: 'bad-transfer-encoding',
    apply: (b, r) => {
      const value = r.pick(['base64', 'quoted-printable', 'x-bogus', 'BASE64 ', '8bit\u0000', 'uuencode', '']);
      const text = b.toString('latin1');
      const re = /^Content-Transfer-Encoding:[^\r\n]*/im;
      const field = `Content-Transfer-Encoding: ${value}`;
      return Buffer.from(re.test(text) ? text.replace(re, field) : field + eolOf(b) + text, 'latin1');
    },
  },
  {
    name: 'bad-charset',
    apply: (b, r) => {
      const value = r.pick(['x-unknown', 'utf-8\u0000', '\u00ff\u00fe', 'utf-7', 'iso-2022-jp', '"', 'utf-16']);
      const text = b.toString('latin1');
      return Buffer.from(text.replace(/charset\s*=\s*("[^"\r\n]*"|[^;\s]+)/gi, `charset=${value}`), 'latin1');
    },
  },
  {
    name: 'splice-donor',
    apply: (b, r, donor) => {
      const from = r.int(donor.length + 1);
      const piece = donor.subarray(from, from + r.range(1, 4096));
      return splice(b, r.int(b.length + 1), 0, Buffer.from(piece));
    },
  },
  {
    name: 'fold-header',
    apply: (b, r) => {
      const end = headerEnd(b);
      const limit = end === -1 ? b.length : end;
      const starts = lineStarts(b).filter((s) => s > 0 && s < limit);
      if (starts.length === 0) return b;
      return splice(b, r.pick(starts), 0, Buffer.from(r.pick([' \t', '\t', ' ']) + 'folded' + eolOf(b)));
    },
  },
  ...ISSUE_11_MUTATORS,
];

export const mutatorByName = (name: string): Mutator => {
  const found = MUTATORS.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no mutator ${name}`);
  return found;
};
