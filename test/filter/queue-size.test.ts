import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateQueueFileSize } from '../../src/filter/queue-size.js';
import { sendmailArgs } from '../../src/adapters/sendmail.js';

const envelope = { sender: 's@x', recipients: ['a@x'] };

describe('estimateQueueFileSize', () => {
  it('counts each line as a record: text + type byte + length byte (CR dropped, LF replaced)', () => {
    const base = estimateQueueFileSize(Buffer.alloc(0), envelope);
    assert.equal(estimateQueueFileSize(Buffer.from('abc\n'), envelope) - base, 5);
    assert.equal(estimateQueueFileSize(Buffer.from('abc\r\n'), envelope) - base, 5);
    assert.equal(estimateQueueFileSize(Buffer.from('abc'), envelope) - base, 5);
    assert.equal(estimateQueueFileSize(Buffer.from('\n\n'), envelope) - base, 4);
  });

  it('is never below the payload size for armor-like text, and grows with recipients', () => {
    const armor = Buffer.from(`${'A'.repeat(64)}\n`.repeat(10_000));
    assert.ok(estimateQueueFileSize(armor, envelope) > armor.length);
    assert.ok(
      estimateQueueFileSize(armor, { sender: 's@x', recipients: ['a@x', 'b@x'] }) >
        estimateQueueFileSize(armor, envelope),
    );
  });

  it('splits lines longer than 2048 bytes into several records', () => {
    const base = estimateQueueFileSize(Buffer.alloc(0), envelope);
    assert.equal(estimateQueueFileSize(Buffer.from(`${'x'.repeat(5000)}\n`), envelope) - base, 5000 + 3 * 3);
  });
});

describe('sendmailArgs', () => {
  it('-G -i -f SENDER -- RECIPIENTS, always with --', () => {
    assert.deepEqual(sendmailArgs({ sender: 's@x', recipients: ['-oi@x', 'b@x'] }), [
      '-G',
      '-i',
      '-f',
      's@x',
      '--',
      '-oi@x',
      'b@x',
    ]);
  });
  it('the null sender stays its own empty argument', () => {
    assert.deepEqual(sendmailArgs({ sender: '', recipients: ['a@x'] }), ['-G', '-i', '-f', '', '--', 'a@x']);
  });
});
