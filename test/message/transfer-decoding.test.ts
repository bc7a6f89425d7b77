import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeBase64Strict,
  decodeQuotedPrintable,
  decodeQuotedPrintableStrict,
  decodeTransfer,
  decodeTransferStrict,
} from '../../src/message/transfer-decoding.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('decodeQuotedPrintable', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['caf=E9', 'caf\xe9'],
    ['lower =e9 hex', 'lower \xe9 hex'],
    ['soft=\r\nbreak', 'softbreak'],
    ['soft=\nbreak', 'softbreak'],
    ['soft= \t\r\nbreak', 'softbreak'],
    ['=3D=3D', '=='],
    ['bad =ZZ kept', 'bad =ZZ kept'],
    ['trailing =', 'trailing '],
    ['=2D=2D=2D=2D=2DBEGIN', '-----BEGIN'],
    ['a=\rb', 'a=\rb'],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.equal(decodeQuotedPrintable(latin1(input)).toString('latin1'), expected));
  }
});

describe('decodeTransfer', () => {
  const text = '-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----\n';
  const base64 = Buffer.from(text).toString('base64').replace(/.{20}/g, '$&\r\n');
  const cases: [string, string, number, string][] = [
    ['identity', '7bit', Infinity, text],
    ['base64 with line breaks', 'base64', Infinity, text],
    ['base64 prefix only', 'base64', 40, text.slice(0, 27)],
    ['limit cuts raw bytes', '8bit', 5, text.slice(0, 5)],
  ];
  for (const [name, encoding, limit, expected] of cases) {
    test(name, () => {
      const body = latin1(encoding === 'base64' ? base64 : text);
      const decoded = decodeTransfer(body, encoding, limit).toString('latin1');
      assert.ok(decoded.startsWith(expected), decoded);
      if (limit === Infinity || encoding !== 'base64') assert.equal(decoded, expected);
    });
  }
});

describe('strict decoding (the bytes checked are all the bytes any reader sees)', () => {
  const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64');
  const ok: [string, string, string][] = [
    ['base64 with CRLF line breaks', `${b64('hello world!').replace(/(.{8})/g, '$1\r\n')}`, 'hello world!'],
    ['base64 with padding at the very end', `${b64('hello')}\n\n`, 'hello'],
    ['base64 with blanks at line ends', `${b64('hello')} \t\n`, 'hello'],
  ];
  for (const [name, input, expected] of ok) {
    test(name, () => assert.equal(decodeBase64Strict(latin1(input))?.toString('latin1'), expected));
  }
  const bad: [string, string][] = [
    ['data after the padding (Node stops at the first "=")', `${b64('hi')}\n${b64(' SECRET plaintext')}`],
    ['junk characters RFC 2045 readers skip', `${b64('hello')}!*${b64('abc')}`],
    ['a cut-off group', b64('hello').slice(0, -1)],
    ['three padding characters', 'QQ==='],
    ['a dash line (an armor or boundary left in)', `${b64('abc')}\n-----END PGP MESSAGE-----`],
  ];
  for (const [name, input] of bad) {
    test(`base64 refused: ${name}`, () => assert.equal(decodeBase64Strict(latin1(input)), undefined));
  }
  test('Node alone would have hidden the text after the padding', () => {
    const input = `${b64('hi')}\n${b64(' SECRET plaintext')}`;
    assert.doesNotMatch(decodeTransfer(latin1(input), 'base64').toString('latin1'), /SECRET/);
  });

  test('quoted-printable: hex pairs and soft breaks decode; a literal "=" is refused', () => {
    assert.equal(decodeQuotedPrintableStrict(latin1('caf=E9 =\r\nsoft=3D'))?.toString('latin1'), 'caf\xe9 soft=');
    assert.equal(decodeQuotedPrintableStrict(latin1('a=ZZb')), undefined);
    assert.equal(decodeQuotedPrintableStrict(latin1('a=\rb')), undefined);
    const softBreakAtEnd = decodeQuotedPrintableStrict(latin1('-----END PGP MESSAGE-----\n=\n'));
    assert.deepEqual(softBreakAtEnd, latin1('-----END PGP MESSAGE-----\n'));
  });
  test('identity encodings pass as they are; unknown encodings are refused', () => {
    for (const encoding of ['7bit', '8bit', 'binary']) {
      assert.equal(decodeTransferStrict(latin1('x'), encoding)?.toString(), 'x');
    }
    for (const encoding of ['x-uuencode', 'uuencode', 'x-bogus', '']) {
      assert.equal(decodeTransferStrict(latin1('x'), encoding), undefined);
    }
  });
});
