import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQuotedPrintable, decodeTransfer } from '../../../src/message/transfer-decoding.js';

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
