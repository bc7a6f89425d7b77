import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstFieldValue, isSpamField, removeFields, scanHeader } from '../../src/filter/header-scan.js';

const lf = (s: string): Buffer => Buffer.from(s, 'latin1');
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

describe('removeFields / isSpamField', () => {
  const message = 'Received: x\nX-Spam-Status: No, score=-100\n\ttests=ALL_TRUSTED\nFrom: a@x\nx-spam-flag: NO\nSubject: hi\n\nX-Spam-Flag: YES in the body stays\n';
  for (const [name, make] of [['LF', lf], ['CRLF', crlf]] as const) {
    it(`removes every X-Spam-* field with its continuation lines (${name}), body untouched`, () => {
      const out = removeFields(make(message), isSpamField);
      assert.deepEqual(out, make('Received: x\nFrom: a@x\nSubject: hi\n\nX-Spam-Flag: YES in the body stays\n'));
    });
  }

  it('returns the very same buffer when nothing matches', () => {
    const raw = lf('From: a@x\n\nbody\n');
    assert.equal(removeFields(raw, isSpamField), raw);
  });

  it('stops at a line that is not a header (no separator): later X-Spam text is body', () => {
    const raw = lf('From: a@x\nthis is body text\nX-Spam-Flag: YES\n');
    assert.equal(removeFields(raw, isSpamField), raw);
  });

  it('keeps 8-bit and NUL bytes exactly', () => {
    const raw = Buffer.concat([lf('X-Spam-Level: ***\nSubject: '), Buffer.from([0xe9, 0x00, 0xff]), lf('\n\n'), Buffer.from([0, 1, 0xfe])]);
    const out = removeFields(raw, isSpamField);
    assert.deepEqual(out, Buffer.concat([lf('Subject: '), Buffer.from([0xe9, 0x00, 0xff]), lf('\n\n'), Buffer.from([0, 1, 0xfe])]));
  });

  it('handles header-only input without a final newline, and empty input', () => {
    assert.deepEqual(removeFields(lf('From: a@x\nX-Spam-Flag: YES'), isSpamField), lf('From: a@x\n'));
    assert.deepEqual(removeFields(Buffer.alloc(0), isSpamField), Buffer.alloc(0));
    assert.deepEqual(scanHeader(Buffer.alloc(0)), []);
  });

  it('firstFieldValue unfolds and trims', () => {
    assert.equal(firstFieldValue(lf('X-Spam-Status: Yes,\n score=7.1\n\nb'), 'x-spam-status'), 'Yes, score=7.1');
    assert.equal(firstFieldValue(lf('From: a\n\nX-Spam-Status: Yes\n'), 'x-spam-status'), null);
  });
});
