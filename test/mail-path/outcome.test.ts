import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { permanent, temporary } from '../../src/errors.js';
import { dsnFor, exitCodeFor, failure, outcomeFromError, type Outcome } from '../../src/mail-path/outcome.js';
import { logLine, statusLine } from '../../src/mail-path/report-lines.js';

const delivered: Outcome = {
  kind: 'delivered',
  handOffs: 2,
  spam: { kind: 'scanned', spam: false, score: '-1.0' },
  recipients: [
    { recipient: 'a@x', action: 'encrypted', why: null, fingerprints: ['0123456789ABCDEF0123456789ABCDEF01234567'] },
    { recipient: 'b@x', action: 'as-sent', why: 'no-key', fingerprints: [] },
  ],
};

describe('outcome → exit code and status line', () => {
  it('exit codes: delivered 0, deferred 75, rejected 69', () => {
    assert.equal(exitCodeFor(delivered), 0);
    assert.equal(exitCodeFor(failure('deferred', 'db.unavailable', 'x')), 75);
    assert.equal(exitCodeFor(failure('rejected', 'key.missing', 'x')), 69);
  });

  it('every thrown value defers, a permanent PgpipeError too: only a policy decision rejects', () => {
    for (const thrown of [new Error('boom'), 'string', undefined, null, { code: 'key.missing' }]) {
      assert.deepEqual(
        [outcomeFromError(thrown).kind, outcomeFromError(thrown).reason],
        ['deferred', 'internal error'],
      );
    }
    assert.equal(outcomeFromError(temporary('db.unavailable', 'down')).kind, 'deferred');
    for (const code of ['key.missing', 'usage', 'not-found', 'internal'] as const) {
      const outcome = outcomeFromError(permanent(code, 'refused'));
      assert.deepEqual([outcome.kind, exitCodeFor(outcome), outcome.dsn[0]], ['deferred', 75, '4'], code);
    }
  });

  it('a rejection needs a policy code: any other code still builds a deferral', () => {
    for (const code of ['key.missing', 'key.unusable', 'size.exceeded'] as const) {
      assert.equal(exitCodeFor(failure('rejected', code, 'policy')), 69, code);
    }
    for (const code of ['internal', 'usage', 'db.unavailable', 'sendmail.failed'] as const) {
      // The type forbids this; untyped callers (or a cast) still cannot bounce.
      const outcome = failure('rejected' as 'deferred', code, 'not a policy');
      assert.deepEqual([outcome.kind, exitCodeFor(outcome), outcome.dsn[0]], ['deferred', 75, '4'], code);
    }
  });

  it('the DSN class always agrees with the exit code', () => {
    const codes = [
      'usage',
      'config.invalid',
      'db.unavailable',
      'key.unusable',
      'key.missing',
      'size.exceeded',
      'sendmail.failed',
      'spam.check-failed',
      'deadline.exceeded',
      'internal',
      'signal',
    ] as const;
    for (const code of codes) {
      for (const kind of ['deferred', 'rejected'] as const) {
        const outcome = failure(kind as 'deferred', code, 'reason');
        const line = statusLine(outcome, 10, true);
        const expected = exitCodeFor(outcome) === 75 ? '4' : '5';
        // pipe(8) dsn_valid(): [245].d{1,3}.d{1,3} then a space, no leading whitespace.
        assert.match(line, /^[45]\.\d{1,3}\.\d{1,3} /);
        assert.equal(line[0], expected, `${kind} ${code}: ${line}`);
      }
    }
    assert.equal(dsnFor('size.exceeded', false), '5.3.4');
    assert.equal(dsnFor('key.unusable', true), '4.7.5');
  });

  it('status line is one printable line even for hostile reasons', () => {
    const line = statusLine(failure('deferred', 'internal', 'a\nb\r\n\tc\u0000\u00e9'), 0, true);
    assert.equal(line, '4.3.0 pgpipe: a b c??');
  });

  it('success line: count, per-recipient result by position (no addresses), short fingerprints, spam, time', () => {
    const line = statusLine(delivered, 420, true);
    assert.equal(line, '2.0.0 pgpipe: 2 rcpts: encrypted 89ABCDEF01234567, as sent (no key); spam no -1.0; 0.42s');
    assert.doesNotMatch(line, /a@x|b@x/);
    assert.equal(statusLine(delivered, 420, false), '2.0.0 pgpipe: 2 rcpts');
  });

  it('operator log line: queue id, status, count, spam, time, each recipient with its outcome', () => {
    assert.equal(
      logLine(delivered, 1234, '4XkQ2t'),
      'queue_id=4XkQ2t status=sent rcpts=2 spam="no -1.0" time=1.23s to=<a@x>:"encrypted 89ABCDEF01234567" ' +
        'to=<b@x>:"as sent (no key)"',
    );
    const deferred = failure('deferred', 'db.unavailable', 'database unavailable (connect ECONNREFUSED)', {
      recipients: [{ recipient: 'a@x', action: 'not-sent', why: null, fingerprints: [] }],
      spam: null,
    });
    assert.equal(
      logLine(deferred, 50, null),
      'queue_id=- status=deferred rcpts=1 spam="not checked" time=0.05s dsn=4.3.0 code=db.unavailable ' +
        'reason="database unavailable (connect ECONNREFUSED)" to=<a@x>:"not sent"',
    );
  });
});
