// What serve answers after the final dot: per recipient for LMTP, one answer for SMTP. 250 only for a recipient whose
// every copy the next hop accepted; the next hop's own 5xx passed on; a policy's 5xx; 4xx for everything else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryRun, LmtpReply } from '../../src/deliver/ports.js';
import { failure, type Outcome, type RecipientResult } from '../../src/mail-path/outcome.js';
import { recipientReplies, transactionReply } from '../../src/serve/replies.js';

const encrypted = (recipient: string): RecipientResult => ({
  recipient,
  action: 'encrypted',
  why: null,
  fingerprints: ['0123456789ABCDEF0123456789ABCDEF01234567'],
});
const reply = (recipient: string, code: number, enhanced: string | null, text = 'x'): LmtpReply => ({
  recipient,
  code,
  enhanced,
  text,
});
const delivered = (recipients: string[]): Outcome => ({
  kind: 'delivered',
  recipients: recipients.map(encrypted),
  spam: null,
  handOffs: recipients.length,
});
const run = (outcome: Outcome, accepted: string[], replies: LmtpReply[] = []): DeliveryRun => ({
  outcome,
  accepted: new Set(accepted),
  replies,
});
const codes = (replies: { code: number; enhanced: string }[]): string[] =>
  replies.map((r) => `${r.code} ${r.enhanced}`);

describe('serve replies (LMTP: per recipient)', () => {
  it('250 with the action and key for a recipient the next hop accepted', () => {
    const [answer] = recipientReplies(run(delivered(['a@x']), ['a@x'], [reply('a@x', 250, '2.0.0')]), ['a@x']);
    assert.equal(answer?.code, 250);
    assert.match(answer?.text ?? '', /encrypted to 89ABCDEF01234567$/);
  });

  it("passes on the next hop's own 5xx and 4xx, and 250 for the others", () => {
    const outcome = failure('deferred', 'lmtp.failed', '<c@x>: LMTP 452 4.2.2 full');
    const replies = [
      reply('a@x', 250, '2.0.0'),
      reply('b@x', 550, '5.1.1', 'unknown user'),
      reply('c@x', 452, '4.2.2'),
    ];
    const answers = recipientReplies(run(outcome, ['a@x'], replies), ['a@x', 'b@x', 'c@x']);
    assert.deepEqual(codes(answers), ['250 2.0.0', '550 5.1.1', '452 4.2.2']);
    assert.match(answers[1]?.text ?? '', /next hop: unknown user/);
  });

  it("the next hop's 421 for one recipient is passed on as 451 (a 421 would end the session before the others)", () => {
    const outcome = failure('deferred', 'lmtp.failed', 'x');
    const replies = [reply('a@x', 421, '4.3.2', 'shutting down'), reply('b@x', 250, '2.0.0')];
    const answers = recipientReplies(run(outcome, ['b@x'], replies), ['a@x', 'b@x']);
    assert.deepEqual(codes(answers), ['451 4.3.2', '250 2.0.0']);
  });

  it('a 5xx without an enhanced code gets 5.0.0, never a 2xx or 4xx class mix-up', () => {
    const outcome = failure('rejected', 'lmtp.rejected', 'x');
    const [answer] = recipientReplies(run(outcome, [], [reply('a@x', 554, null)]), ['a@x']);
    assert.equal(`${answer?.code} ${answer?.enhanced}`, '554 5.0.0');
  });

  it('a policy refusal is 5xx with its own code: 550 5.7.1 for a missing key, 552 5.3.4 for size', () => {
    const key = recipientReplies(run(failure('rejected', 'key.missing', '<a@x>: no key'), []), ['a@x']);
    const size = recipientReplies(run(failure('rejected', 'size.exceeded', 'too big'), []), ['a@x']);
    assert.deepEqual([...codes(key), ...codes(size)], ['550 5.7.1', '552 5.3.4']);
  });

  it('anything else defers with the outcome code: database down, deadline, internal error', () => {
    for (const outcome of [
      failure('deferred', 'db.unavailable', 'database unavailable'),
      failure('deferred', 'deadline.exceeded', 'internal deadline exceeded'),
      failure('deferred', 'internal', 'internal error'),
    ]) {
      const [answer] = recipientReplies(run(outcome, []), ['a@x']);
      assert.equal(answer?.code, 451);
      assert.equal(answer?.enhanced, outcome.dsn);
      assert.match(answer?.enhanced ?? '', /^4\./);
    }
  });

  it('never 250 for a recipient nothing says was stored, even when the outcome says delivered', () => {
    const [answer] = recipientReplies(run(delivered(['a@x']), []), ['a@x']);
    assert.equal(`${answer?.code} ${answer?.enhanced}`, '451 4.3.0');
  });

  it('an alias recipient with one copy refused and one pending is a deferral, not a bounce', () => {
    const outcome = failure('deferred', 'lmtp.failed', 'x');
    const replies = [reply('team@x', 550, '5.1.1'), reply('team@x', 451, '4.3.0')];
    const [answer] = recipientReplies(run(outcome, [], replies), ['team@x']);
    assert.equal(answer?.code, 451);
  });
});

describe('serve replies (SMTP: one for the transaction)', () => {
  it('250 only when every recipient was accepted', () => {
    assert.equal(
      transactionReply(recipientReplies(run(delivered(['a@x', 'b@x']), ['a@x', 'b@x']), ['a@x', 'b@x'])).code,
      250,
    );
  });

  it('any deferral defers the whole transaction (a duplicate on retry, never a loss)', () => {
    const outcome = failure('deferred', 'lmtp.failed', 'x');
    const replies = [reply('a@x', 250, '2.0.0'), reply('b@x', 550, '5.1.1'), reply('c@x', 451, '4.3.0')];
    const one = transactionReply(recipientReplies(run(outcome, ['a@x'], replies), ['a@x', 'b@x', 'c@x']));
    assert.equal(`${one.code} ${one.enhanced}`, '451 4.3.0');
  });

  it('refusals without a deferral bounce with the first refusal', () => {
    const outcome = failure('rejected', 'lmtp.rejected', 'x');
    const replies = [reply('a@x', 250, '2.0.0'), reply('b@x', 550, '5.1.1')];
    const one = transactionReply(recipientReplies(run(outcome, ['a@x'], replies), ['a@x', 'b@x']));
    assert.equal(`${one.code} ${one.enhanced}`, '550 5.1.1');
  });
});
