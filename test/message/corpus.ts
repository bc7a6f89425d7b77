// Adversarial raw messages shared by the test/message tests (built in code, never read from disk).

export interface Sample {
  readonly name: string;
  readonly raw: Buffer;
}

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** `depth` nested multipart/mixed levels around one text/plain leaf holding `leaf`. */
export function nestedMultipart(depth: number, leaf: string, eol = '\r\n'): string {
  let body = `Content-Type: text/plain${eol}${eol}${leaf}${eol}`;
  for (let level = depth; level >= 1; level -= 1) {
    body =
      `Content-Type: multipart/mixed; boundary="b${level}"${eol}${eol}` + `--b${level}${eol}${body}--b${level}--${eol}`;
  }
  return body;
}

const hugeLine = 'x'.repeat(100_000);
const manyHeaders = Array.from({ length: 10_000 }, (_, i) => `X-Filler-${i}: value ${i}\n`).join('');

export const SAMPLES: readonly Sample[] = [
  {
    name: 'LF',
    raw: latin1(
      'Return-Path: <a@example.org>\nReceived: from x\n\tby y; Sat, 21 Nov 2026 06:00:00 +0000\n' +
        'From: Alice <a@example.org>\nTo: b@example.org\nSubject: hello\nDate: Sat, 21 Nov 2026 06:00:00 +0000\n' +
        'Message-ID: <1@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n' +
        'Content-Transfer-Encoding: 8bit\n\nline one\nline two\n',
    ),
  },
  {
    name: 'CRLF',
    raw: latin1(
      'From: a@example.org\r\nTo: b@example.org\r\nSubject: crlf\r\nContent-Type: text/plain\r\n\r\nbody\r\nmore\r\n',
    ),
  },
  {
    name: 'mixed EOL with bare CR',
    raw: latin1(
      'From: a@example.org\r\nTo: b@example.org,\n c@example.org\r\nSubject: mixed\n' +
        'Content-Type: text/plain;\r\n charset=us-ascii\n\r\nfirst\r\nsecond\nthird\rstill third\n\n\r\nend',
    ),
  },
  {
    name: 'NUL and 8-bit bytes',
    raw: Buffer.concat([
      latin1('From: J\xfcrgen <j@example.org>\nSubject: caf\xe9 \x00 nul\nX-Bin: \xff\xfe\xa0\n'),
      latin1('Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n'),
      Buffer.from([0x00, 0xff, 0x0a, 0x80, 0xa0, 0x0d, 0x0a, 0x00, 0x0a, 0xc3, 0x28, 0x0a]),
    ]),
  },
  {
    name: 'no separator (non-header line starts the body)',
    raw: latin1('From: a@example.org\nSubject: s\nthis line has no colon\nmore body\n'),
  },
  { name: 'CR-only line endings', raw: latin1('From: a@example.org\rSubject: old mac\r\rbody\r') },
  {
    name: 'bare CR hiding a field',
    raw: latin1('From: a@example.org\nX-A: 1\rSubject: hidden\nTo: b@example.org\n\nbody\n'),
  },
  {
    name: 'bare CR in a folded field',
    raw: latin1('From: a@example.org\r\nReceived: x\r\n\tby y\rSubject: hidden\r\nTo: b@example.org\r\n\r\nbody\r\n'),
  },
  { name: 'no Content-Type', raw: latin1('From: a@example.org\nTo: b@example.org\nSubject: plain\n\nhi\n') },
  { name: 'header-only', raw: latin1('From: a@example.org\nTo: b@example.org\nSubject: only headers\n') },
  { name: 'header-only without final EOL', raw: latin1('From: a@example.org\nSubject: x') },
  { name: 'empty input', raw: Buffer.alloc(0) },
  { name: 'separator only', raw: latin1('\n') },
  { name: 'body without final EOL', raw: latin1('Subject: x\r\n\r\nno newline at end') },
  { name: 'body ending in CR', raw: latin1('Subject: x\n\nends with CR\r') },
  { name: 'body starting with blank lines', raw: latin1('Subject: x\n\n\n\nafter blanks\n') },
  {
    name: '10,000-line header section',
    raw: latin1(`From: a@example.org\n${manyHeaders}Subject: big\nContent-Type: text/plain\n\nbody\n`),
  },
  {
    name: '100,000-byte lines',
    raw: latin1(`From: a@example.org\nX-Long: ${hugeLine}\nSubject: long\n\n${hugeLine}\n${hugeLine}`),
  },
  {
    name: 'missing closing boundary',
    raw: latin1(
      'From: a@example.org\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\nContent-Type: text/plain\n\n' +
        'part one\n--zz\nContent-Type: text/plain\n\npart two, unterminated\n',
    ),
  },
  {
    name: 'boundary param absent',
    raw: latin1('From: a@example.org\nContent-Type: multipart/mixed\n\n--zz\nContent-Type: text/plain\n\nx\n--zz--\n'),
  },
  {
    name: 'duplicated boundaries',
    raw: latin1(
      'From: a@example.org\nContent-Type: multipart/mixed; boundary="same"\n\n--same\n' +
        'Content-Type: multipart/alternative; boundary="same"\n\n--same\nContent-Type: text/plain\n\na\n--same--\n' +
        '--same\nContent-Type: text/plain\n\nb\n--same--\n--same--\n',
    ),
  },
  {
    name: '50-deep nested multiparts',
    raw: latin1(`From: a@example.org\nMIME-Version: 1.0\n${nestedMultipart(50, 'deep leaf', '\n')}`),
  },
  {
    name: 'signatures, folded RFC 2047 subject, repeated fields',
    raw: latin1(
      'DKIM-Signature: v=1; a=rsa-sha256; d=example.org;\r\n\tb=abc\r\nDomainKey-Signature: a=rsa-sha1; b=x\r\n' +
        'Received: one\r\nReceived: two\r\nFrom: a@example.org\r\nTo: b@example.org\r\nTo: c@example.org\r\n' +
        'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_einem_sehr_langen_Betreff?=\r\n =?UTF-8?Q?_der_gefaltet_ist?=\r\n' +
        'References: <1@x>\r\n <2@x>\r\nIn-Reply-To: <2@x>\r\nReply-To: r@example.org\r\nCc: d@example.org\r\n' +
        'X-Spam-Flag: NO\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="alt"\r\n' +
        'Content-ID: <cid@x>\r\nContent-Description: d\r\n\r\n--alt\r\nContent-Type: text/plain\r\n\r\nt\r\n--alt--\r\n',
    ),
  },
];
