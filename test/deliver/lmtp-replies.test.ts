// Pure: Dovecot's reply lines parsed, and one exit verdict for all recipients of a run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReply, replyText, verdictOf } from '../../src/deliver/lmtp-replies.js';
import type { LmtpReply } from '../../src/deliver/ports.js';

const reply = (code: number, enhanced: string | null = null, recipient = 'r@x'): LmtpReply => ({
  recipient,
  code,
  enhanced,
  text: 't',
});

describe('LMTP replies', () => {
  it("parses Dovecot's lines: code, enhanced code, text", () => {
    assert.deepEqual(parseReply('b@x', "550 5.1.1 <b@x> User doesn't exist: b@x"), {
      recipient: 'b@x',
      code: 550,
      enhanced: '5.1.1',
      text: "<b@x> User doesn't exist: b@x",
    });
    assert.deepEqual(parseReply('b@x', '452 4.2.2 <b@x> Mailbox is full'), {
      recipient: 'b@x',
      code: 452,
      enhanced: '4.2.2',
      text: '<b@x> Mailbox is full',
    });
    assert.deepEqual(parseReply('b@x', '554 Transaction failed'), {
      recipient: 'b@x',
      code: 554,
      enhanced: null,
      text: 'Transaction failed',
    });
    assert.deepEqual(parseReply('b@x', '250-2.0.0 first\n250 2.0.0 second'), {
      recipient: 'b@x',
      code: 250,
      enhanced: '2.0.0',
      text: 'first second',
    });
  });

  it('distrusts an enhanced code of another class, and garbage; sanitises the text to one short printable line', () => {
    assert.equal(parseReply('b@x', '550 4.2.2 odd').enhanced, null);
    assert.equal(parseReply('b@x', 'garbage').code, 0);
    const long = parseReply('b@x', `550 5.1.1 ${'\u00e9\t\x1b'.repeat(200)}`);
    assert.match(long.text, /^[\x20-\x7e]*$/);
    assert.ok(long.text.length <= 200);
  });

  it('delivered only when all are 2xx; any 4xx or unknown defers, even beside a 5xx; else a 5xx rejects with its code', () => {
    assert.deepEqual(verdictOf([reply(250), reply(250)]), { kind: 'delivered' });
    assert.equal(verdictOf([reply(250), reply(452, '4.2.2')]).kind, 'deferred');
    assert.equal(verdictOf([reply(550, '5.1.1'), reply(451)]).kind, 'deferred', 'a 4xx anywhere: the whole run waits');
    assert.equal(verdictOf([reply(250), reply(0)]).kind, 'deferred', 'no answer is never success');
    assert.equal(verdictOf([reply(250), reply(354)]).kind, 'deferred');
    assert.deepEqual(verdictOf([reply(250), reply(552, '5.2.2', 'q@x')]), {
      kind: 'rejected',
      reply: reply(552, '5.2.2', 'q@x'),
      dsn: '5.2.2',
    });
    assert.equal(
      verdictOf([reply(554)]).kind === 'rejected' && (verdictOf([reply(554)]) as { dsn: string }).dsn,
      '5.0.0',
    );
  });

  it("the text names only that recipient and Dovecot's own answer", () => {
    assert.equal(
      replyText({ recipient: 'b@x', code: 550, enhanced: '5.1.1', text: 'User unknown' }),
      '<b@x>: LMTP 550 5.1.1 User unknown',
    );
  });
});
