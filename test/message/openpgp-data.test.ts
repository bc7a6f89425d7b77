import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { isEncryptedMessage, isEncryptedOpenPgp, parseArmor } from '../../src/message/openpgp-data.js';
import { realCrypto } from '../helpers/real-crypto.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const real = realCrypto();
const fromB64 = (text: string): Buffer => Buffer.from(text, 'base64');
/** The binary data of a real armor (gpg output), decoded leniently for building test inputs. */
const dataOf = (armor: string): Buffer => fromB64(armor.split(/\r?\n\r?\n/)[1]!.split(/\n=|\n-----END/)[0]!);

/** A new-format packet with a fixed length (1, 2 or 5 length bytes as the size needs). */
function packet(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length =
    n < 192
      ? Buffer.from([n])
      : n < 8384
        ? Buffer.from([((n - 192) >> 8) + 192, (n - 192) & 0xff])
        : Buffer.concat([Buffer.from([255]), Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])]);
  return Buffer.concat([Buffer.from([0xc0 | tag]), length, body]);
}
/** A new-format packet split into partial chunks of 2^power bytes, the rest as the final fixed length. */
function partialPacket(tag: number, body: Buffer, powers: number[]): Buffer {
  const out: Buffer[] = [Buffer.from([0xc0 | tag])];
  let at = 0;
  for (const power of powers) {
    out.push(Buffer.from([224 + power]), body.subarray(at, at + (1 << power)));
    at += 1 << power;
  }
  const rest = body.subarray(at);
  out.push(packet(0, rest).subarray(1)); // the final length header and the rest
  return Buffer.concat(out);
}
const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 17) & 0xff));
const mpi = (bytes: number): Buffer =>
  Buffer.concat([Buffer.from([(bytes * 8) >> 8, (bytes * 8) & 0xff]), random(bytes)]);
const KEY_ID = 'b35126ac143104aa';
const PKESK_RSA = packet(1, Buffer.concat([hex(`03 ${KEY_ID} 01`), mpi(256)]));
const PKESK_ECDH = packet(1, Buffer.concat([hex(`03 ${KEY_ID} 12`), mpi(33), hex('30'), random(48)]));
const PKESK_X25519 = packet(1, Buffer.concat([hex(`03 ${KEY_ID} 19`), random(32), hex('19 09'), random(24)]));
const PKESK_ELGAMAL = packet(1, Buffer.concat([hex(`03 ${KEY_ID} 10`), mpi(128), mpi(128)]));
const PKESK_V6 = packet(1, Buffer.concat([hex('06 15 04'), random(20), hex('19'), random(32), hex('18'), random(24)]));
const SKESK_V4 = packet(3, hex('04 09 03 08 0011223344556677 60'));
const SKESK_V6 = packet(3, Buffer.concat([hex('06 26 09 02 14 04'), random(19), random(15), random(32 + 16)]));
const MARKER = packet(10, Buffer.from('PGP'));
const SEIPD_V1 = packet(18, Buffer.concat([hex('01'), random(120)]));
const SEIPD_V2 = packet(18, Buffer.concat([hex('02 09 02 06'), random(32), random(90)]));
const AED = packet(20, Buffer.concat([hex('01 09 02 0a'), random(15), random(90)]));
const LITERAL = packet(11, Buffer.from('b\x00\x00\x00\x00\x00SECRET plaintext'));

describe('isEncryptedMessage: real client output', () => {
  const cases: [string, () => Promise<Buffer> | Buffer][] = [
    ['gpg --encrypt (cv25519 ECDH PKESK, SEIPDv1)', () => fromB64(real.pgpEncryptedBinaryB64)],
    ['gpg --encrypt --armor, decoded', () => dataOf(real.pgpEncryptedArmor)],
    ['gpg --symmetric (SKESK v4)', () => dataOf(real.pgpSymmetricArmor)],
    ['gpg --encrypt --sign (the signature is inside)', () => dataOf(real.pgpEncryptedSignedArmor)],
  ];
  for (const [name, make] of cases) test(name, async () => assert.equal(isEncryptedMessage(await make()), true));

  let key: openpgp.Key;
  before(async () => {
    key = (await openpgp.generateKey({ userIDs: [{ email: 'a@example.org' }], format: 'object' })).publicKey;
  });
  const encrypt = async (options: Partial<openpgp.EncryptOptions>, text: unknown = 'hello'): Promise<Buffer> => {
    const message = await openpgp.createMessage({ text: text as string });
    type BinaryOptions = openpgp.EncryptOptions & { format: 'binary' };
    const out = await openpgp.encrypt({ message, format: 'binary', ...options } as BinaryOptions);
    if (out instanceof Uint8Array) return Buffer.from(out);
    const chunks: Uint8Array[] = [];
    for await (const chunk of out as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  test('OpenPGP.js, public key, SEIPDv1', async () =>
    assert.equal(isEncryptedMessage(await encrypt({ encryptionKeys: key })), true));
  test('OpenPGP.js, password with AEAD (SKESK v6 + SEIPDv2)', async () => {
    const data = await encrypt({ passwords: ['pw'], config: { aeadProtect: true } });
    assert.equal(data[0], 0xc3);
    assert.equal(data[2], 6, 'SKESK v6');
    assert.equal(isEncryptedMessage(data), true);
  });
  test('OpenPGP.js, streamed 600 kB (partial body lengths)', async () => {
    const big = 'x'.repeat(300_000);
    const stream = new ReadableStream<string>({
      start(c) {
        c.enqueue(big);
        c.enqueue(big);
        c.close();
      },
    });
    const data = await encrypt({ encryptionKeys: key }, stream);
    assert.equal(isEncryptedMessage(data), true);
    assert.equal(isEncryptedMessage(Buffer.concat([data, Buffer.from('\n')])), false, 'one byte after it');
    assert.equal(isEncryptedMessage(data.subarray(0, data.length - 1)), false, 'one byte short');
  });
});

describe('isEncryptedMessage: packet grammar', () => {
  const yes: [string, Buffer][] = [
    ['RSA PKESK + SEIPDv1', Buffer.concat([PKESK_RSA, SEIPD_V1])],
    ['ECDH PKESK + SEIPDv1', Buffer.concat([PKESK_ECDH, SEIPD_V1])],
    ['ElGamal PKESK + SEIPDv1', Buffer.concat([PKESK_ELGAMAL, SEIPD_V1])],
    ['X25519 v3 PKESK + SEIPDv1', Buffer.concat([PKESK_X25519, SEIPD_V1])],
    ['v6 PKESK + SEIPDv2', Buffer.concat([PKESK_V6, SEIPD_V2])],
    ['SKESK v6 + SEIPDv2', Buffer.concat([SKESK_V6, SEIPD_V2])],
    ['two PKESKs and an SKESK', Buffer.concat([PKESK_RSA, PKESK_ECDH, SKESK_V4, SEIPD_V1])],
    ['Marker first (PGP 5 style)', Buffer.concat([MARKER, PKESK_RSA, SEIPD_V1])],
    ['AEAD packet (GnuPG 2.3+, OCB)', Buffer.concat([PKESK_ECDH, AED])],
    ['old-format PKESK (gpg writes 0x85 for RSA)', Buffer.concat([hex('85 010c'), PKESK_RSA.subarray(3), SEIPD_V1])],
    [
      'SEIPD with partial lengths (512 then 256 then the rest)',
      Buffer.concat([PKESK_RSA, partialPacket(18, Buffer.concat([hex('01'), random(1000)]), [9, 8])]),
    ],
  ];
  for (const [name, bytes] of yes) test(`encrypted: ${name}`, () => assert.equal(isEncryptedMessage(bytes), true));

  const no: [string, Buffer][] = [
    ['SEIPD without a session-key packet', SEIPD_V1],
    ['session-key packet only', PKESK_RSA],
    ['Marker + SEIPD (a Marker is no session key)', Buffer.concat([MARKER, SEIPD_V1])],
    ['readable text after the SEIPD', Buffer.concat([PKESK_RSA, SEIPD_V1, Buffer.from('\nSECRET plaintext\n')])],
    ['a literal packet after the SEIPD', Buffer.concat([PKESK_RSA, SEIPD_V1, LITERAL])],
    ['two SEIPD packets', Buffer.concat([PKESK_RSA, SEIPD_V1, SEIPD_V1])],
    ['PKESK then a literal packet (no encryption at all)', Buffer.concat([PKESK_RSA, LITERAL])],
    ['a literal packet (gpg --store)', LITERAL],
    ['legacy SED (tag 9): no integrity, nothing to check', Buffer.concat([PKESK_RSA, packet(9, random(100))])],
    [
      'SEIPD length one byte longer than the data',
      Buffer.concat([PKESK_RSA, SEIPD_V1.subarray(0, SEIPD_V1.length - 1)]),
    ],
    [
      'PKESK whose RSA MPI leaves bytes over (text hidden in it)',
      Buffer.concat([packet(1, Buffer.concat([hex(`03 ${KEY_ID} 01`), mpi(256), Buffer.from('SECRET')])), SEIPD_V1]),
    ],
    [
      'PKESK with an MPI longer than the packet',
      Buffer.concat([packet(1, Buffer.concat([hex(`03 ${KEY_ID} 01 0900`), random(20)])), SEIPD_V1]),
    ],
    [
      'PKESK with an unknown algorithm',
      Buffer.concat([packet(1, Buffer.concat([hex(`03 ${KEY_ID} 63`), mpi(32)])), SEIPD_V1]),
    ],
    ['PKESK with a partial length', Buffer.concat([hex('c1 e9'), random(512), hex('00'), SEIPD_V1])],
    [
      'SKESK v4 with text as its "encrypted session key"',
      Buffer.concat([
        packet(3, Buffer.concat([hex('04 09 03 08 0011223344556677 60'), Buffer.from('SECRET: launch')])),
        SEIPD_V1,
      ]),
    ],
    ['SKESK with an unknown S2K type', Buffer.concat([packet(3, hex('04 09 07 08')), SEIPD_V1])],
    ['SEIPD with an unknown version', Buffer.concat([PKESK_RSA, packet(18, Buffer.concat([hex('07'), random(80)]))])],
    ['SEIPDv1 too short to hold a prefix and an MDC', Buffer.concat([PKESK_RSA, packet(18, hex('01 0203'))])],
    [
      'first partial chunk under 512 bytes',
      Buffer.concat([PKESK_RSA, partialPacket(18, Buffer.concat([hex('01'), random(1000)]), [8])]),
    ],
    ['partial chunks running past the data', Buffer.concat([PKESK_RSA, hex('d2 ea'), random(600)])],
    ['old-format indeterminate length', Buffer.concat([hex('87'), PKESK_RSA.subarray(3), SEIPD_V1])],
    ['Marker that is not "PGP"', Buffer.concat([packet(10, Buffer.from('TXT')), PKESK_RSA, SEIPD_V1])],
    [
      'a padding packet (tag 21) after it: free bytes',
      Buffer.concat([PKESK_RSA, SEIPD_V1, packet(21, Buffer.from('SECRET'))]),
    ],
    ['compressed data (gpg --sign)', fromB64(real.pgpSignedBinaryB64)],
    ['empty', Buffer.alloc(0)],
    ['plain ASCII', Buffer.from('Hello')],
  ];
  for (const [name, bytes] of no) test(`not encrypted: ${name}`, () => assert.equal(isEncryptedMessage(bytes), false));
});

describe('parseArmor', () => {
  const armor = real.pgpEncryptedArmor;
  const ok = (text: string): boolean => {
    const data = parseArmor(Buffer.from(text, 'latin1'));
    return data !== undefined && isEncryptedMessage(data);
  };
  test('gpg armor, with whitespace around it, LF or CRLF', () => {
    assert.equal(ok(armor), true);
    assert.equal(ok(`\r\n \t${armor}\n \n`), true);
    assert.equal(ok(armor.replace(/\n/g, '\r\n')), true);
    assert.equal(ok(armor.replace(/\n/g, ' \t\n')), true, 'trailing transport blanks');
  });
  test('gpg armor with a CRC line (gpg 2.2 writes one)', () => assert.match(armor, /\n=[A-Za-z0-9+/]{4}\n-----END/));
  const withHeaders = (headers: string): string => armor.replace('-----\n\n', `-----\n${headers}\n\n`);
  const withCrc = (crc: string): string => armor.replace(/\n=[A-Za-z0-9+/]{4}\n/, `\n${crc}\n`);
  const no: [string, string][] = [
    ['text after the END line', `${armor}SECRET plaintext\n`],
    ['text before the BEGIN line', `SECRET plaintext\n${armor}`],
    ['a Comment: armor header', armor.replace('-----\n\n', '-----\nComment: SECRET plaintext\n\n')],
    ['a Version: header with text after the product', withHeaders('Version: GnuPG v1 SECRET')],
    ['a Comment: header with another URL', withHeaders('Comment: https://example.org/SECRET')],
    [
      'five known headers (no client writes so many)',
      armor.replace('-----\n\n', `-----\n${'Version: ProtonMail\n'.repeat(5)}\n`),
    ],
    ['an arbitrary Key: value armor header', armor.replace('-----\n\n', '-----\nX-Note: meet at noon\n\n')],
    ['a wrong CRC (the 3 bytes could carry anything)', withCrc('=AAAA')],
    ['a CRC line that is not 4 characters', withCrc('=SECRET')],
    ['no blank line after BEGIN', armor.replace('-----\n\n', '-----\n')],
    ['dash-escaped text inside', armor.replace('\n=', '\n- SECRET plaintext\n=')],
    ['a text line among the base64 lines', armor.replace(/\n([A-Za-z0-9+/]{64})\n/, '\n$1\nSECRET plaintext here\n')],
    [
      'padding in the middle, then more base64 (decodes to text)',
      armor.replace(/\n=/, `\nAA==\n${Buffer.from(' SECRET plaintext').toString('base64')}\n=`),
    ],
    ['a second armor after the first', `${armor}${armor}`],
    ['BEGIN PGP MESSAGE, PART 1/2', armor.replace('BEGIN PGP MESSAGE-----', 'BEGIN PGP MESSAGE, PART 1/2-----')],
    ['no END line', armor.replace('-----END PGP MESSAGE-----\n', '')],
    ['a cleartext signature', real.pgpClearsigned],
  ];
  for (const [name, text] of no) test(`refused: ${name}`, () => assert.equal(ok(text), false));
  test('a PGP MESSAGE holding a literal packet (gpg --store) parses but is not encrypted', () => {
    const data = parseArmor(Buffer.from(real.pgpStoredArmor, 'latin1'));
    assert.ok(data !== undefined);
    assert.equal(isEncryptedMessage(data), false);
  });
  const knownHeaders = [
    'Version: GnuPG v1',
    'Version: GnuPG v1.4.12 (GNU/Linux)',
    'Version: GnuPG v2',
    'Version: ProtonMail',
    'Comment: https://protonmail.com',
    'Version: GopenPGP 2.7.4',
    'Comment: https://gopenpgp.org',
    'Version: OpenPGP.js v4.10.10',
    'Comment: https://openpgpjs.org',
    'Version: Mailvelope v4.4.1',
    'Comment: https://mailvelope.com',
    'Comment: GPGTools - https://gpgtools.org',
    'Comment: Using GnuPG with Thunderbird - https://www.enigmail.net/',
    'Charset: UTF-8',
  ];
  for (const header of knownHeaders) {
    test(`a client's fixed armor header passes: ${header}`, () => assert.equal(ok(withHeaders(header)), true));
  }
  test('two known headers, as ProtonMail writes them', () =>
    assert.equal(ok(withHeaders('Version: ProtonMail\nComment: https://protonmail.com')), true));
  test('a PUBLIC KEY BLOCK is not a message', () =>
    assert.equal(parseArmor(Buffer.from(real.pgpPublicKeyArmor)), undefined));
});

describe('isEncryptedOpenPgp', () => {
  const binary = fromB64(real.pgpEncryptedBinaryB64);
  test('binary only where allowed; armor either way', () => {
    assert.equal(isEncryptedOpenPgp(binary, true), true);
    assert.equal(isEncryptedOpenPgp(binary, false), false);
    assert.equal(isEncryptedOpenPgp(Buffer.from(real.pgpEncryptedArmor), false), true);
  });
  test('an armor followed by text is refused, binary or not', () => {
    assert.equal(isEncryptedOpenPgp(Buffer.from(`${real.pgpEncryptedArmor}\nSECRET plaintext\n`), true), false);
    assert.equal(isEncryptedOpenPgp(Buffer.concat([binary, Buffer.from('SECRET')]), true), false);
  });
});
