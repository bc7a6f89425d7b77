import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { headerValue } from '../../src/message/header-fields.js';
import { splitMessage } from '../../src/message/split-message.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const field = (raw: string) => {
  const first = splitMessage(latin1(`${raw}\n\n`)).fields[0];
  assert.ok(first);
  return first;
};

describe('headerValue', () => {
  const cases: [string, string][] = [
    ['Subject: hello', 'hello'],
    ['Subject:hello', 'hello'],
    ['Subject:   spaced  \t', 'spaced'],
    ['Subject: a\n b\n\tc', 'a b\tc'],
    ['Subject: a\r\n b', 'a b'],
    ['Subject:', ''],
    ['Subject : obsolete', 'obsolete'],
    ['X-Colons: a: b: c', 'a: b: c'],
    ['Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=', '=?UTF-8?Q?Gr=C3=BC=C3=9Fe?='],
    ['X-8bit: caf\xe9 \x00', 'caf\xe9 \x00'],
    ['X-Nbsp: \xa0kept\xa0', '\xa0kept\xa0'],
  ];
  for (const [raw, expected] of cases) {
    test(JSON.stringify(raw), () => assert.equal(headerValue(field(raw)), expected));
  }
});

describe('headerValue: long whitespace runs are linear, not quadratic', () => {
  // A backtracking `[ \t]+$` took 20 s on 40,000 spaces; these must simply finish (the runner's timeout catches a
  // hang).
  test('200,000 spaces inside a value', { timeout: 120_000 }, () => {
    const spaces = ' '.repeat(200_000);
    assert.equal(headerValue(field(`Content-Type: text/plain;${spaces}x`)), `text/plain;${spaces}x`);
  });
  test('200,000 spaces only', { timeout: 120_000 }, () => {
    assert.equal(headerValue(field(`X-Blank:${' '.repeat(200_000)}`)), '');
  });
  test('20,000 whitespace-only continuation lines, then a value', { timeout: 120_000 }, () => {
    assert.equal(headerValue(field(`Subject: a${'\n '.repeat(20_000)}\n b`)), `a${' '.repeat(20_001)}b`);
  });
});
