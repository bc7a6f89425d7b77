import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectProtection } from '../../../src/message/detect-protection.js';
import { splitMessage } from '../../../src/message/split-message.js';
import type { Protection } from '../../../src/message/types.js';
import { nestedMultipart, SAMPLES } from './corpus.js';

const ARMOR =
  '-----BEGIN PGP MESSAGE-----\n\nhF4DTdGhCFKW1m8SAQdAsO9Gx8V1kqbDq+5vR3Bqk4bKJp1w0i5tL2gJVt3DvFcw\n' +
  '0sBIAV3pUqyp3v7cXg==\n=TQ3b\n-----END PGP MESSAGE-----\n';
const SIGNED =
  '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n-----BEGIN PGP SIGNATURE-----\n\niHUEARYK\n' +
  '-----END PGP SIGNATURE-----\n';
const b64 = (text: string): string => `${Buffer.from(text).toString('base64').replace(/.{76}/g, '$&\n')}\n`;
const qp = (text: string): string => text.replace(/=/g, '=3D').replace(/-/g, '=2D');

const mixed = (...parts: string[]): string =>
  `From: a@example.org\nContent-Type: multipart/mixed; boundary="mx"\n\npreamble\n` +
  `${parts.map((part) => `--mx\n${part}\n`).join('')}--mx--\n`;

const kind = (raw: string | Buffer): Protection['kind'] =>
  detectProtection(splitMessage(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw)).kind;

describe('detectProtection: already protected', () => {
  const cases: [string, string, Protection['kind']][] = [
    [
      'PGP/MIME',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\n\n--e\n' +
        'Content-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n\n' +
        `${ARMOR}--e--\n`,
      'pgp-mime',
    ],
    ['multipart/encrypted, other protocol, no boundary', 'Content-Type: Multipart/Encrypted; protocol="x/y"\n\n', 'pgp-mime'],
    ['inline PGP, only part, no Content-Type', `Subject: x\n\n${ARMOR}`, 'pgp-inline'],
    ['inline PGP after leading whitespace', `Subject: x\n\n \n\t\r\n${ARMOR}`, 'pgp-inline'],
    ['inline PGP, CRLF', `Subject: x\r\n\r\n${ARMOR.replace(/\n/g, '\r\n')}`, 'pgp-inline'],
    ['inline PGP, text/plain with charset', `Content-Type: text/plain; charset=utf-8\n\n${ARMOR}`, 'pgp-inline'],
    ['inline PGP with a list footer after the armor', `Subject: x\n\n${ARMOR}\n--\nlist footer\n`, 'pgp-inline'],
    [
      'inline PGP as first text part of multipart/mixed',
      mixed(`Content-Type: text/plain\n\n${ARMOR}`, 'Content-Type: image/png; name="a.png"\n\niVBOR'),
      'pgp-inline',
    ],
    [
      'inline PGP after a non-text leaf',
      mixed('Content-Type: image/png\n\niVBOR', `Content-Type: text/plain\n\n${ARMOR}`),
      'pgp-inline',
    ],
    [
      'inline PGP in multipart/alternative inside mixed',
      mixed(
        `Content-Type: multipart/alternative; boundary="al"\n\n--al\nContent-Type: text/plain\n\n${ARMOR}\n` +
          '--al\nContent-Type: text/html\n\n<p>x</p>\n--al--',
      ),
      'pgp-inline',
    ],
    ['inline PGP, base64', `Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n${b64(ARMOR)}`, 'pgp-inline'],
    [
      'inline PGP, quoted-printable',
      `Content-Type: text/plain\nContent-Transfer-Encoding: Quoted-Printable\n\n${qp(ARMOR)}`,
      'pgp-inline',
    ],
    [
      'inline PGP, base64 inside multipart',
      mixed(`Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n${b64(`\n${ARMOR}`)}`),
      'pgp-inline',
    ],
    ['inline PGP 10 levels deep', `From: a@x\n${nestedMultipart(10, ARMOR, '\n')}`, 'pgp-inline'],
    ['S/MIME application/pkcs7-mime', 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\nMIAG', 'smime'],
    ['S/MIME application/x-pkcs7-mime', 'Content-Type: application/x-pkcs7-mime; name=smime.p7m\n\nMIAG', 'smime'],
    ['S/MIME via octet-stream name', 'Content-Type: application/octet-stream; name="SMIME.P7M"\n\nMIAG', 'smime'],
    [
      'S/MIME via Content-Disposition filename',
      'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="smime.p7m"\n\nMIAG',
      'smime',
    ],
    [
      'S/MIME smime.p7m as first attachment',
      mixed(
        'Content-Type: text/plain\n\n',
        'Content-Type: application/octet-stream; name="smime.p7m"\nContent-Disposition: attachment\n\nMIAG',
      ),
      'smime',
    ],
    [
      'Exchange-mangled PGP/MIME',
      mixed(
        'Content-Type: text/plain; charset="us-ascii"\nContent-Transfer-Encoding: 7bit\n\n',
        'Content-Type: application/pgp-encrypted\nContent-Disposition: attachment\n\nVersion: 1\n',
        `Content-Type: application/octet-stream; name="encrypted.asc"\n\n${ARMOR}`,
      ),
      'pgp-mime-exchange',
    ],
    [
      'Exchange-mangled PGP/MIME without the empty text part, CRLF',
      mixed(
        'Content-Type: application/pgp-encrypted\n\nVersion: 1',
        `Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n${b64(ARMOR)}`,
      ).replace(/\n/g, '\r\n'),
      'pgp-mime-exchange',
    ],
  ];
  for (const [name, raw, expected] of cases) test(name, () => assert.equal(kind(raw), expected));
});

describe('detectProtection: not protected', () => {
  const cases: [string, string][] = [
    ['plain text', 'Subject: x\n\nhello\n'],
    [
      'multipart/signed',
      'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="s"\n\n' +
        '--s\nContent-Type: text/plain\n\nhello\n--s\nContent-Type: application/pgp-signature\n\n' +
        '-----BEGIN PGP SIGNATURE-----\n\niHUE\n-----END PGP SIGNATURE-----\n--s--\n',
    ],
    ['multipart/signed holding an armored text', `Content-Type: multipart/signed; boundary="s"\n\n--s\n\n${ARMOR}--s--\n`],
    ['cleartext-signed', `Subject: x\n\n${SIGNED}`],
    ['armored block quoted after other text', `Subject: x\n\nSee below:\n\n${ARMOR}`],
    ['armored block quoted with "> "', `Subject: x\n\n${ARMOR.replace(/^/gm, '> ')}`],
    ['PGP block in a second text part', mixed('Content-Type: text/plain\n\nhello', `Content-Type: text/plain\n\n${ARMOR}`)],
    ['armor begin without end', 'Subject: x\n\n-----BEGIN PGP MESSAGE-----\n\nhF4D\n'],
    ['armor in a non-text leaf only', `Content-Type: application/octet-stream\n\n${ARMOR}`],
    ['armor in text/html first part', `Content-Type: text/html\n\n<pre>${ARMOR}</pre>`],
    [
      'Exchange layout with a non-empty text part',
      mixed(
        'Content-Type: text/plain\n\nplease read',
        'Content-Type: application/pgp-encrypted\n\nVersion: 1',
        `Content-Type: application/octet-stream\n\n${ARMOR}`,
      ),
    ],
    [
      'Exchange layout with a fourth part',
      mixed(
        'Content-Type: application/pgp-encrypted\n\nVersion: 1',
        `Content-Type: application/octet-stream\n\n${ARMOR}`,
        'Content-Type: text/plain\n\ncleartext',
      ),
    ],
    [
      'smime.p7m as first attachment after a cleartext body',
      mixed(
        'Content-Type: text/plain\n\nhere is the file you asked for',
        'Content-Type: application/octet-stream; name="smime.p7m"\nContent-Disposition: attachment\n\nMIAG',
      ),
    ],
    [
      'smime.p7m as second attachment',
      mixed(
        'Content-Type: text/plain\n\nhi',
        'Content-Type: application/pdf; name="a.pdf"\n\n%PDF',
        'Content-Type: application/octet-stream; name="smime.p7m"\n\nMIAG',
      ),
    ],
    ['garbage', '\x00\xff\xfe garbage \n\n\n-----BEGIN'],
    ['inline PGP 50 levels deep (beyond the depth limit)', `From: a@x\n${nestedMultipart(50, ARMOR, '\n')}`],
    ['multipart without boundary holding armor', `Content-Type: multipart/mixed\n\n--zz\n\n${ARMOR}--zz--\n`],
  ];
  for (const [name, raw] of cases) test(name, () => assert.equal(kind(raw), 'none'));

  for (const sample of SAMPLES) {
    test(`broken or odd input gives none: ${sample.name}`, () => assert.equal(kind(sample.raw), 'none'));
  }
});

describe('detectProtection: 20 MB single-part bodies', () => {
  const line = `${'z'.repeat(75)}\n`;
  const bigText = line.repeat(Math.ceil((20 * 1024 * 1024) / line.length));
  const cases: [string, () => Buffer, Protection['kind']][] = [
    ['plain text', () => Buffer.from(`Subject: big\n\n${bigText}`, 'latin1'), 'none'],
    ['plain text starting like an armor but without end', () => Buffer.from(`Subject: big\n\n-----BEGIN PGP MESSAGE-----\n${bigText}`, 'latin1'), 'none'],
    ['armored', () => Buffer.from(`Subject: big\n\n-----BEGIN PGP MESSAGE-----\n\n${bigText}-----END PGP MESSAGE-----\n`, 'latin1'), 'pgp-inline'],
    ['base64 plain text', () => Buffer.from(`Content-Transfer-Encoding: base64\n\n${b64(bigText)}`, 'latin1'), 'none'],
    ['multipart with a huge attachment', () => Buffer.from(mixed('Content-Type: text/plain\n\nhi', `Content-Type: application/pdf; name=a.pdf\n\n${bigText}`), 'latin1'), 'none'],
  ];
  for (const [name, make, expected] of cases) test(name, () => assert.equal(kind(make()), expected));
});
