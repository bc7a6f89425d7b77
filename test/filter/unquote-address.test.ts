import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unquoteAddress } from '../../src/filter/unquote-address.js';

describe('unquoteAddress (pipe flag q)', () => {
  for (const [input, expected] of [
    ['alice@example.org', 'alice@example.org'],
    ['"john doe"@example.org', 'john doe@example.org'],
    ['"a\\"b"@example.org', 'a"b@example.org'],
    ['"a\\\\b"@example.org', 'a\\b@example.org'],
    ['"unterminated@example.org', '"unterminated@example.org'],
    ['', ''],
  ] as const) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(unquoteAddress(input), expected));
  }
});
