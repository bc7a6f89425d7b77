import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contentTypeOf, dispositionOf, transferEncodingOf } from '../../src/message/content-type.js';
import { splitMessage } from '../../src/message/split-message.js';

const fieldsOf = (headers: string) => splitMessage(Buffer.from(`${headers}\n`, 'latin1')).fields;

describe('contentTypeOf', () => {
  const cases: [string, string, Record<string, string>][] = [
    ['Subject: none', 'text/plain', { charset: 'us-ascii' }],
    ['Content-Type: text/plain', 'text/plain', {}],
    ['Content-Type: TEXT/HTML; Charset="UTF-8"', 'text/html', { charset: 'UTF-8' }],
    ['Content-Type: multipart/mixed;\n boundary="a b;c"', 'multipart/mixed', { boundary: 'a b;c' }],
    ['Content-Type: multipart/mixed; boundary=plain', 'multipart/mixed', { boundary: 'plain' }],
    [
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="x"',
      'multipart/encrypted',
      { protocol: 'application/pgp-encrypted', boundary: 'x' },
    ],
    [
      'Content-Type: application/octet-stream; name*0="smime"; name*1=".p7m"',
      'application/octet-stream',
      { name: 'smime.p7m' },
    ],
    ['Content-Type: garbage', 'text/plain', { charset: 'us-ascii' }],
    ['Content-Type: ', 'text/plain', { charset: 'us-ascii' }],
    ['Content-Type: text/', 'text/plain', { charset: 'us-ascii' }],
    ['Content-Type: text/plain garbage', 'text/plain', { charset: 'us-ascii' }],
    ['Content-Type: "unterminated', 'text/plain', { charset: 'us-ascii' }],
    ['Content-Type: text/plain\nContent-Type: text/html', 'text/plain', {}],
    ['Content-Type: multipart/mixed; boundary="a"; boundary="b"', 'multipart/mixed', { boundary: 'b' }],
  ];
  for (const [headers, type, params] of cases) {
    test(JSON.stringify(headers), () => assert.deepEqual(contentTypeOf(fieldsOf(headers)), { type, params }));
  }
});

describe('transferEncodingOf', () => {
  const cases: [string, string][] = [
    ['Subject: x', '7bit'],
    ['Content-Transfer-Encoding: BASE64', 'base64'],
    ['Content-Transfer-Encoding:  Quoted-Printable (comment)', 'quoted-printable'],
    ['Content-Transfer-Encoding:', '7bit'],
  ];
  for (const [headers, expected] of cases) {
    test(JSON.stringify(headers), () => assert.equal(transferEncodingOf(fieldsOf(headers)), expected));
  }
});

describe('dispositionOf', () => {
  const cases: [string, { type: string; filename: string | undefined }][] = [
    ['Subject: x', { type: '', filename: undefined }],
    ['Content-Disposition: Attachment; filename="smime.p7m"', { type: 'attachment', filename: 'smime.p7m' }],
    ['Content-Disposition: inline', { type: 'inline', filename: undefined }],
  ];
  for (const [headers, expected] of cases) {
    test(JSON.stringify(headers), () => assert.deepEqual(dispositionOf(fieldsOf(headers)), expected));
  }
});
