// runDeliver with fake ports: the same decisions as filter (spam, keys, policies, size), Dovecot's per-recipient
// answers turned into one outcome, and nothing handed over unless every copy could be built.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { temporary } from '../../src/errors.js';
import { runDeliver } from '../../src/deliver/run-deliver.js';
import type { DeliverDeps, DeliverInput, DeliverPolicy, LmtpResult } from '../../src/deliver/ports.js';
import type { Envelope } from '../../src/filter/ports.js';
import { exitCodeFor } from '../../src/mail-path/outcome.js';
import { statusLine } from '../../src/mail-path/report-lines.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { DEFAULT_POLICY, exited, fakeDeps, ok, scanned, userKey, type FakeOptions } from '../filter/fake-ports.js';

const PLAIN =
  'From: Alice <alice@example.net>\nTo: bob@example.org\nSubject: secret plans\nX-Spam-Status: No, score=-100 forged\n\nmeet at noon\n';
const OUR_UID = 998;
const FROM_OUR_FILTER =
  `Received: by mx.example.org (Postfix, from userid ${OUR_UID})\n\tid 4XkQ2t; Tue,  1 Dec 2026 18:00:00 +0000 (UTC)\n` +
  'X-Spam-Checker-Version: SpamAssassin 4.0.1 on mx.example.org\nX-Spam-Status: No, score=-1.0 required=5.0\n' +
  'From: Alice <alice@example.net>\nSubject: secret plans\n\nmeet at noon\n';
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

type Answer = (envelope: Envelope, call: number) => LmtpResult | Promise<LmtpResult>;
const all =
  (code: number, enhanced: string | null = null, text = 'ok'): Answer =>
  (envelope) => ({
    kind: 'replied',
    replies: envelope.recipients.map((recipient) => ({ recipient, code, enhanced, text })),
  });

function deliverDeps(options: FakeOptions & { lmtp?: Answer } = {}) {
  const { deps, calls } = fakeDeps(options);
  const handed: { raw: Buffer; envelope: Envelope }[] = [];
  const answer = options.lmtp ?? all(250, '2.0.0', 'Saved');
  const full: DeliverDeps = {
    keys: deps.keys,
    spamc: deps.spamc,
    encryptor: deps.encryptor,
    now: deps.now,
    uid: OUR_UID,
    lmtp: {
      async deliver(raw, envelope) {
        handed.push({ raw, envelope });
        return answer(envelope, handed.length);
      },
    },
  };
  return { deps: full, calls, handed };
}

function input(
  raw: string | Buffer,
  recipients: string[],
  policy: Partial<DeliverPolicy> = {},
  sender = 'alice@example.net',
): DeliverInput {
  return {
    raw: typeof raw === 'string' ? Buffer.from(raw) : raw,
    envelope: { sender, recipients },
    policy: { ...DEFAULT_POLICY, deliverSpamCheck: 'unless-scanned', ...policy },
    deadlineAt: Date.now() + 60_000,
  };
}

describe('runDeliver: what each mailbox gets', () => {
  it('a keyed recipient: one LMTP transaction with a copy only their key opens; verdict outside, forged one gone', async () => {
    const bob = await userKey('bob@example.org');
    const { deps, handed, calls } = deliverDeps({ states: { 'bob@example.org': bob.state } });
    const outcome = await runDeliver(input(PLAIN, ['bob@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.equal(exitCodeFor(outcome), 0);
    assert.deepEqual(
      handed.map((h) => h.envelope),
      [{ sender: 'alice@example.net', recipients: ['bob@example.org'] }],
    );
    assert.ok(!calls.spamc[0]?.includes('forged'), 'sender-supplied X-Spam-* removed before spamc');
    const raw = handed[0]!.raw;
    const outer = parsePgpMime(raw).outerHeaders.map((f) => f.raw.toString('latin1'));
    assert.ok(outer.some((f) => f.startsWith('X-Spam-Status: No, score=0.1')));
    assert.ok(!raw.includes('secret plans') && !raw.includes('meet at noon') && !raw.includes('forged'));
    assert.match((await decryptWithGpg(raw, bob.privateArmored)).toString(), /meet at noon/);
    assert.match(
      statusLine(outcome, 10, true),
      /^2\.0\.0 pgpipe: 1 rcpt: encrypted [0-9A-F]{16}; spam no 0\.1; 0\.01s$/,
    );
  });

  it('two keyed recipients: a transaction each; keyless ones share one copy as sent; the null sender stays null', async () => {
    const [bob, carol] = await Promise.all([userKey('bob@example.org'), userKey('carol@example.org')]);
    const { deps, handed } = deliverDeps({
      states: { 'bob@example.org': bob.state, 'carol@example.org': carol.state },
    });
    const outcome = await runDeliver(
      input(PLAIN, ['bob@example.org', 'x@example.org', 'carol@example.org', 'y@example.org'], {}, ''),
      deps,
      signal(),
    );
    assert.equal(outcome.kind, 'delivered');
    assert.deepEqual(
      handed.map((h) => h.envelope),
      [
        { sender: '', recipients: ['bob@example.org'] },
        { sender: '', recipients: ['carol@example.org'] },
        { sender: '', recipients: ['x@example.org', 'y@example.org'] },
      ],
    );
    await assert.rejects(decryptWithGpg(handed[0]!.raw, carol.privateArmored));
    assert.ok(handed[2]!.raw.includes('meet at noon'));
  });

  it('already protected mail is stored unchanged for everyone; the key store is not asked', async () => {
    const raw = readFileSync(new URL('../fixtures/mail/pgp-mime-encrypted.eml', import.meta.url));
    const { deps, handed, calls } = deliverDeps({
      spamc: (r) => ok(Buffer.from(r)),
      lookup: async () => {
        throw temporary('db.unavailable', 'down');
      },
    });
    const outcome = await runDeliver(input(raw, ['a@x', 'b@x']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.equal(calls.lookups.length, 0);
    assert.deepEqual(
      handed.map((h) => [h.envelope.recipients, h.raw.equals(raw)]),
      [[['a@x', 'b@x'], true]],
    );
  });
});

describe('runDeliver: the spam check', () => {
  it("unless-scanned: our own filter's re-injection keeps its verdict and skips spamc", async () => {
    const { deps, handed, calls } = deliverDeps();
    const outcome = await runDeliver(input(FROM_OUR_FILTER, ['x@example.org']), deps, signal());
    assert.equal(calls.spamc.length, 0);
    assert.deepEqual(outcome.spam, { kind: 'scanned', spam: false, score: '-1.0' });
    assert.ok(handed[0]!.raw.equals(Buffer.from(FROM_OUR_FILTER)));
  });

  it("unless-scanned: another user's re-injection is scanned, its X-Spam-* removed first", async () => {
    const { deps, calls } = deliverDeps();
    await runDeliver(
      input(FROM_OUR_FILTER.replace(`userid ${OUR_UID}`, 'userid 1000'), ['x@example.org']),
      deps,
      signal(),
    );
    assert.equal(calls.spamc.length, 1);
    assert.ok(!calls.spamc[0]!.includes('X-Spam-'));
  });

  it('always scans; never and spam_check = no do not, and still remove forged verdicts', async () => {
    for (const [policy, scans] of [
      [{ deliverSpamCheck: 'always' }, 1],
      [{ deliverSpamCheck: 'never' }, 0],
      [{ spamCheck: false }, 0],
    ] as const) {
      const { deps, calls, handed } = deliverDeps();
      const outcome = await runDeliver(
        input(
          policy.spamCheck === false || policy.deliverSpamCheck === 'never' ? PLAIN : FROM_OUR_FILTER,
          ['x@e'],
          policy,
        ),
        deps,
        signal(),
      );
      assert.equal(calls.spamc.length, scans, JSON.stringify(policy));
      if (scans === 0) {
        assert.deepEqual(outcome.spam, { kind: 'unscanned', reason: 'disabled' });
        assert.ok(!handed[0]!.raw.includes('forged'));
      }
    }
  });

  it('spamd down: delivered unscanned by default, deferred with spamd_down = defer (nothing handed over)', async () => {
    const down = deliverDeps({ spamc: () => exited(69) });
    assert.equal((await runDeliver(input(PLAIN, ['x@e']), down.deps, signal())).kind, 'delivered');
    const strict = deliverDeps({ spamc: () => exited(69) });
    const outcome = await runDeliver(input(PLAIN, ['x@e'], { spamdDown: 'defer' }), strict.deps, signal());
    assert.equal(exitCodeFor(outcome), 75);
    assert.equal(strict.handed.length, 0);
  });

  it('GTUBE: the verdict stays visible outside the encryption', async () => {
    const bob = await userKey('bob@example.org');
    const { deps, handed } = deliverDeps({
      states: { 'bob@example.org': bob.state },
      spamc: (raw) => scanned(raw, true),
    });
    const outcome = await runDeliver(input(PLAIN, ['bob@example.org']), deps, signal());
    assert.deepEqual(outcome.spam, { kind: 'scanned', spam: true, score: '999.0' });
    assert.ok(
      parsePgpMime(handed[0]!.raw).outerHeaders.some((f) => f.raw.toString('latin1').startsWith('X-Spam-Flag: YES')),
    );
  });
});

describe("runDeliver: refusals and Dovecot's answers", () => {
  it("the filter's policies: missing key reject 69 5.7.1, unusable key defer 75 4.7.5, database down 75: nothing handed over", async () => {
    const cases = [
      [{ missingKey: 'reject' }, {}, 69, '5.7.1'],
      [{}, { states: { 'x@e': { kind: 'unusable', reason: 'expired on 2025-01-01' } } }, 75, '4.7.5'],
      [
        {},
        {
          lookup: async () => {
            throw temporary('db.unavailable', 'database unavailable (connect)');
          },
        },
        75,
        '4.3.0',
      ],
    ] as const;
    for (const [policy, fakes, code, dsn] of cases) {
      const { deps, handed } = deliverDeps(fakes as FakeOptions);
      const outcome = await runDeliver(input(PLAIN, ['x@e'], policy as Partial<DeliverPolicy>), deps, signal());
      assert.equal(exitCodeFor(outcome), code);
      assert.equal(outcome.kind !== 'delivered' && outcome.dsn, dsn);
      assert.equal(handed.length, 0);
    }
  });

  it("Dovecot 550 5.1.1: 69 with Dovecot's code and text in the line (sanitised), naming only that recipient", async () => {
    const { deps } = deliverDeps({ lmtp: all(550, '5.1.1', "<nobody@e> User doesn't exist: nobody@e\u0007") });
    const outcome = await runDeliver(input(PLAIN, ['nobody@e']), deps, signal());
    assert.equal(exitCodeFor(outcome), 69);
    assert.equal(
      statusLine(outcome, 1, true),
      "5.1.1 pgpipe: <nobody@e>: LMTP 550 5.1.1 <nobody@e> User doesn't exist: nobody@e?",
    );
    assert.ok(!statusLine(outcome, 1, true).includes('secret'));
  });

  it('Dovecot 452 4.2.2: 75 with its code; a 5xx without an enhanced code bounces as 5.0.0', async () => {
    const full = await runDeliver(
      input(PLAIN, ['b@e']),
      deliverDeps({ lmtp: all(452, '4.2.2', 'Mailbox is full') }).deps,
      signal(),
    );
    assert.equal(exitCodeFor(full), 75);
    assert.match(statusLine(full, 1, true), /^4\.2\.2 pgpipe: <b@e>: LMTP 452 4\.2\.2 Mailbox is full$/);
    const bare = await runDeliver(
      input(PLAIN, ['b@e']),
      deliverDeps({ lmtp: all(554, null, 'Transaction failed') }).deps,
      signal(),
    );
    assert.match(statusLine(bare, 1, true), /^5\.0\.0 pgpipe: <b@e>: LMTP 554 Transaction failed$/);
  });

  it('Dovecot unreachable, or the connection broke: 75 4.3.0 with the reason', async () => {
    const { deps } = deliverDeps({
      lmtp: () => ({ kind: 'failed', reason: 'cannot connect to LMTP /run/dovecot/lmtp-pgpipe (ENOENT)' }),
    });
    const outcome = await runDeliver(input(PLAIN, ['b@e']), deps, signal());
    assert.equal(
      statusLine(outcome, 1, true),
      '4.3.0 pgpipe: cannot connect to LMTP /run/dovecot/lmtp-pgpipe (ENOENT)',
    );
  });

  it('several copies: after a 4xx the rest wait (75); after a 5xx the rest are still tried, then 69', async () => {
    const [bob, carol] = await Promise.all([userKey('bob@example.org'), userKey('carol@example.org')]);
    const states = { 'bob@example.org': bob.state, 'carol@example.org': carol.state };
    const first =
      (code: number, enhanced: string): Answer =>
      (envelope, call) =>
        all(call === 1 ? code : 250, call === 1 ? enhanced : '2.0.0')(envelope, call);
    const soft = deliverDeps({ states, lmtp: first(451, '4.3.0') });
    assert.equal(
      exitCodeFor(await runDeliver(input(PLAIN, ['bob@example.org', 'carol@example.org']), soft.deps, signal())),
      75,
    );
    assert.equal(soft.handed.length, 1);
    const hard = deliverDeps({ states, lmtp: first(550, '5.1.1') });
    const outcome = await runDeliver(input(PLAIN, ['bob@example.org', 'carol@example.org']), hard.deps, signal());
    assert.equal(exitCodeFor(outcome), 69);
    assert.equal(hard.handed.length, 2);
    assert.deepEqual(
      outcome.recipients.map((r) => r.action),
      ['rejected', 'encrypted'],
    );
  });

  it('a copy over message_size_limit: 69 5.3.4 (or 75 with oversize defer) before anything is handed over', async () => {
    const bob = await userKey('bob@example.org');
    for (const [oversize, code] of [
      ['reject', 69],
      ['defer', 75],
    ] as const) {
      const { deps, handed } = deliverDeps({ states: { 'bob@example.org': bob.state } });
      const outcome = await runDeliver(
        input(PLAIN, ['bob@example.org'], { messageSizeLimit: 400, oversize }),
        deps,
        signal(),
      );
      assert.equal(exitCodeFor(outcome), code);
      assert.match(
        statusLine(outcome, 1, true),
        /^[45]\.3\.4 pgpipe: <bob@example\.org>: message too big after encryption/,
      );
      assert.equal(handed.length, 0);
    }
  });

  it('Dovecot slower than the deadline: 75, internal deadline exceeded', async () => {
    const { deps } = deliverDeps({ lmtp: () => new Promise(() => undefined) });
    const deadline = new AbortController(); // AbortSignal.timeout's timer would not keep the test alive
    setTimeout(() => deadline.abort(new Error('deadline')), 300);
    const outcome = await runDeliver(input(PLAIN, ['b@e']), deps, deadline.signal);
    assert.equal(exitCodeFor(outcome), 75);
    assert.equal(outcome.kind !== 'delivered' && outcome.code, 'deadline.exceeded');
  });
});

describe('runDeliver: an alias whose members differ', () => {
  const team = async () => {
    const [alice, dave] = await Promise.all([userKey('alice@example.org'), userKey('dave@example.org')]);
    const states: FakeOptions['states'] = {
      'team@example.org': {
        kind: 'members',
        members: [
          { address: 'alice@example.org', state: alice.state },
          { address: 'carol@example.org', state: { kind: 'no-key' } },
        ],
      },
    };
    return { alice, states };
  };

  it('hands each member its own copy, and the alias counts as stored once every copy got 2xx', async () => {
    const { alice, states } = await team();
    const { deps, handed } = deliverDeps({ states });
    const outcome = await runDeliver(input(PLAIN, ['team@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.deepEqual(
      handed.map((h) => h.envelope.recipients),
      [['alice@example.org'], ['carol@example.org']],
    );
    assert.match((await decryptWithGpg(handed[0]!.raw, alice.privateArmored)).toString('latin1'), /meet at noon/);
    assert.ok(handed[1]!.raw.includes('meet at noon'), 'the keyless member can read hers');
    assert.deepEqual(
      outcome.recipients.map((r) => [r.recipient, r.action]),
      [['team@example.org', 'expanded']],
    );
  });

  it("a member's 5xx bounces named by the alias, never by the member, and the alias is not stored", async () => {
    const { states } = await team();
    const refuseCarol: Answer = (envelope) => ({
      kind: 'replied',
      replies: envelope.recipients.map((recipient) =>
        recipient === 'carol@example.org'
          ? { recipient, code: 550, enhanced: '5.2.2', text: 'Mailbox is full' }
          : { recipient, code: 250, enhanced: '2.0.0', text: 'Saved' },
      ),
    });
    const { deps } = deliverDeps({ states, lmtp: refuseCarol });
    const outcome = await runDeliver(input(PLAIN, ['team@example.org']), deps, signal());
    assert.equal(exitCodeFor(outcome), 69);
    const line = statusLine(outcome, 1, true);
    assert.match(line, /^5\.2\.2 pgpipe: <team@example\.org>: LMTP 550 5\.2\.2 Mailbox is full$/);
    assert.doesNotMatch(line, /alice|carol/);
    assert.deepEqual(
      outcome.recipients.map((r) => [r.recipient, r.action]),
      [['team@example.org', 'rejected']],
    );
  });
});
