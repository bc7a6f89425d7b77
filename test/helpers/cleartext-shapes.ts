// Issue 11 item 1: messages that look "already encrypted" but carry readable text somewhere a reader can see it.
// Built from real gpg/openssl output (test/helpers/real-crypto.ts) plus the text; each must be encrypted.
// `positives` are the real shapes that must still pass unchanged. Shared by the detection, filter and CLI tests.
import assert from 'node:assert/strict';
import { splitMessage } from '../../src/message/split-message.js';
import { oid, tlv } from './der.js';
import { realCrypto } from './real-crypto.js';
import { decryptWithOpenpgpJs, parsePgpMime } from './decrypt.js';

export interface Shape {
  /** Issue class, for grouping: control | preamble | after-armor | der | base64 | armor | ambiguous. */
  readonly group: string;
  readonly name: string;
  readonly raw: string;
}

const HEAD =
  'From: a@example.net\nTo: alice@example.org\nSubject: s\nMessage-ID: <shape@example.net>\nMIME-Version: 1.0\n';
const b64 = (bytes: Buffer | string): string => {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return `${data.toString('base64').replace(/.{76}/g, '$&\n')}\n`;
};
/** `text` with LFs added so that its base64 ends in `=` padding (the gpg armor's length varies from run to run). */
const padded = (text: string): string => (text.length % 3 === 0 ? `${text}\n` : text);
const SECRET = (id: string): string => `SECRET-${id} the merger closes Friday`;
const THUNDERBIRD = 'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n';

interface PgpMimeParts {
  preamble?: string;
  control?: string;
  controlHeaders?: string;
  data?: string;
  dataHeaders?: string;
  epilogue?: string;
  close?: boolean;
  outerExtra?: string;
}

function pgpMime(p: PgpMimeParts): string {
  const armor = realCrypto().pgpEncryptedArmor;
  return (
    `${HEAD}Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"\n` +
    `${p.outerExtra ?? ''}\n` +
    `${p.preamble ?? THUNDERBIRD}--b1\nContent-Type: application/pgp-encrypted\n${p.controlHeaders ?? ''}\n` +
    `${p.control ?? 'Version: 1\n'}\n--b1\nContent-Type: application/octet-stream; name="encrypted.asc"\n` +
    `${p.dataHeaders ?? ''}\n${p.data ?? armor}\n${p.close === false ? '' : '--b1--\n'}${p.epilogue ?? ''}`
  );
}

const mixed = (preamble: string, parts: string[], epilogue = ''): string =>
  `${HEAD}Content-Type: multipart/mixed; boundary="mx"\n\n${preamble}` +
  `${parts.map((part) => `--mx\n${part}\n`).join('')}` +
  `--mx--\n${epilogue}`;
const text = (body: string, headers = ''): string => `Content-Type: text/plain; charset=us-ascii\n${headers}\n${body}`;
const attachment = (body: string, headers = 'Content-Transfer-Encoding: base64\n'): string =>
  `Content-Type: application/octet-stream; name="map.png.pgp"\n${headers}` +
  `Content-Disposition: attachment; filename="map.png.pgp"\n\n${body}`;
const single = (body: string, headers = 'Content-Type: text/plain; charset=us-ascii\n'): string =>
  `${HEAD}${headers}\n${body}`;
const smime = (body: string, type = 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'): string =>
  `${HEAD}Content-Type: ${type}\nContent-Disposition: attachment; filename="smime.p7m"\n` +
  `Content-Transfer-Encoding: base64\n\n${body}`;

// ---- S/MIME variants (DER from ./der.ts) ----
const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const filler = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 73 + 5) & 0xff));
const RECIPIENT = tlv(
  0x30,
  tlv(0x02, hex('00')),
  tlv(0x30, tlv(0x30), tlv(0x02, hex('01'))),
  tlv(0x30, oid('2a864886f70d010101'), tlv(0x05)),
  tlv(0x04, filler(256)),
);
const CONTENT_INFO = (content: Buffer = tlv(0x80, filler(48))): Buffer =>
  tlv(0x30, oid('2a864886f70d010701'), tlv(0x30, oid('60864801650304012a'), tlv(0x04, filler(16))), content);
/** A synthetic EnvelopedData ContentInfo; `extra` fields go after encryptedContentInfo, `before` before the SET. */
export const envelopedDer = (extra: Buffer[] = [], before: Buffer[] = [], content?: Buffer): Buffer =>
  tlv(
    0x30,
    oid('2a864886f70d010703'),
    tlv(0xa0, tlv(0x30, tlv(0x02, hex('00')), ...before, tlv(0x31, RECIPIENT), CONTENT_INFO(content), ...extra)),
  );
const UTF8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s));

export function cleartextShapes(): Shape[] {
  const real = realCrypto();
  const armor = real.pgpEncryptedArmor;
  const binary = Buffer.from(real.pgpEncryptedBinaryB64, 'base64');
  const der = Buffer.from(real.smimeEnveloped, 'base64');
  const shapes: Shape[] = [];
  const add = (group: string, name: string, raw: string): void => void shapes.push({ group, name, raw });

  // 1. The application/pgp-encrypted control part holds more than "Version: 1".
  add('control', 'text after Version: 1', pgpMime({ control: `Version: 1\n${SECRET('c1')}\n` }));
  add('control', 'text on the Version line', pgpMime({ control: `Version: 1 ${SECRET('c2')}\n` }));
  add('control', 'text before Version: 1', pgpMime({ control: `${SECRET('c3')}\nVersion: 1\n` }));
  add(
    'control',
    'base64 control part with a second line',
    pgpMime({
      controlHeaders: 'Content-Transfer-Encoding: base64\n',
      control: b64(`Version: 1\r\n${SECRET('c4')}\r\n`),
    }),
  );
  add(
    'control',
    'base64 control part, text after its padding',
    pgpMime({
      controlHeaders: 'Content-Transfer-Encoding: base64\n',
      control: `${b64('Version: 1')}${b64(` ${SECRET('c5')}`)}`,
    }),
  );
  add(
    'control',
    'Exchange layout, text in the control part',
    mixed('', [
      text(''),
      `Content-Type: application/pgp-encrypted\n\nVersion: 1\n${SECRET('c6')}`,
      `Content-Type: application/octet-stream\n\n${armor}`,
    ]),
  );

  // 2. Preamble / epilogue of a multipart.
  add('preamble', 'PGP/MIME preamble text', pgpMime({ preamble: `${SECRET('p1')}\n` }));
  add('preamble', 'known preamble sentence plus text', pgpMime({ preamble: `${THUNDERBIRD}${SECRET('p2')}\n` }));
  add('preamble', 'PGP/MIME epilogue text', pgpMime({ epilogue: `${SECRET('p3')}\n` }));
  add(
    'preamble',
    'PGP/MIME without its closing delimiter, text after the armor in the part',
    pgpMime({ close: false, epilogue: `${SECRET('p4')}\n` }),
  );
  add('preamble', 'inline PGP in multipart/mixed, preamble text', mixed(`${SECRET('p5')}\n`, [text(armor)]));
  add('preamble', 'inline PGP in multipart/mixed, epilogue text', mixed('', [text(armor)], `${SECRET('p6')}\n`));
  add(
    'preamble',
    'nested multipart/alternative epilogue text',
    mixed('', [
      `Content-Type: multipart/alternative; boundary="al"\n\n--al\n${text(armor)}\n--al--\n${SECRET('p7')}\n`,
    ]),
  );
  add(
    'preamble',
    'Exchange layout, preamble text',
    mixed(`${SECRET('p8')}\n`, [
      text(''),
      'Content-Type: application/pgp-encrypted\n\nVersion: 1',
      `Content-Type: application/octet-stream\n\n${armor}`,
    ]),
  );

  // 3. Text after the armor (or the packets) in the octet-stream part or in a non-text leaf.
  add('after-armor', 'PGP/MIME data part: armor then text', pgpMime({ data: `${armor}\n${SECRET('a1')}\n` }));
  add('after-armor', 'PGP/MIME data part: text then armor', pgpMime({ data: `${SECRET('a2')}\n${armor}` }));
  add(
    'after-armor',
    'PGP/MIME data part, base64 binary packets then text',
    pgpMime({
      dataHeaders: 'Content-Transfer-Encoding: base64\n',
      data: b64(Buffer.concat([binary, Buffer.from(SECRET('a3'))])),
    }),
  );
  add(
    'after-armor',
    'PGP/MIME data part, base64 of armor then text',
    pgpMime({
      dataHeaders: 'Content-Transfer-Encoding: base64\n',
      data: b64(`${armor}${SECRET('a4')}\n`),
    }),
  );
  add(
    'after-armor',
    'Enigmail .pgp attachment: armor then text',
    mixed('', [text(armor), attachment(`${armor}${SECRET('a5')}\n`, '')]),
  );
  add(
    'after-armor',
    '.pgp attachment: binary packets then text',
    mixed('', [text(armor), attachment(b64(Buffer.concat([binary, Buffer.from(`\n${SECRET('a6')}\n`)])))]),
  );
  add(
    'after-armor',
    'binary packets then a literal packet',
    pgpMime({
      dataHeaders: 'Content-Transfer-Encoding: base64\n',
      data: b64(
        Buffer.concat([
          binary,
          Buffer.from([0xcb, 6 + SECRET('a7').length, 0x62, 0, 0, 0, 0, 0]),
          Buffer.from(SECRET('a7')),
        ]),
      ),
    }),
  );

  // 4. S/MIME whose DER only starts like enveloped data.
  add('der', 'enveloped DER then text', smime(b64(Buffer.concat([der, Buffer.from(`\n${SECRET('d1')}\n`)]))));
  add(
    'der',
    'the ContentInfo header of enveloped data, then plaintext',
    smime(b64(Buffer.concat([der.subarray(0, 40), Buffer.from(`${SECRET('d2')}\n`)]))),
  );
  add('der', 'enveloped DER, base64 text after its padding', smime(`${real.smimeEnveloped}${b64(` ${SECRET('d3')}`)}`));
  add(
    'der',
    'smime.p7m attachment: enveloped DER then text',
    `${HEAD}Content-Type: application/octet-stream; name="smime.p7m"\n` +
      `Content-Transfer-Encoding: base64\n\n${b64(Buffer.concat([der, Buffer.from(SECRET('d4'))]))}`,
  );
  add(
    'der',
    'EnvelopedData with unprotectedAttrs in clear',
    smime(b64(envelopedDer([tlv(0xa1, tlv(0x30, oid('2a03'), tlv(0x31, UTF8(SECRET('d5')))))]))),
  );
  add(
    'der',
    'EnvelopedData with originatorInfo certificates',
    smime(b64(envelopedDer([], [tlv(0xa0, tlv(0xa0, UTF8(SECRET('d6'))))]))),
  );
  add(
    'der',
    'BER enveloped data (indefinite lengths) then text',
    smime(b64(Buffer.concat([Buffer.from(real.smimeEnvelopedStreamed, 'base64'), Buffer.from(SECRET('d7'))]))),
  );

  // 5. base64 / quoted-printable inline PGP with more than the armor.
  const B64_TEXT = 'Content-Type: text/plain\nContent-Transfer-Encoding: base64\n';
  add(
    'base64',
    'base64 inline PGP, text after the padding',
    single(`${b64(padded(armor))}${b64(` ${SECRET('b1')}`)}`, B64_TEXT),
  );
  add(
    'base64',
    'base64 inline PGP, CRLF, a blank line, then text after the padding',
    single(`${b64(padded(armor))}\n${b64(SECRET('b2'))}`.replace(/\n/g, '\r\n'), B64_TEXT),
  );
  add(
    'base64',
    'base64 with junk characters readers skip',
    single(`${b64(padded(armor))}*${b64(SECRET('b3'))}`, B64_TEXT),
  );
  add(
    'base64',
    'quoted-printable armor then text',
    single(
      `${armor.replace(/=/g, '=3D')}=0A${SECRET('b4')}=\n`,
      'Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n',
    ),
  );
  add(
    'base64',
    'quoted-printable armor with stray "=" text',
    single(
      `${armor.replace(/=/g, '=3D')}=${SECRET('b5')}\n`,
      'Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n',
    ),
  );

  // 6. What else an armor can carry in clear.
  const withHeader = (header: string): string => armor.replace('-----\n\n', `-----\n${header}\n\n`);
  add('armor', 'Comment: armor header', single(withHeader(`Comment: ${SECRET('r1')}`)));
  add('armor', 'Version: armor header', single(withHeader(`Version: ${SECRET('r2')}`)));
  add('armor', 'arbitrary Key: value armor header', single(withHeader(`X-Plan: ${SECRET('r3')}`)));
  add('armor', 'armor header in the PGP/MIME data part', pgpMime({ data: withHeader(`Comment: ${SECRET('r4')}`) }));
  add('armor', 'text before -----BEGIN', single(`${SECRET('r5')}\n${armor}`));
  add('armor', 'a wrong CRC line', single(armor.replace(/\n=[A-Za-z0-9+/]{4}\n/, '\n=U0VD\n')));
  add(
    'armor',
    'dash-escaped text inside the armor',
    single(armor.replace('\n-----END', `\n- ${SECRET('r7')}\n-----END`)),
  );
  add('armor', 'a cleartext signature', single(real.pgpClearsigned));
  add('armor', 'gpg --store (a literal packet)', single(real.pgpStoredArmor));
  add('armor', 'gpg --store in the PGP/MIME data part', pgpMime({ data: real.pgpStoredArmor }));
  add(
    'armor',
    'a PUBLIC KEY BLOCK beside inline PGP',
    mixed('', [text(armor), `Content-Type: application/pgp-keys; name="key.asc"\n\n${real.pgpPublicKeyArmor}`]),
  );
  add('armor', 'a PUBLIC KEY BLOCK as the text', single(real.pgpPublicKeyArmor));

  // 7. Headers or encodings readers may take two ways.
  add(
    'ambiguous',
    'inline PGP with two Content-Transfer-Encoding fields',
    single(armor, 'Content-Type: text/plain\nContent-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n'),
  );
  add(
    'ambiguous',
    'PGP/MIME data part with two Content-Type fields',
    pgpMime({ dataHeaders: 'Content-Type: text/plain\n' }),
  );
  add(
    'ambiguous',
    'multipart/encrypted with a Content-Transfer-Encoding: base64',
    pgpMime({
      outerExtra: 'Content-Transfer-Encoding: base64\n',
    }),
  );
  add(
    'ambiguous',
    'inline PGP in a UTF-7 text part (+... decodes as text)',
    single(armor, 'Content-Type: text/plain; charset=utf-7\n'),
  );
  add(
    'ambiguous',
    'data part with an unknown transfer encoding',
    pgpMime({ dataHeaders: 'Content-Transfer-Encoding: x-uuencode\n' }),
  );
  return shapes;
}

/** Real encrypted mail shapes that must still pass through unchanged. */
export function protectedShapes(): Shape[] {
  const real = realCrypto();
  const armor = real.pgpEncryptedArmor;
  return [
    { group: 'pgp-mime', name: 'Thunderbird preamble', raw: pgpMime({}) },
    { group: 'pgp-mime', name: 'no preamble, CRLF', raw: pgpMime({ preamble: '' }).replace(/\n/g, '\r\n') },
    {
      group: 'pgp-mime',
      name: 'RFC 2440 preamble (GPGTools), blank epilogue',
      raw: pgpMime({
        preamble: 'This is an OpenPGP/MIME encrypted message (RFC 2440 and 3156)\n',
        epilogue: '\n\n',
      }),
    },
    {
      group: 'pgp-mime',
      name: 'base64 binary data part',
      raw: pgpMime({ dataHeaders: 'Content-Transfer-Encoding: base64\n', data: real.pgpEncryptedBinaryB64 }),
    },
    {
      group: 'pgp-mime',
      name: 'base64 control part (Exchange)',
      raw: pgpMime({ controlHeaders: 'Content-Transfer-Encoding: base64\n', control: b64('Version: 1\r\n') }),
    },
    { group: 'pgp-mime', name: 'symmetric (gpg --symmetric)', raw: pgpMime({ data: real.pgpSymmetricArmor }) },
    { group: 'pgp-inline', name: 'single part', raw: single(armor) },
    {
      group: 'pgp-inline',
      name: 'ProtonMail armor headers',
      raw: single(armor.replace('-----\n\n', '-----\nVersion: ProtonMail\nComment: https://protonmail.com\n\n')),
    },
    {
      group: 'pgp-inline',
      name: 'base64 encoded',
      raw: single(b64(armor), 'Content-Type: text/plain\nContent-Transfer-Encoding: base64\n'),
    },
    {
      group: 'pgp-inline',
      name: 'quoted-printable',
      raw: single(
        armor.replace(/=/g, '=3D'),
        'Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n',
      ),
    },
    {
      group: 'pgp-inline',
      name: 'mixed with a known preamble and a .pgp attachment',
      raw: mixed('This is a multi-part message in MIME format.\n', [
        text(armor),
        attachment(real.pgpEncryptedBinaryB64),
      ]),
    },
    { group: 'smime', name: 'enveloped-data', raw: smime(real.smimeEnveloped) },
    { group: 'smime', name: 'BER streamed (openssl cms -stream)', raw: smime(real.smimeEnvelopedStreamed) },
    {
      group: 'smime',
      name: 'authEnveloped-data',
      raw: smime(real.smimeAuthEnveloped, 'application/pkcs7-mime; smime-type=authEnveloped-data; name="smime.p7m"'),
    },
    {
      group: 'smime',
      name: 'synthetic EnvelopedData (the DER writer the negatives use)',
      raw: smime(b64(envelopedDer())),
    },
  ];
}

const lf = (bytes: Buffer): string => bytes.toString('latin1').replace(/\r\n/g, '\n');

/**
 * `output` is pgpipe's PGP/MIME for `shape`: no SECRET marker outside the armor, and the decrypted payload holds
 * every byte of the input body (line endings aside).
 */
export async function assertShapeEncrypted(shape: Shape, output: Buffer, privateArmored: string): Promise<void> {
  const { armor } = parsePgpMime(output);
  const outside = output.toString('latin1').replace(armor, '');
  assert.doesNotMatch(outside, /SECRET-/, `${shape.name}: marker outside the encryption`);
  const inner = await decryptWithOpenpgpJs(armor, privateArmored);
  const body = splitMessage(Buffer.from(shape.raw, 'latin1')).body;
  assert.ok(lf(inner).includes(lf(body)), `${shape.name}: the decrypted payload lacks the input body`);
}
