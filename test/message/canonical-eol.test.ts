import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeCrlf, countBareLf, withEol, writeCanonicalCrlf } from '../../src/message/canonical-eol.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('canonicalizeCrlf', () => {
  const cases: [string, string, string][] = [
    ['empty', '', ''],
    ['no line ending', 'abc', 'abc'],
    ['bare LF', 'a\nb\n', 'a\r\nb\r\n'],
    ['already CRLF', 'a\r\nb\r\n', 'a\r\nb\r\n'],
    ['mixed', 'a\r\nb\nc\r\n\n', 'a\r\nb\r\nc\r\n\r\n'],
    ['leading LF', '\nx', '\r\nx'],
    ['lone CR untouched', 'a\rb\r', 'a\rb\r'],
    ['CR CR LF keeps the first CR', 'a\r\r\n', 'a\r\r\n'],
    ['LF LF', '\n\n', '\r\n\r\n'],
    ['NUL and 8-bit kept', '\x00\xff\n\xa0', '\x00\xff\r\n\xa0'],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      assert.equal(canonicalizeCrlf(latin1(input)).toString('latin1'), expected);
      assert.equal(countBareLf(latin1(input)), expected.length - input.length);
    });
  }

  test('an already canonical buffer is returned as is (no copy)', () => {
    const buf = latin1('a\r\nb');
    assert.equal(canonicalizeCrlf(buf), buf);
  });

  test('writeCanonicalCrlf writes at an offset and returns the end', () => {
    const target = Buffer.alloc(12, 0x2e);
    const end = writeCanonicalCrlf(latin1('a\nb\n'), target, 2);
    assert.equal(end, 8);
    assert.equal(target.toString('latin1'), '..a\r\nb\r\n....');
  });

  test('works on a subarray view (offsets respected)', () => {
    const view = latin1('xx\nab\ncd').subarray(3);
    assert.equal(countBareLf(view), 1);
    assert.equal(canonicalizeCrlf(view).toString('latin1'), 'ab\r\ncd');
  });

  test('a 20 MB body is converted exactly', () => {
    const line = Buffer.from(`${'y'.repeat(69)}\n`, 'latin1');
    const big = Buffer.concat(Array.from({ length: 300_000 }, () => line));
    const out = canonicalizeCrlf(big);
    assert.equal(out.length, big.length + 300_000);
    assert.equal(out.subarray(0, 72).toString('latin1'), `${'y'.repeat(69)}\r\ny`);
    assert.equal(out.subarray(-3).toString('latin1'), 'y\r\n');
  });
});

describe('withEol', () => {
  const cases: [string, '\n' | '\r\n', string][] = [
    ['A: 1\r\n 2\n 3', '\n', 'A: 1\n 2\n 3'],
    ['A: 1\r\n 2\n 3', '\r\n', 'A: 1\r\n 2\r\n 3'],
    ['A: \xe9\r', '\n', 'A: \xe9\r'],
  ];
  for (const [input, eol, expected] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(eol)}`, () => {
      assert.equal(withEol(latin1(input), eol).toString('latin1'), expected);
    });
  }
});
