import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectProtection } from '../../src/message/detect-protection.js';
import { splitMessage } from '../../src/message/split-message.js';
import type { Protection } from '../../src/message/types.js';
import { nestedMultipart, SAMPLES } from './corpus.js';
import { realCrypto } from '../helpers/real-crypto.js';
import { cleartextShapes, protectedShapes } from '../helpers/cleartext-shapes.js';

const SIGNED =
  '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhello\n-----BEGIN PGP SIGNATURE-----\n\niHUEARYK\n' +
  '-----END PGP SIGNATURE-----\n';
const b64 = (text: string): string => `${Buffer.from(text).toString('base64').replace(/.{76}/g, '$&\n')}\n`;
const qp = (text: string): string => text.replace(/=/g, '=3D').replace(/-/g, '=2D');

const real = realCrypto();
/** Real `gpg --encrypt --armor` output (cv25519 PKESK + SEIPDv1, with gpg's CRC line). */
const ARMOR = real.pgpEncryptedArmor;
/** `openssl smime -encrypt` output as a top-level body / part (base64 DER, smime-type given or not). */
const smimePart = (type: string, der: string): string =>
  `Content-Type: ${type}\nContent-Transfer-Encoding: base64\n\n${der}`;
/** Enigmail-style binary encrypted attachment (`file.pgp`). */
const PGP_ATTACHMENT =
  'Content-Type: application/octet-stream; name="map.png.pgp"\nContent-Transfer-Encoding: base64\n' +
  `Content-Disposition: attachment; filename="map.png.pgp"\n\n${real.pgpEncryptedBinaryB64}`;

const mixed = (...parts: string[]): string =>
  'From: a@example.org\nContent-Type: multipart/mixed; boundary="mx"\n\n' +
  'This is a multi-part message in MIME format.\n' +
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
    [
      'PGP/MIME with real gpg output, base64 binary data part',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\n\n--e\n' +
        'Content-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n' +
        `Content-Transfer-Encoding: base64\n\n${real.pgpEncryptedBinaryB64}--e--\n`,
      'pgp-mime',
    ],
    ['inline PGP, only part, no Content-Type', `Subject: x\n\n${ARMOR}`, 'pgp-inline'],
    ['inline PGP, real gpg --encrypt --armor output', `Subject: x\n\n${real.pgpEncryptedArmor}`, 'pgp-inline'],
    ['inline PGP, real gpg --symmetric (SKESK) output', `Subject: x\n\n${real.pgpSymmetricArmor}`, 'pgp-inline'],
    [
      'inline PGP with the armor headers GnuPG 2.0 and Enigmail wrote',
      `Subject: x\n\n${ARMOR.replace(
        '\n\n',
        '\nVersion: GnuPG v2\nComment: Using GnuPG with Thunderbird - http://www.enigmail.net/\n\n',
      )}`,
      'pgp-inline',
    ],
    ['inline PGP after leading whitespace', `Subject: x\n\n \n\t\r\n${ARMOR}`, 'pgp-inline'],
    ['inline PGP, CRLF', `Subject: x\r\n\r\n${ARMOR.replace(/\n/g, '\r\n')}`, 'pgp-inline'],
    ['inline PGP, text/plain with charset', `Content-Type: text/plain; charset=utf-8\n\n${ARMOR}`, 'pgp-inline'],
    ['inline PGP followed by blank lines only', `Subject: x\n\n\n${ARMOR}\n\n  \n`, 'pgp-inline'],
    [
      'inline PGP as first text part of multipart/mixed, Enigmail .pgp attachment',
      mixed(`Content-Type: text/plain\n\n${ARMOR}`, PGP_ATTACHMENT),
      'pgp-inline',
    ],
    [
      'inline PGP with an armored .asc attachment and a blank part',
      mixed(
        `Content-Type: text/plain\n\n${ARMOR}`,
        `Content-Type: application/pgp-encrypted; name="a.asc"\n\n${real.pgpEncryptedArmor}`,
        'Content-Type: text/plain\n\n \n',
      ),
      'pgp-inline',
    ],
    [
      'inline PGP after an encrypted attachment',
      mixed(PGP_ATTACHMENT, `Content-Type: text/plain\n\n${ARMOR}`),
      'pgp-inline',
    ],
    [
      'inline PGP in multipart/alternative inside mixed, HTML alternative also armored',
      mixed(
        `Content-Type: multipart/alternative; boundary="al"\n\n--al\nContent-Type: text/plain\n\n${ARMOR}\n` +
          `--al\nContent-Type: text/html\n\n${ARMOR}\n--al--`,
      ),
      'pgp-inline',
    ],
    [
      'inline PGP, base64',
      `Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n${b64(ARMOR)}`,
      'pgp-inline',
    ],
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
    [
      'S/MIME application/pkcs7-mime, enveloped-data',
      smimePart('application/pkcs7-mime; smime-type=enveloped-data', real.smimeEnveloped),
      'smime',
    ],
    [
      'S/MIME application/pkcs7-mime, authEnveloped-data (openssl cms -aes-256-gcm)',
      smimePart('application/pkcs7-mime; smime-type=authEnveloped-data', real.smimeAuthEnveloped),
      'smime',
    ],
    [
      'S/MIME application/x-pkcs7-mime, no smime-type: DER decides',
      smimePart('application/x-pkcs7-mime; name=smime.p7m', real.smimeEnveloped),
      'smime',
    ],
    [
      'S/MIME authEnveloped, no smime-type: DER decides',
      smimePart('application/pkcs7-mime', real.smimeAuthEnveloped),
      'smime',
    ],
    [
      'S/MIME via octet-stream name',
      smimePart('application/octet-stream; name="SMIME.P7M"', real.smimeEnveloped),
      'smime',
    ],
    [
      'S/MIME via Content-Disposition filename',
      `Content-Disposition: attachment; filename="smime.p7m"\n${smimePart('application/octet-stream', real.smimeEnveloped)}`,
      'smime',
    ],
    [
      'S/MIME smime.p7m as first attachment after a blank text part',
      mixed(
        'Content-Type: text/plain\n\n',
        `Content-Disposition: attachment\n${smimePart('application/octet-stream; name="smime.p7m"', real.smimeEnveloped)}`,
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
    // Issue 11: armor headers other than the fixed product strings clients write are readable text.
    [
      'inline PGP with a free-text Comment armor header',
      `Subject: x\n\n${ARMOR.replace('\n\n', '\nVersion: GnuPG v2\nComment: meet at noon\n\n')}`,
    ],
    [
      'inline PGP under a text preamble of multipart/mixed',
      mixed(`Content-Type: text/plain\n\n${ARMOR}`).replace('This is a multi-part message in MIME format.', 'hi'),
    ],
    // Review 2, M1: readable text beside a real armor is cleartext at rest; the whole part gets encrypted.
    ['inline PGP with a list footer after the armor', `Subject: x\n\n${ARMOR}\n--\nlist footer\n`],
    [
      'inline PGP followed by a secret in the same part',
      `Subject: x\n\n${ARMOR}\nSECRET PLAINTEXT: launch code 1234\n`,
    ],
    [
      'an armor start, one real base64 line, free text, then an END line',
      `Subject: x\n\n${ARMOR.split('\n').slice(0, 3).join('\n')}\nthe plan is to meet at noon\n-----END PGP MESSAGE-----\n`,
    ],
    // Review #1: signed-only data is readable by anyone.
    ['gpg --sign --armor (signed-only armored message)', `Subject: x\n\n${real.pgpSignedArmor}`],
    ['armor whose first packet is a compressed packet', `Subject: x\n\n${ARMOR.replace('hF4D', 'owGb')}`],
    ['armor with garbage instead of base64', `Subject: x\n\n${ARMOR.replace('hF4D', '!!!!')}`],
    [
      'opaque-signed S/MIME (smime-type=signed-data)',
      smimePart('application/pkcs7-mime; smime-type=signed-data; name=smime.p7m', real.smimeSigned),
    ],
    [
      'opaque-signed S/MIME, no smime-type (DER says signedData)',
      smimePart('application/x-pkcs7-mime', real.smimeSigned),
    ],
    ['S/MIME certs-only', smimePart('application/pkcs7-mime; smime-type=certs-only', real.smimeCertsOnly)],
    ['S/MIME certs-only, no smime-type', smimePart('application/pkcs7-mime', real.smimeCertsOnly)],
    ['S/MIME compressed-data', smimePart('application/pkcs7-mime; smime-type=compressed-data', real.smimeCompressed)],
    ['S/MIME compressed-data, no smime-type', smimePart('application/pkcs7-mime', real.smimeCompressed)],
    [
      'smime-type=enveloped-data but the DER is signedData',
      smimePart('application/pkcs7-mime; smime-type=enveloped-data', real.smimeSigned),
    ],
    [
      'smime-type=enveloped-data on a plaintext body',
      'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\nSECRET plaintext\n',
    ],
    [
      'smime.p7m name on a signed-data octet-stream',
      smimePart('application/octet-stream; name=smime.p7m', real.smimeSigned),
    ],
    ['text/plain named smime.p7m', 'Content-Type: text/plain; name=smime.p7m\n\nSECRET plaintext\n'],
    [
      'text/plain named smime.p7m holding real enveloped DER',
      smimePart('text/plain; name=smime.p7m', real.smimeEnveloped),
    ],
    [
      'smime.p7m signed-data as first attachment after a blank text part',
      mixed('Content-Type: text/plain\n\n', smimePart('application/octet-stream; name="smime.p7m"', real.smimeSigned)),
    ],
    ['multipart/encrypted, other protocol, no boundary', 'Content-Type: Multipart/Encrypted; protocol="x/y"\n\n'],
    [
      'multipart/encrypted holding a plaintext part',
      'Content-Type: multipart/encrypted; boundary="B"\n\n--B\nContent-Type: text/plain\n\nSECRET plaintext\n--B--\n',
    ],
    [
      'multipart/encrypted whose data part is gpg --sign output',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\n\n--e\n' +
        'Content-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n\n' +
        `${real.pgpSignedArmor}--e--\n`,
    ],
    [
      'multipart/encrypted whose data part is binary gpg --sign output',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\n\n--e\n' +
        'Content-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n' +
        `Content-Transfer-Encoding: base64\n\n${real.pgpSignedBinaryB64}--e--\n`,
    ],
    [
      'multipart/encrypted with a third, cleartext part',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="e"\n\n--e\n' +
        'Content-Type: application/pgp-encrypted\n\nVersion: 1\n--e\nContent-Type: application/octet-stream\n\n' +
        `${ARMOR}--e\nContent-Type: text/plain\n\nSECRET\n--e--\n`,
    ],
    // Review #4: an inline block must not exempt cleartext beside it.
    [
      'inline PGP with a cleartext attachment after it',
      mixed(`Content-Type: text/plain\n\n${ARMOR}`, 'Content-Type: application/pdf; name="q3.pdf"\n\nSECRET'),
    ],
    [
      'inline PGP after a cleartext image',
      mixed('Content-Type: image/png\n\niVBOR', `Content-Type: text/plain\n\n${ARMOR}`),
    ],
    [
      'inline PGP with a cleartext HTML alternative',
      mixed(
        `Content-Type: multipart/alternative; boundary="al"\n\n--al\nContent-Type: text/plain\n\n${ARMOR}\n` +
          '--al\nContent-Type: text/html\n\n<p>SECRET</p>\n--al--',
      ),
    ],
    [
      'inline PGP with a signed-only .pgp attachment',
      mixed(
        `Content-Type: text/plain\n\n${ARMOR}`,
        PGP_ATTACHMENT.replace(real.pgpEncryptedBinaryB64, real.pgpSignedBinaryB64),
      ),
    ],
    [
      'inline PGP with a message/rfc822 attachment',
      mixed(`Content-Type: text/plain\n\n${ARMOR}`, 'Content-Type: message/rfc822\n\nSubject: fwd\n\nSECRET'),
    ],
    [
      'inline PGP with a cleartext second text part',
      mixed(`Content-Type: text/plain\n\n${ARMOR}`, 'Content-Type: text/plain\n\nSECRET'),
    ],
    [
      'inline PGP, then more than 500 parts (walk incomplete)',
      mixed(
        `Content-Type: text/plain\n\n${ARMOR}`,
        ...Array.from({ length: 510 }, () => 'Content-Type: text/plain\n\n'),
      ),
    ],
    [
      'binary-looking UTF-8 text is not binary OpenPGP',
      mixed(
        `Content-Type: text/plain\n\n${ARMOR}`,
        'Content-Type: text/plain; charset=utf-8\n\n\xc3\x9cber den Merger',
      ),
    ],
    [
      'smime.p7m enveloped attachment with a cleartext part after it',
      mixed(
        'Content-Type: text/plain\n\n',
        smimePart('application/octet-stream; name="smime.p7m"', real.smimeEnveloped),
        'Content-Type: application/pdf; name="q3.pdf"\n\nSECRET',
      ),
    ],
    [
      'multipart/signed',
      'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="s"\n\n' +
        '--s\nContent-Type: text/plain\n\nhello\n--s\nContent-Type: application/pgp-signature\n\n' +
        '-----BEGIN PGP SIGNATURE-----\n\niHUE\n-----END PGP SIGNATURE-----\n--s--\n',
    ],
    [
      'multipart/signed holding an armored text',
      `Content-Type: multipart/signed; boundary="s"\n\n--s\n\n${ARMOR}--s--\n`,
    ],
    ['cleartext-signed', `Subject: x\n\n${SIGNED}`],
    ['armored block quoted after other text', `Subject: x\n\nSee below:\n\n${ARMOR}`],
    ['armored block quoted with "> "', `Subject: x\n\n${ARMOR.replace(/^/gm, '> ')}`],
    [
      'PGP block in a second text part',
      mixed('Content-Type: text/plain\n\nhello', `Content-Type: text/plain\n\n${ARMOR}`),
    ],
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
      'Exchange layout whose octet-stream is signed-only (gpg --sign)',
      mixed(
        'Content-Type: application/pgp-encrypted\n\nVersion: 1',
        `Content-Type: application/octet-stream\n\n${real.pgpSignedArmor}`,
      ),
    ],
    [
      'Exchange layout whose octet-stream holds the armor after cleartext',
      mixed(
        'Content-Type: application/pgp-encrypted\n\nVersion: 1',
        `Content-Type: application/octet-stream\n\nSECRET plaintext\n${ARMOR}`,
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
        `Content-Disposition: attachment\n${smimePart('application/octet-stream; name="smime.p7m"', real.smimeEnveloped)}`,
      ),
    ],
    [
      'smime.p7m as second attachment',
      mixed(
        'Content-Type: text/plain\n\nhi',
        'Content-Type: application/pdf; name="a.pdf"\n\n%PDF',
        smimePart('application/octet-stream; name="smime.p7m"', real.smimeEnveloped),
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
  /** gpg's PKESK, then a SEIPDv1 packet of 20 MB (5-byte length), armored in 64-column lines without CRC. */
  const bigArmor = (): string => {
    const data = Buffer.from(real.pgpEncryptedBinaryB64, 'base64');
    const pkesk = data.subarray(0, 2 + (data[1] ?? 0));
    const body = Buffer.alloc(20 * 1024 * 1024, 0xa5);
    body[0] = 1;
    const header = Buffer.from([0xd2, 0xff, 0, 0, 0, 0]);
    header.writeUInt32BE(body.length, 2);
    const b64 = Buffer.concat([pkesk, header, body]).toString('base64').replace(/.{64}/g, '$&\n');
    return `-----BEGIN PGP MESSAGE-----\n\n${b64}\n-----END PGP MESSAGE-----\n`;
  };
  const line = `${'z'.repeat(75)}\n`;
  const bigText = line.repeat(Math.ceil((20 * 1024 * 1024) / line.length));
  const cases: [string, () => Buffer, Protection['kind']][] = [
    ['plain text', () => Buffer.from(`Subject: big\n\n${bigText}`, 'latin1'), 'none'],
    [
      'plain text starting like an armor but without end',
      () => Buffer.from(`Subject: big\n\n-----BEGIN PGP MESSAGE-----\n${bigText}`, 'latin1'),
      'none',
    ],
    ['armored, gpg PKESK + a 20 MB SEIPD', () => Buffer.from(`Subject: big\n\n${bigArmor()}`, 'latin1'), 'pgp-inline'],
    [
      'the same 20 MB armor with a line of text after it',
      () => Buffer.from(`Subject: big\n\n${bigArmor()}SECRET\n`, 'latin1'),
      'none',
    ],
    [
      'armored, PKESK first, then 20 MB of text',
      () =>
        Buffer.from(
          'Subject: big\n\n-----BEGIN PGP MESSAGE-----\n\n' +
            `hF4DTdGhCFKW1m8SAQdAsO9Gx8V1kqbDq+5vR3Bqk4bKJp1w0i5tL2gJVt3DvFcw\n` +
            `${bigText}-----END PGP MESSAGE-----\n`,
          'latin1',
        ),
      'none',
    ],
    [
      'armored but not encrypted',
      () =>
        Buffer.from(`Subject: big\n\n-----BEGIN PGP MESSAGE-----\n\n${bigText}-----END PGP MESSAGE-----\n`, 'latin1'),
      'none',
    ],
    ['base64 plain text', () => Buffer.from(`Content-Transfer-Encoding: base64\n\n${b64(bigText)}`, 'latin1'), 'none'],
    [
      'multipart with a huge attachment',
      () =>
        Buffer.from(
          mixed('Content-Type: text/plain\n\nhi', `Content-Type: application/pdf; name=a.pdf\n\n${bigText}`),
          'latin1',
        ),
      'none',
    ],
  ];
  for (const [name, make, expected] of cases) test(name, () => assert.equal(kind(make()), expected));
});

describe('detectProtection: hostile header values', () => {
  test('a Content-Type with 200,000 spaces finishes (no quadratic trim)', { timeout: 120_000 }, () => {
    const raw = `From: a@b\nContent-Type: text/plain;${' '.repeat(200_000)}x\n\n${ARMOR}`;
    assert.equal(kind(raw), 'pgp-inline');
    assert.equal(kind(mixed(`Content-Type: text/plain;${' '.repeat(200_000)}\n\nhello`)), 'none');
  });
});

describe('detectProtection: issue 11, readable text beside the ciphertext is encrypted', () => {
  for (const shape of cleartextShapes()) {
    test(`${shape.group}: ${shape.name}`, () => assert.equal(kind(shape.raw), 'none'));
  }
});

describe('detectProtection: issue 11, real encrypted mail still passes', () => {
  for (const shape of protectedShapes()) {
    test(`${shape.group}: ${shape.name}`, () => assert.equal(kind(shape.raw), shape.group));
  }
});
