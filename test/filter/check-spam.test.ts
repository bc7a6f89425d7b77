import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpretSpamc, spamcTimeoutSeconds } from '../../src/filter/check-spam.js';
import type { ChildResult } from '../../src/filter/ports.js';
import { spamcArgs } from '../../src/adapters/spamc.js';

const input = Buffer.from('From: a@x\nSubject: s\n\nbody\n');
const result = (over: Partial<ChildResult>): ChildResult => ({
  exitCode: 0,
  signal: null,
  stdout: Buffer.alloc(0),
  stderrLine: '',
  failure: null,
  ...over,
});

describe('interpretSpamc', () => {
  it('scanned ham: spamd headers present, verdict no, score read', () => {
    const stdout = Buffer.concat([
      Buffer.from('X-Spam-Checker-Version: SpamAssassin 4.0.1\nX-Spam-Status: No, score=-0.9 required=5.0\n'),
      input,
    ]);
    const check = interpretSpamc(input, result({ stdout }));
    assert.deepEqual(check.summary, { kind: 'scanned', spam: false, score: '-0.9' });
    assert.equal(check.raw, stdout);
    assert.equal(check.failure, null);
  });

  it('scanned spam: X-Spam-Flag YES', () => {
    const stdout = Buffer.concat([Buffer.from('X-Spam-Flag: YES\nX-Spam-Status: Yes, score=1000.0\n'), input]);
    assert.deepEqual(interpretSpamc(input, result({ stdout })).summary, {
      kind: 'scanned',
      spam: true,
      score: '1000.0',
    });
  });

  it('over spamc -s: exit 0 with the input unchanged → unscanned too-big, not a failure', () => {
    const check = interpretSpamc(input, result({ stdout: Buffer.from(input) }));
    assert.deepEqual(check.summary, { kind: 'unscanned', reason: 'too-big' });
    assert.equal(check.failure, null);
  });

  for (const [name, over, why] of [
    ['spamd unreachable (-x: 69)', { exitCode: 69 }, 'spamc exit 69'],
    ['socket missing (-x: 70)', { exitCode: 70 }, 'spamc exit 70'],
    ['spamd timeout (74)', { exitCode: 74 }, 'spamc exit 74'],
    ['killed', { exitCode: null, signal: 'SIGSEGV' }, 'spamc killed by SIGSEGV'],
    ['not installed', { exitCode: null, failure: 'spawn' }, 'spamc could not be started'],
    ['own timeout', { exitCode: null, failure: 'timeout' }, 'spamc timed out'],
    ['exit 0 with unrelated output', { stdout: Buffer.from('hello\n') }, 'spamc output carries no spamd headers'],
    // Issue 11 item 8: spamd's headers are there, but the output may be cut short: never used.
    [
      'exit 0, output held open by a leftover process',
      { stdout: Buffer.from('X-Spam-Status: No, score=0.1\nFrom: a@x\n'), outputEnded: false },
      'spamc output still held open after it exited',
    ],
    [
      'exit 0 without reading the whole message',
      { stdout: Buffer.from('X-Spam-Status: No, score=0.1\nFrom: a@x\n'), failure: 'io' },
      'spamc did not read the whole message',
    ],
  ] as const) {
    it(`${name} → unscanned, failure "${why}", original kept`, () => {
      const check = interpretSpamc(input, result(over as Partial<ChildResult>));
      assert.deepEqual(check.summary, { kind: 'unscanned', reason: 'unavailable' });
      assert.equal(check.failure, why);
      assert.equal(check.raw, input);
    });
  }

  it('spamc -t is half the time left, at least 1 s', () => {
    assert.equal(spamcTimeoutSeconds(120_000), 60);
    assert.equal(spamcTimeoutSeconds(500), 1);
    assert.equal(spamcTimeoutSeconds(-5), 1);
  });

  it('spamc argv: operator args first, then -x and -t so ours win', () => {
    assert.deepEqual(spamcArgs(['-d', '127.0.0.1', '-t', '999'], 30), [
      '-d',
      '127.0.0.1',
      '-t',
      '999',
      '-x',
      '-t',
      '30',
    ]);
  });
});
