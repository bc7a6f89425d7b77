import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { armorIsEncrypted, isEncryptedOpenPgp, startsWithEncryptedPacket } from '../../../src/message/openpgp-data.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const armor = (bytes: Buffer, headers = ''): Buffer =>
  Buffer.from(`-----BEGIN PGP MESSAGE-----\n${headers}\n${bytes.toString('base64')}\n-----END PGP MESSAGE-----\n`, 'latin1');

// v3 PKESK body: version 3, 8-byte key id, algorithm, then (truncated) key material.
const PKESK_BODY = '03 b35126ac143104aa 12 0107';
const SKESK_BODY = '04 09 03 02 97 63'; // v4, AES-256, iterated+salted S2K, …

describe('startsWithEncryptedPacket', () => {
  const yes: [string, string][] = [
    ['old format PKESK, 1-byte length (gpg)', `84 5e ${PKESK_BODY}`],
    ['old format PKESK, 2-byte length (gpg RSA)', `85 01 0c ${PKESK_BODY}`],
    ['old format PKESK, 4-byte length', `86 0000005e ${PKESK_BODY}`],
    ['new format PKESK, 1-byte length (OpenPGP.js)', `c1 5e ${PKESK_BODY}`],
    ['new format PKESK, 2-byte length', `c1 c0 4c ${PKESK_BODY}`],
    ['new format PKESK, 5-byte length', `c1 ff 0000005e ${PKESK_BODY}`],
    ['v6 PKESK (RFC 9580)', 'c1 40 06 21 06'],
    ['old format SKESK (gpg --symmetric)', `8c 0d ${SKESK_BODY}`],
    ['new format SKESK', `c3 0d ${SKESK_BODY}`],
    ['v6 SKESK', 'c3 20 06 1e 09 02 03'],
    ['old format Marker', 'a8 03 50 47 50'],
    ['new format Marker', 'ca 03 50 47 50'],
  ];
  for (const [name, bytes] of yes) test(`encrypted: ${name}`, () => assert.equal(startsWithEncryptedPacket(hex(bytes)), true));
  const no: [string, string][] = [
    ['compressed data (gpg --sign)', 'a3 01 9b c0 cb cc'],
    ['one-pass signature', '90 0d 03 00 08 11'],
    ['new format one-pass signature', 'c4 0d 03 00 08 11'],
    ['literal data', 'cb 0c 62 00 00 00 00 00 68 69'],
    ['signature', '88 75 04 00 16 0a'],
    ['SEIPD without session key packet', 'd2 c0 4c 01 02 03'],
    ['plain ASCII', '48 65 6c 6c 6f'],
    ['UTF-8 "Über" (0xC3 looks like a new-format SKESK tag)', 'c3 9c 62 65 72 20 64 65 6e'],
    ['latin1 low quote 0x84 then text', '84 20 48 61 6c 6c 6f 20 57 65 6c 74'],
    ['PKESK with partial length', `c1 e0 ${PKESK_BODY}`],
    ['PKESK with indeterminate length', `87 ${PKESK_BODY}`],
    ['PKESK with unknown version', '84 5e 07 b35126ac143104aa 12'],
    ['PKESK with unknown algorithm', '84 5e 03 b35126ac143104aa 63'],
    ['SKESK with bad S2K type', '8c 0d 04 09 07 02'],
    ['Marker not "PGP"', 'a8 03 41 42 43'],
    ['empty', ''],
    ['truncated header', 'c1'],
  ];
  for (const [name, bytes] of no) test(`not encrypted: ${name}`, () => assert.equal(startsWithEncryptedPacket(hex(bytes)), false));
});

describe('armorIsEncrypted / isEncryptedOpenPgp', () => {
  const pkesk = hex(`84 5e ${PKESK_BODY} 4086 5107 2df6 622b`);
  test('PKESK armor', () => assert.equal(armorIsEncrypted(armor(pkesk)), true));
  test('armor headers before the data', () =>
    assert.equal(armorIsEncrypted(armor(pkesk, 'Version: GnuPG v2\nComment: x: y\n')), true));
  test('leading whitespace and CRLF', () =>
    assert.equal(armorIsEncrypted(Buffer.from(`\r\n \t${armor(pkesk).toString('latin1').replace(/\n/g, '\r\n')}`)), true));
  test('signed-only armor', () => assert.equal(armorIsEncrypted(armor(hex('a3 01 9b c0 cb cc c0 21'))), false));
  test('no armor at all', () => assert.equal(armorIsEncrypted(pkesk), false));
  test('armor with no data line', () =>
    assert.equal(armorIsEncrypted(Buffer.from('-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----\n')), false));
  test('binary only where allowed', () => {
    assert.equal(isEncryptedOpenPgp(pkesk, true), true);
    assert.equal(isEncryptedOpenPgp(pkesk, false), false);
    assert.equal(isEncryptedOpenPgp(armor(pkesk), false), true);
  });
});
