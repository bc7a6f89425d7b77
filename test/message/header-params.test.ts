// parseHeaderParams replaces libmime.parseHeaderValue in content-type.ts: same value and parameters for what
// libmime handled there (quoted strings, escapes, RFC 2231 continuations and charset'lang'value), checked
// against libmime itself on the same inputs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseHeaderParams } from '../../src/message/header-params.js';

// libmime (a devDependency, CommonJS) ships no types: only parseHeaderValue is used.
const libmime = createRequire(import.meta.url)('libmime') as {
  parseHeaderValue(text: string): { value: string | false; params: Record<string, unknown> };
};

const expectations: [string, string, Record<string, string>][] = [
  ['text/plain', 'text/plain', {}],
  ['  TEXT/HTML ;  Charset="UTF-8"  ', 'TEXT/HTML', { charset: 'UTF-8' }],
  ['multipart/mixed; boundary="a b;c"', 'multipart/mixed', { boundary: 'a b;c' }],
  ['multipart/mixed; boundary="a\\"b"', 'multipart/mixed', { boundary: 'a"b' }],
  ['multipart/mixed; boundary=plain', 'multipart/mixed', { boundary: 'plain' }],
  ['multipart/mixed; boundary="a"; boundary="b"', 'multipart/mixed', { boundary: 'b' }],
  ['application/octet-stream; name*0="smime"; name*1=".p7m"', 'application/octet-stream', { name: 'smime.p7m' }],
  ['application/octet-stream; name*1=".p7m"; name*0="smime"', 'application/octet-stream', { name: 'smime.p7m' }],
  [
    'application/octet-stream; name="x"; name*0="smi"; name*1="me.p7m"',
    'application/octet-stream',
    { name: 'smime.p7m' },
  ],
  ["attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.txt", 'attachment', { filename: 'Grüße.txt' }],
  ["attachment; filename*=iso-8859-1'de'Gr%FC%DFe.txt", 'attachment', { filename: 'Grüße.txt' }],
  ["attachment; filename*0*=utf-8''smime; filename*1=.p7m", 'attachment', { filename: 'smime.p7m' }],
  ["attachment; filename*=''smime.p7m", 'attachment', { filename: 'smime.p7m' }],
  ['attachment; filename*0="=?utf-8?Q?smime?="; filename*1=".p7m"', 'attachment', { filename: 'smime.p7m' }],
  ['attachment; filename="=?utf-8?Q?smime.p7m?="', 'attachment', { filename: '=?utf-8?Q?smime.p7m?=' }],
  ['inline; emptykey', 'inline', { emptykey: '' }],
  ['text/plain garbage', 'text/plain garbage', {}],
  ['"unterminated', 'unterminated', {}],
  ['', '', {}],
  ['text/plain; charset', 'text/plain', { charset: '' }],
  ['text/plain;;charset=x', 'text/plain', { ';charset': 'x' }],
];

describe('parseHeaderParams', () => {
  for (const [input, value, params] of expectations) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(parseHeaderParams(input), { value: value.trim(), params });
    });
  }
});

describe('parseHeaderParams agrees with libmime.parseHeaderValue', () => {
  const inputs = [
    ...expectations.map(([input]) => input),
    'multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="----=_Part_1"',
    'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    'text/plain; format=flowed; delsp=yes; charset="iso-8859-1"',
    'multipart/mixed;\tboundary="--==_mimepart_5f0"',
    "text/plain; name*0*=us-ascii'en'This%20is%20; name*1*=%2A%2A%2Afun%2A%2A%2A",
    "text/plain; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
    'message/external-body; access-type=URL; URL*0="ftp://"; URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
    'text/plain; a="x;y"; b=\\"q; c="z"',
    'x/y; k="v" trailing; k2=v2',
  ];
  for (const input of inputs) {
    test(JSON.stringify(input), () => {
      const theirs = libmime.parseHeaderValue(input);
      const ours = parseHeaderParams(input);
      assert.equal(ours.value, typeof theirs.value === 'string' ? theirs.value : '');
      assert.deepEqual({ ...ours.params }, Object.fromEntries(Object.entries(theirs.params)));
    });
  }
});
