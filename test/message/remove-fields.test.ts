import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// Field removal and value reading through SplitMessage (the one header parser): byte-exact, same header end.
import { isSpamField } from '../../src/filter/check-spam.js';
import { firstFieldValue } from '../../src/message/header-fields.js';
import { joinMessage, removeFields, splitMessage } from '../../src/message/split-message.js';
import { SAMPLES } from './corpus.js';

const lf = (s: string): Buffer => Buffer.from(s, 'latin1');
const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'latin1');

describe('removeFields / isSpamField', () => {
  const message =
    'Received: x\nX-Spam-Status: No, score=-100\n\ttests=ALL_TRUSTED\nFrom: a@x\nx-spam-flag: NO\nSubject: hi\n\nX-Spam-Flag: YES in the body stays\n';
  for (const [name, make] of [
    ['LF', lf],
    ['CRLF', crlf],
  ] as const) {
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
    const raw = Buffer.concat([
      lf('X-Spam-Level: ***\nSubject: '),
      Buffer.from([0xe9, 0x00, 0xff]),
      lf('\n\n'),
      Buffer.from([0, 1, 0xfe]),
    ]);
    const out = removeFields(raw, isSpamField);
    assert.deepEqual(
      out,
      Buffer.concat([lf('Subject: '), Buffer.from([0xe9, 0x00, 0xff]), lf('\n\n'), Buffer.from([0, 1, 0xfe])]),
    );
  });

  it('handles header-only input without a final newline, and empty input', () => {
    assert.deepEqual(removeFields(lf('From: a@x\nX-Spam-Flag: YES'), isSpamField), lf('From: a@x\n'));
    assert.deepEqual(removeFields(Buffer.alloc(0), isSpamField), Buffer.alloc(0));
    assert.deepEqual(splitMessage(Buffer.alloc(0)).fields, []);
  });

  it('firstFieldValue unfolds and trims', () => {
    const value = (text: string): string | null => firstFieldValue(splitMessage(lf(text)), 'x-spam-status');
    assert.equal(value('X-Spam-Status: Yes,\n score=7.1\n\nb'), 'Yes, score=7.1');
    assert.equal(value('From: a\n\nX-Spam-Status: Yes\n'), null);
  });
});

describe('firstFieldValue', () => {
  const msg = splitMessage(lf('Received: 1\nTO: a\nreceived: 2\nSubject: s\nRECEIVED: 3\n\n'));
  const cases: [string, string | null][] = [
    ['received', '1'],
    ['Received', '1'],
    ['to', 'a'],
    ['cc', null],
  ];
  for (const [name, expected] of cases) it(name, () => assert.equal(firstFieldValue(msg, name), expected));
});

describe('joinMessage(splitMessage(raw)) is raw', () => {
  const tricky = [
    '',
    'no header at all',
    'From: a\n',
    'From: a',
    'From: a\r\n\r\nbody',
    'A: 1\n b\r\n\tc\nB: 2\n\nbody\n',
    'From sender Mon Jan  1\nFrom: a\n\nb',
    'A: 1\n x\ry\nB: 2\n\n',
    'A: 1\rB: 2\n\n',
    'A: 1\nbody text\nB: 2\n',
    'A : obsolete\n\n',
    ' leading space\n\n',
    'A: 1\n\n\n\n',
  ];
  for (const text of tricky) {
    it(JSON.stringify(text), () => assert.deepEqual(joinMessage(splitMessage(lf(text))), lf(text)));
  }
  it('every sample of the message corpus, LF and CRLF', () => {
    for (const { name, raw } of SAMPLES) {
      assert.deepEqual(joinMessage(splitMessage(raw)), raw, name);
      const crlfRaw = Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
      assert.deepEqual(joinMessage(splitMessage(crlfRaw)), crlfRaw, `${name} (CRLF)`);
    }
  });
});
