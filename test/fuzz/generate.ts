// Fuzz case generator: builds a message for (run seed, case index) from templates, the test corpus and the
// structural extremes below, then applies seeded mutations. Deterministic; reads the corpus only.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { armor, base64Lines, encryptedPackets, envelopedDer } from './ciphertext.js';
import { MUTATORS } from './mutate.js';
import { caseSeed, createRng, type Rng } from './prng.js';

export interface FuzzCase {
  readonly runSeed: number;
  readonly index: number;
  /** Generator category (see CATEGORIES). */
  readonly category: string;
  /** Template/corpus name and mutators applied, for the failure report. */
  readonly steps: readonly string[];
  readonly input: Buffer;
  /** Tokens this case planted: body tokens in every text part, a subject token in the Subject. */
  readonly bodyToken: string;
  readonly subjectToken: string;
  /** Recipients chosen from the pool handed in (indices into it), at least one. */
  readonly recipients: readonly number[];
}

const CORPUS_DIR = fileURLToPath(new URL('../fixtures/mail/', import.meta.url));

export function loadCorpus(dir = CORPUS_DIR): { name: string; bytes: Buffer }[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.eml'))
      .sort();
  } catch {
    return [];
  }
  return names.map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
}

interface Ctx {
  rng: Rng;
  eol: string;
  body: string; // body token
  subj: string; // subject token
}

const lines = (c: Ctx, ...ls: string[]): string => ls.join(c.eol) + c.eol;

const stdHeaders = (c: Ctx, extra: string[] = []): string[] => [
  'Return-Path: <sender@example.org>',
  'Received: from mail.example.org (mail.example.org [192.0.2.10])',
  '\tby mx.fuzz.test (Postfix) with ESMTPS id 4Xk2b71Qz4z9v',
  '\tfor <alice@fuzz.test>; Sat, 21 Nov 2026 05:58:12 +0000 (UTC)',
  'From: Sender Example <sender@example.org>',
  'To: Alice <alice@fuzz.test>, bob@fuzz.test',
  `Subject: Quarterly numbers ${c.subj}`,
  'Date: Sat, 21 Nov 2026 06:58:11 +0100',
  `Message-ID: <${c.rng.int(1e9)}@example.org>`,
  ...extra,
];

const bodyText = (c: Ctx): string =>
  lines(
    c,
    'Hello,',
    '',
    `the secret is ${c.body} and stays secret.`,
    'From the start: a line that mbox would escape.',
    '.',
    '-- ',
    'Sender',
  );

type Template = (c: Ctx) => Buffer;
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

const TEMPLATES: Record<string, Template> = {
  plain: (c) =>
    latin1(
      lines(c, ...stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii']), '') + bodyText(c),
    ),
  'no-content-type': (c) => latin1(lines(c, ...stdHeaders(c), '') + bodyText(c)),
  'header-only': (c) => latin1(lines(c, ...stdHeaders(c, [`X-Note: ${c.body}`]))),
  'header-and-separator-only': (c) => latin1(lines(c, ...stdHeaders(c), '')),
  alternative: (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="alt-1"']),
        '',
        'preamble',
        '--alt-1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `plain ${c.body}`,
        '--alt-1',
        'Content-Type: text/html; charset=utf-8',
        '',
        `<p>html ${c.body}</p>`,
        '--alt-1--',
        'epilogue',
      ),
    ),
  attachment: (c) => {
    const payload = c.rng.bytes(c.rng.range(0, 3000)).toString('base64').replace(/.{76}/g, `$&${c.eol}`);
    return latin1(
      lines(
        c,
        ...stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=mix42']),
        '',
        '--mix42',
        'Content-Type: text/plain',
        '',
        `see attached ${c.body}`,
        '--mix42',
        'Content-Type: application/octet-stream; name="data.bin"',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="data.bin"',
        '',
        payload,
        '--mix42--',
      ),
    );
  },
  'qp-utf8': (c) =>
    latin1(
      lines(
        c,
        'From: =?utf-8?q?Jos=C3=A9?= <jose@example.es>',
        'To: alice@fuzz.test',
        `Subject: =?utf-8?q?Reuni=C3=B3n?= ${c.subj}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        `Gr=C3=BC=C3=9Fe ${c.body} soft=`,
        'break =3D done',
      ),
    ),
  'latin1-8bit': (c) =>
    Buffer.concat([
      latin1(
        lines(
          c,
          ...stdHeaders(c, [
            'MIME-Version: 1.0',
            'Content-Type: text/plain; charset=iso-8859-1',
            'Content-Transfer-Encoding: 8bit',
          ]),
          '',
        ),
      ),
      latin1(lines(c, `Gr\u00fc\u00df Gott ${c.body} \u00e9\u00e8\u00ff`)),
    ]),
  'utf8-headers': (c) =>
    Buffer.concat([
      Buffer.from(
        lines(
          c,
          'From: Jos\u00e9 <jose@example.es>',
          'To: alice@fuzz.test',
          `Subject: \u0420\u0435\u0443\u043d\u0438\u043e\u043d ${c.subj} \u{1F680}`,
          'Content-Type: text/plain; charset=utf-8',
          '',
          `\u6771\u4eac ${c.body}`,
        ),
        'utf8',
      ),
    ]),
  nested: (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="o"']),
        '',
        '--o',
        'Content-Type: multipart/alternative; boundary="i"',
        '',
        '--i',
        'Content-Type: text/plain',
        '',
        `inner ${c.body}`,
        '--i--',
        '--o',
        'Content-Type: message/rfc822',
        '',
        'From: x@y',
        `Subject: forwarded ${c.subj}`,
        '',
        `forwarded body ${c.body}`,
        '--o--',
      ),
    ),
  signed: (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, [
          'MIME-Version: 1.0',
          'Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="sig"',
        ]),
        '',
        '--sig',
        'Content-Type: text/plain',
        '',
        `signed text ${c.body}`,
        '--sig',
        'Content-Type: application/pgp-signature',
        '',
        '-----BEGIN PGP SIGNATURE-----',
        '',
        'iQEzBAEBCAAdFiEEAAAA',
        '=AAAA',
        '-----END PGP SIGNATURE-----',
        '--sig--',
      ),
    ),
  'cleartext-signed': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c),
        '',
        '-----BEGIN PGP SIGNED MESSAGE-----',
        'Hash: SHA256',
        '',
        `signed ${c.body}`,
        '-----BEGIN PGP SIGNATURE-----',
        '',
        'iQEz',
        '-----END PGP SIGNATURE-----',
      ),
    ),
  'quoted-armor': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c),
        '',
        `You wrote ${c.body}:`,
        '> -----BEGIN PGP MESSAGE-----',
        '> hQEMA',
        '> -----END PGP MESSAGE-----',
      ),
    ),
  'forged-headers': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, [
          'X-Spam-Status: No, score=-100',
          'X-Spam-Flag: NO',
          'DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; b=AAAA',
          'Content-Type: text/plain',
        ]),
        '',
      ) + bodyText(c),
    ),
  'special-lines': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c),
        '',
        '.',
        '..',
        'From me',
        '>From you',
        '--',
        '--x--',
        '\t',
        ' ',
        `${c.body}`,
        '-----',
        '=?utf-8?q?x?=',
      ),
    ),
  // Already protected: structurally real ciphertext (ciphertext.ts) that passes unchanged by design; the
  // mutators then add readable text around or inside it, which must make pgpipe encrypt (the oracle checks).
  'pgp-mime': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, [
          'MIME-Version: 1.0',
          'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"',
        ]),
        '',
        'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
        '--enc',
        'Content-Type: application/pgp-encrypted',
        'Content-Description: PGP/MIME version identification',
        '',
        'Version: 1',
        '',
        '--enc',
        'Content-Type: application/octet-stream; name="encrypted.asc"',
        '',
        armor(encryptedPackets(c.rng), c.eol, c.rng) + '--enc--',
      ),
    ),
  'pgp-mime-binary': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, [
          'MIME-Version: 1.0',
          'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="enc"',
        ]),
        '',
        '--enc',
        'Content-Type: application/pgp-encrypted',
        'Content-Transfer-Encoding: base64',
        '',
        base64Lines(Buffer.from('Version: 1\r\n'), c.eol) + '--enc',
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: base64',
        '',
        base64Lines(encryptedPackets(c.rng), c.eol) + '--enc--',
      ),
    ),
  'pgp-inline': (c) => latin1(lines(c, ...stdHeaders(c), '') + armor(encryptedPackets(c.rng), c.eol, c.rng)),
  'pgp-inline-base64': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64']),
        '',
      ) + base64Lines(Buffer.from(armor(encryptedPackets(c.rng), '\r\n', c.rng)), c.eol),
    ),
  'pgp-inline-attachment': (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="pgpmix"']),
        '',
        'This is a multi-part message in MIME format.',
        '--pgpmix',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        armor(encryptedPackets(c.rng), c.eol, c.rng) + '--pgpmix',
        'Content-Type: application/octet-stream; name="plan.pdf.pgp"',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="plan.pdf.pgp"',
        '',
        base64Lines(encryptedPackets(c.rng), c.eol) + '--pgpmix--',
      ),
    ),
  smime: (c) =>
    latin1(
      lines(
        c,
        ...stdHeaders(c, [
          'MIME-Version: 1.0',
          'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
          'Content-Disposition: attachment; filename="smime.p7m"',
          'Content-Transfer-Encoding: base64',
        ]),
        '',
      ) + base64Lines(envelopedDer(c.rng), c.eol),
    ),
};

// ---- structural extremes: deep nesting, huge and many header lines, long lines, no separator, garbage, bad
// charsets and encodings, boundary chaos, bare-CR line ends, NULs ----

const nestedDeep = (c: Ctx, depth: number): Buffer => {
  const head = stdHeaders(c, ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="d0"']);
  const parts: string[] = [];
  for (let i = 1; i < depth; i += 1) parts.push(`--d${i - 1}`, `Content-Type: multipart/mixed; boundary="d${i}"`, '');
  parts.push(`--d${depth - 1}`, 'Content-Type: text/plain', '', `deep ${c.body}`);
  for (let i = depth - 1; i >= 0; i -= 1) parts.push(`--d${i}--`);
  return latin1(lines(c, ...head, '', ...parts));
};

const hugeHeader = (c: Ctx): Buffer => {
  const size = 1024 * 1024;
  const folded = c.rng.chance(0.5);
  const chunk = folded ? `${'h'.repeat(70)}${c.eol}\t` : 'h'.repeat(1024);
  const value = chunk.repeat(Math.ceil(size / chunk.length));
  return latin1(lines(c, ...stdHeaders(c), `X-Huge: ${value}end`, '') + bodyText(c));
};

const manyHeaderLines = (c: Ctx): Buffer => {
  const n = c.rng.pick([10_000, 12_000]);
  const fields: string[] = [];
  for (let i = 0; i < n; i += 1) fields.push(c.rng.chance(0.1) ? `\tcontinued ${i}` : `X-Line-${i}: value ${i}`);
  return latin1(lines(c, ...stdHeaders(c), ...fields, '') + bodyText(c));
};

const longLines = (c: Ctx): Buffer => {
  const long = (ch: string) => ch.repeat(100_000);
  const inHeader = c.rng.chance(0.3) ? [`X-Long: ${long('L')}`] : [];
  return latin1(lines(c, ...stdHeaders(c, inHeader), '', long('a'), `${c.body}`, `${long('b')}${c.body}`, long(' ')));
};

const noSeparator = (c: Ctx): Buffer =>
  latin1(lines(c, ...stdHeaders(c), `body starts here ${c.body}`, 'Looks: like a header but is after body'));

const emptyish = (c: Ctx): Buffer => latin1(c.rng.pick(['', '\n', '\r\n', '\n\n', '\r\n\r\n', ' ', '\0', ':', 'a']));

const garbage = (c: Ctx): Buffer => {
  const bytes = c.rng.bytes(c.rng.pick([1, 17, 512, 4096, 65_536]));
  return c.rng.chance(0.3) ? Buffer.concat([latin1(lines(c, `Subject: ${c.subj}`, '')), bytes]) : bytes;
};

const badCharset = (c: Ctx): Buffer =>
  latin1(
    lines(
      c,
      'From: =?x-unknown?q?abc?= <a@example.org>',
      'To: alice@fuzz.test',
      `Subject: =?utf-8?b?!!!invalid?= =?iso-8859-99?q?=ZZ?= ${c.subj}`,
      'MIME-Version: 1.0',
      `Content-Type: text/plain; charset="${c.rng.pick(['x-unknown', 'utf-8', 'utf-16', '\u00ff'])}"`,
      '',
      `invalid utf-8: \u00c3\u0028 \u00e2\u0082 \u00f0\u0028\u008c\u00bc ${c.body}`,
    ),
  );

const badEncoding = (c: Ctx): Buffer =>
  latin1(
    lines(
      c,
      ...stdHeaders(c, [
        'MIME-Version: 1.0',
        'Content-Type: text/plain',
        `Content-Transfer-Encoding: ${c.rng.pick(['base64', 'quoted-printable', 'x-bogus', '7bit'])}`,
      ]),
      '',
      `!!not base64 ${c.body} =ZZ =`,
      '====',
      'QUJD=RA',
      '\u00ff\u00fe',
    ),
  );

const boundaryChaos = (c: Ctx): Buffer => {
  const variant = c.rng.int(5);
  const head = (ct: string) => stdHeaders(c, ['MIME-Version: 1.0', `Content-Type: ${ct}`]);
  switch (variant) {
    case 0: // multipart without boundary parameter
      return latin1(lines(c, ...head('multipart/mixed'), '', '--x', '', `a ${c.body}`, '--x--'));
    case 1: // boundary never appears
      return latin1(lines(c, ...head('multipart/mixed; boundary="nope"'), '', `a ${c.body}`));
    case 2: // unterminated, duplicated boundaries
      return latin1(
        lines(
          c,
          ...head('multipart/mixed; boundary="b"'),
          '',
          '--b',
          '--b',
          'Content-Type: text/plain',
          '',
          `a ${c.body}`,
          '--b',
          '--b',
        ),
      );
    case 3: // boundary that is a prefix of a body line
      return latin1(
        lines(c, ...head('multipart/alternative; boundary="="'), '', '--=', '', `a ${c.body}`, '--==', '--=--'),
      );
    default: // closing boundary before any part, then content
      return latin1(lines(c, ...head('multipart/mixed; boundary="z"'), '', '--z--', `after close ${c.body}`, '--z'));
  }
};

const allBareCr = (c: Ctx): Buffer => Buffer.from(TEMPLATES.plain!({ ...c, eol: '\r' }));

const nuls = (c: Ctx): Buffer =>
  latin1(
    lines(
      c,
      'From: a\0b <a@example.org>',
      'To: alice@fuzz.test',
      `Subject: x\0 ${c.subj}`,
      'X-Nul\0Name: v',
      '',
      `body\0\0 ${c.body}\0`,
    ),
  );

type Generator = (c: Ctx, corpus: readonly { name: string; bytes: Buffer }[]) => { input: Buffer; steps: string[] };

const fromTemplate: Generator = (c) => {
  const name = c.rng.pick(Object.keys(TEMPLATES));
  return { input: TEMPLATES[name]!(c), steps: [`template:${name}`] };
};

/** A corpus message with the case's tokens planted: subject token into the Subject, body token as a body line. */
const fromCorpus: Generator = (c, corpus) => {
  if (corpus.length === 0) return fromTemplate(c, corpus);
  const item = c.rng.pick(corpus);
  let text = item.bytes.toString('latin1');
  text = /^Subject:/im.test(text) ? text.replace(/^Subject:/im, `Subject: ${c.subj}`) : `Subject: ${c.subj}\n${text}`;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const sep = text.indexOf(`${eol}${eol}`);
  if (sep !== -1) {
    const at = sep + eol.length * 2;
    text = `${text.slice(0, at)}${c.body}${eol}${text.slice(at)}`;
  }
  return { input: latin1(text), steps: [`corpus:${item.name}`] };
};

const struct =
  (name: string, make: (c: Ctx) => Buffer): Generator =>
  (c) => ({ input: make(c), steps: [name] });

/**
 * Categories in rotation order (case index modulo length; weight = repetitions, interleaved), so any slice of 33
 * consecutive cases covers all 17. The boolean says whether 1-4 mutators follow.
 */
const ROTATION: readonly (readonly [string, Generator, boolean])[] = (() => {
  const base: (readonly [string, Generator, boolean, number])[] = [
    ['corpus+mutations', fromCorpus, true, 8],
    ['template+mutations', fromTemplate, true, 8],
    ['template', fromTemplate, false, 2],
    ['corpus', fromCorpus, false, 1],
    ['deep-nesting-50', struct('deep-nesting-50', (c) => nestedDeep(c, 50)), false, 1],
    ['deep-nesting-500', struct('deep-nesting-500', (c) => nestedDeep(c, 500)), true, 1],
    ['header-1mb', struct('header-1mb', hugeHeader), false, 1],
    ['header-lines-10000', struct('header-lines-10000', manyHeaderLines), false, 1],
    ['lines-100000-bytes', struct('lines-100000-bytes', longLines), false, 1],
    ['no-separator', struct('no-separator', noSeparator), true, 1],
    ['empty', struct('empty', emptyish), false, 1],
    ['binary-garbage', struct('binary-garbage', garbage), false, 1],
    ['invalid-charset', struct('invalid-charset', badCharset), true, 1],
    ['invalid-encoding', struct('invalid-encoding', badEncoding), true, 1],
    ['boundary-chaos', struct('boundary-chaos', boundaryChaos), true, 1],
    ['bare-cr', struct('bare-cr', allBareCr), false, 1],
    ['nul-bytes', struct('nul-bytes', nuls), true, 1],
  ];
  // Interleave so that heavy categories are spread evenly.
  const out: (readonly [string, Generator, boolean])[] = [];
  const maxWeight = Math.max(...base.map((b) => b[3]));
  for (let round = 0; round < maxWeight; round += 1) {
    for (const [name, gen, mutate, weight] of base) if (round < weight) out.push([name, gen, mutate]);
  }
  return out;
})();

export const CATEGORIES: readonly string[] = [...new Set(ROTATION.map((r) => r[0]))];

export function generateCase(
  runSeed: number,
  index: number,
  corpus: readonly { name: string; bytes: Buffer }[],
  recipientPoolSize: number,
): FuzzCase {
  const seed = caseSeed(runSeed, index);
  const rng = createRng(seed);
  const id = `${runSeed.toString(36)}n${index}Z`;
  const c: Ctx = { rng, eol: rng.chance(0.25) ? '\r\n' : '\n', body: `ZQB${id}`, subj: `ZQS${id}` };
  const [category, gen, mutate] = ROTATION[index % ROTATION.length]!;
  const made = gen(c, corpus);
  let input = made.input;
  const steps = [...made.steps];
  if (mutate) {
    const donorCase = corpus.length > 0 ? rng.pick(corpus).bytes : TEMPLATES.nested!(c);
    for (let n = rng.range(1, 4); n > 0; n -= 1) {
      const m = rng.pick(MUTATORS);
      input = m.apply(input, rng, donorCase);
      steps.push(m.name);
    }
  }
  const count = rng.chance(0.7) ? 1 : rng.range(2, Math.min(4, recipientPoolSize));
  const picked = new Set<number>();
  while (picked.size < Math.min(count, recipientPoolSize)) picked.add(rng.int(recipientPoolSize));
  return {
    runSeed,
    index,
    category,
    steps,
    input,
    bodyToken: c.body,
    subjectToken: c.subj,
    recipients: [...picked].sort(),
  };
}
