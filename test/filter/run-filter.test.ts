import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { temporary } from '../../src/errors.js';
import { exitCodeFor } from '../../src/mail-path/outcome.js';
import type { KeyState, MemberState } from '../../src/filter/ports.js';
import { statusLine } from '../../src/mail-path/report-lines.js';
import { runFilter } from '../../src/filter/run-filter.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { exited, fakeDeps, input, ok, scanned, userKey } from './fake-ports.js';

const PLAIN =
  'From: Alice <alice@example.net>\nTo: bob@example.org\nSubject: secret plans\nMessage-ID: <1@x>\n\nmeet at noon\n';
const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/mail/${name}.eml`, import.meta.url));
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

describe('runFilter: deliveries', () => {
  it('a keyed recipient gets a copy encrypted to their key only; spam headers stay outside; body intact', async () => {
    const bob = await userKey('bob@example.org');
    const { deps, calls } = fakeDeps({ states: { 'bob@example.org': bob.state } });
    const outcome = await runFilter(input(PLAIN, ['bob@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.equal(calls.sendmail.length, 1);
    const sent = calls.sendmail[0]!;
    assert.deepEqual(sent.envelope, { sender: 'sender@example.net', recipients: ['bob@example.org'] });
    const outer = parsePgpMime(sent.raw).outerHeaders.map((f) => f.raw.toString('latin1'));
    assert.ok(
      outer.some((f) => f.startsWith('X-Spam-Status: No')),
      'verdict outside the encryption',
    );
    assert.ok(!sent.raw.includes('secret plans') && !sent.raw.includes('meet at noon'), 'no plaintext outside');
    const inner = await decryptWithGpg(sent.raw, bob.privateArmored);
    assert.match(inner.toString('latin1'), /\r\n\r\nmeet at noon\r\n/);
    assert.deepEqual(
      outcome.recipients.map((r) => [r.action, r.fingerprints]),
      [['encrypted', [bob.fingerprint]]],
    );
  });

  it('two keyed recipients: two sendmail calls, each copy readable only with its own key', async () => {
    const [bob, carol] = await Promise.all([userKey('bob@example.org'), userKey('carol@example.org')]);
    const { deps, calls } = fakeDeps({ states: { 'bob@example.org': bob.state, 'carol@example.org': carol.state } });
    const outcome = await runFilter(input(PLAIN, ['bob@example.org', 'carol@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.deepEqual(
      calls.sendmail.map((c) => c.envelope.recipients),
      [['bob@example.org'], ['carol@example.org']],
    );
    await decryptWithGpg(calls.sendmail[0]!.raw, bob.privateArmored);
    await assert.rejects(decryptWithGpg(calls.sendmail[0]!.raw, carol.privateArmored));
    await decryptWithGpg(calls.sendmail[1]!.raw, carol.privateArmored);
  });

  it('keyless recipients share one copy of the message as sent (after the spam check)', async () => {
    const { deps, calls } = fakeDeps();
    const outcome = await runFilter(input(PLAIN, ['x@example.org', 'y@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.equal(calls.sendmail.length, 1);
    assert.deepEqual(calls.sendmail[0]!.envelope.recipients, ['x@example.org', 'y@example.org']);
    assert.deepEqual(calls.sendmail[0]!.raw, scanned(Buffer.from(PLAIN)).stdout);
  });

  for (const name of ['pgp-mime-encrypted', 'pgp-inline', 'smime-pkcs7']) {
    it(`already protected (${name}): everyone gets it unchanged in one call; the key store is not asked`, async () => {
      const raw = fixture(name);
      const { deps, calls } = fakeDeps({
        spamc: (r) => ok(Buffer.from(r)),
        lookup: async () => {
          throw temporary('db.unavailable', 'down');
        },
      });
      const outcome = await runFilter(input(raw, ['a@x', 'b@x']), deps, signal());
      assert.equal(outcome.kind, 'delivered');
      assert.equal(calls.lookups.length, 0);
      assert.deepEqual(
        calls.sendmail.map((c) => [c.envelope.recipients, c.raw.equals(raw)]),
        [[['a@x', 'b@x'], true]],
      );
      assert.ok(outcome.recipients.every((r) => r.action === 'unchanged'));
    });
  }

  it('the null sender is passed on as the null sender', async () => {
    const { deps, calls } = fakeDeps();
    await runFilter(input(PLAIN, ['a@x'], {}, ''), deps, signal());
    assert.equal(calls.sendmail[0]!.envelope.sender, '');
  });
});

describe('runFilter: spam check', () => {
  it('forged X-Spam-* never reach spamd or the output; spamd verdict is what remains', async () => {
    const { deps, calls } = fakeDeps();
    const outcome = await runFilter(input(fixture('forged-spam-headers'), ['x@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.doesNotMatch(calls.spamc[0]!.toString('latin1'), /^X-Spam-/im);
    const out = calls.sendmail[0]!.raw.toString('latin1');
    assert.equal(out.match(/^X-Spam-Status:/gim)?.length, 1);
    assert.match(out, /^X-Spam-Status: No, score=0\.1/m);
  });

  it('spamd down, policy deliver: delivered unscanned with forged X-Spam-* removed', async () => {
    const { deps, calls } = fakeDeps({ spamc: () => exited(69) });
    const outcome = await runFilter(input(fixture('forged-spam-headers'), ['x@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.deepEqual(outcome.spam, { kind: 'unscanned', reason: 'unavailable' });
    assert.doesNotMatch(calls.sendmail[0]!.raw.toString('latin1'), /^X-Spam-/im);
  });

  it('spamd down, policy defer: 75, nothing sent', async () => {
    const { deps, calls } = fakeDeps({ spamc: () => exited(74) });
    const outcome = await runFilter(input(PLAIN, ['x@example.org'], { spamdDown: 'defer' }), deps, signal());
    assert.equal(outcome.kind, 'deferred');
    assert.equal(exitCodeFor(outcome), 75);
    assert.equal(outcome.kind === 'deferred' && outcome.code, 'spam.check-failed');
    assert.equal(calls.sendmail.length, 0);
  });

  it('over spamc size limit: delivered unscanned even with policy defer (retrying cannot help)', async () => {
    const { deps } = fakeDeps({ spamc: (raw) => ok(Buffer.from(raw)) });
    const outcome = await runFilter(
      input(fixture('forged-spam-headers'), ['x@example.org'], { spamdDown: 'defer' }),
      deps,
      signal(),
    );
    assert.equal(outcome.kind, 'delivered');
    assert.deepEqual(outcome.spam, { kind: 'unscanned', reason: 'too-big' });
  });

  it('--no-spam-check: spamc not run, X-Spam-* removed', async () => {
    const { deps, calls } = fakeDeps();
    const outcome = await runFilter(
      input(fixture('forged-spam-headers'), ['x@example.org'], { spamCheck: false }),
      deps,
      signal(),
    );
    assert.equal(outcome.kind, 'delivered');
    assert.equal(calls.spamc.length, 0);
    assert.doesNotMatch(calls.sendmail[0]!.raw.toString('latin1'), /^X-Spam-/im);
  });

  it('GTUBE spam to a keyed user: X-Spam-Flag: YES is outside the encryption', async () => {
    const bob = await userKey('bob@example.org');
    const { deps, calls } = fakeDeps({
      states: { 'bob@example.org': bob.state },
      spamc: (raw) => scanned(raw, raw.includes(GTUBE)),
    });
    await runFilter(input(`${PLAIN}${GTUBE}\n`, ['bob@example.org']), deps, signal());
    const outer = parsePgpMime(calls.sendmail[0]!.raw).outerHeaders.map((f) => f.raw.toString('latin1'));
    assert.ok(outer.includes('X-Spam-Flag: YES'));
  });
});

describe('runFilter: failures are 75 unless a policy rejects (69)', () => {
  it('key store down → deferred db.unavailable, nothing sent', async () => {
    const { deps, calls } = fakeDeps({
      lookup: async () => {
        throw temporary('db.unavailable', 'database unavailable');
      },
    });
    const outcome = await runFilter(input(PLAIN, ['a@x']), deps, signal());
    assert.deepEqual([outcome.kind, outcome.kind !== 'delivered' && outcome.dsn], ['deferred', '4.3.0']);
    assert.equal(calls.sendmail.length, 0);
  });

  it('unusable key (default policy) → deferred 4.7.5 naming only that recipient; nobody gets anything', async () => {
    const bob = await userKey('bob@example.org');
    const { deps, calls } = fakeDeps({
      states: { 'bob@example.org': bob.state, 'eve@x': { kind: 'unusable', reason: 'expired on 2025-01-01' } },
    });
    const outcome = await runFilter(input(PLAIN, ['bob@example.org', 'eve@x']), deps, signal());
    assert.equal(outcome.kind, 'deferred');
    assert.equal(outcome.kind === 'deferred' && outcome.dsn, '4.7.5');
    assert.equal(
      outcome.kind === 'deferred' && outcome.reason,
      '<eve@x>: stored OpenPGP key unusable: expired on 2025-01-01; mail held until it is fixed',
    );
    assert.equal(calls.sendmail.length, 0);
    assert.equal(calls.encrypt.length, 0);
  });

  it('missing key with policy reject → rejected 5.7.1 (69)', async () => {
    const { deps, calls } = fakeDeps();
    const outcome = await runFilter(input(PLAIN, ['nokey@x'], { missingKey: 'reject' }), deps, signal());
    assert.equal(exitCodeFor(outcome), 69);
    assert.equal(outcome.kind === 'rejected' && outcome.dsn, '5.7.1');
    assert.equal(calls.sendmail.length, 0);
  });

  it('encrypted result over message_size_limit: rejected 5.3.4 (default) or deferred 4.3.4, before sendmail', async () => {
    const bob = await userKey('bob@example.org');
    const big = `${PLAIN}${'0123456789abcdef'.repeat(4096)}\n`; // ~64 KiB, grows ~1.36x armored
    for (const [oversize, kind, dsn] of [
      ['reject', 'rejected', '5.3.4'],
      ['defer', 'deferred', '4.3.4'],
    ] as const) {
      const { deps, calls } = fakeDeps({ states: { 'bob@example.org': bob.state } });
      const outcome = await runFilter(
        input(big, ['bob@example.org'], { messageSizeLimit: 70_000, oversize }),
        deps,
        signal(),
      );
      const { dsn: gotDsn, reason } = outcome as { dsn?: string; reason?: string };
      assert.equal(outcome.kind, kind);
      assert.equal(gotDsn, dsn);
      assert.match(reason ?? '', /^<bob@example.org>: message too big after encryption/);
      assert.equal(calls.sendmail.length, 0);
    }
    const { deps } = fakeDeps({ states: { 'bob@example.org': bob.state } });
    assert.equal(
      (await runFilter(input(big, ['bob@example.org'], { messageSizeLimit: 0 }), deps, signal())).kind,
      'delivered',
    );
  });

  it('a body that cannot fit even as bare base64 is refused without being encrypted', async () => {
    const bob = await userKey('bob@example.org');
    const big = `${PLAIN}${'0123456789abcdef'.repeat(4096)}\n`;
    const { deps, calls } = fakeDeps({ states: { 'bob@example.org': bob.state } });
    const outcome = await runFilter(input(big, ['bob@example.org'], { messageSizeLimit: 60_000 }), deps, signal());
    assert.equal(outcome.kind, 'rejected');
    assert.equal(calls.encrypt.length, 0, 'no time or memory spent encrypting a message that cannot fit');
    assert.equal(calls.sendmail.length, 0);
  });

  it('a body that might fit is encrypted and then measured exactly', async () => {
    const bob = await userKey('bob@example.org');
    // 4/3 of the body fits in 90 000, the armored copy does not
    const big = `${PLAIN}${'0123456789abcdef'.repeat(4096)}\n`;
    const { deps, calls } = fakeDeps({ states: { 'bob@example.org': bob.state } });
    const outcome = await runFilter(input(big, ['bob@example.org'], { messageSizeLimit: 90_000 }), deps, signal());
    assert.equal(outcome.kind, 'rejected');
    assert.equal(calls.encrypt.length, 1);
    assert.equal(calls.sendmail.length, 0);
  });

  for (const [name, result] of [
    ['exit 75', exited(75)],
    ['exit 69 (e.g. size)', exited(69)],
    ['exit 1', exited(1)],
    ['crash', { exitCode: null, signal: 'SIGSEGV', stdout: Buffer.alloc(0), stderrLine: '', failure: null }],
    ['not installed', { exitCode: null, signal: null, stdout: Buffer.alloc(0), stderrLine: '', failure: 'spawn' }],
    [
      'exit 0 without reading all input',
      { exitCode: 0, signal: null, stdout: Buffer.alloc(0), stderrLine: '', failure: 'io' },
    ],
  ] as const) {
    it(`sendmail ${name} → deferred sendmail.failed (75)`, async () => {
      const { deps } = fakeDeps({ sendmail: () => result });
      const outcome = await runFilter(input(PLAIN, ['a@x']), deps, signal());
      assert.equal(outcome.kind, 'deferred');
      assert.equal(outcome.kind === 'deferred' && outcome.code, 'sendmail.failed');
    });
  }

  it('encryption throwing a plain Error → deferred internal (75), nothing sent', async () => {
    const bob = await userKey('bob@example.org');
    const { deps, calls } = fakeDeps({
      states: { 'bob@example.org': bob.state },
      encrypt: async () => {
        throw new TypeError('boom');
      },
    });
    const outcome = await runFilter(input(PLAIN, ['bob@example.org']), deps, signal());
    assert.deepEqual([outcome.kind, outcome.kind === 'deferred' && outcome.reason], ['deferred', 'internal error']);
    assert.equal(calls.sendmail.length, 0);
  });

  it('all copies are built before the first sendmail call', async () => {
    const [bob, carol] = await Promise.all([userKey('bob@example.org'), userKey('carol@example.org')]);
    let encrypts = 0;
    const { deps, calls } = fakeDeps({
      states: { 'bob@example.org': bob.state, 'carol@example.org': carol.state },
      encrypt: async () => {
        if (++encrypts === 2) throw temporary('encrypt.failed', 'x');
        return Buffer.from('x');
      },
    });
    const outcome = await runFilter(input(PLAIN, ['bob@example.org', 'carol@example.org']), deps, signal());
    assert.equal(outcome.kind, 'deferred');
    assert.equal(calls.sendmail.length, 0);
  });

  it('a port that hangs and ignores the signal: our deadline returns deferred', async () => {
    const { deps } = fakeDeps({ lookup: () => new Promise(() => undefined) });
    const keepAlive = setTimeout(() => undefined, 5000); // AbortSignal.timeout alone does not hold the event loop
    const outcome = await runFilter(input(PLAIN, ['a@x']), deps, AbortSignal.timeout(200));
    clearTimeout(keepAlive);
    assert.deepEqual([outcome.kind, outcome.kind === 'deferred' && outcome.code], ['deferred', 'deadline.exceeded']);
  });

  it('second sendmail call failing: deferred, and the log shows who already got their copy', async () => {
    const bob = await userKey('bob@example.org');
    const { deps } = fakeDeps({
      states: { 'bob@example.org': bob.state },
      sendmail: (_r, _e, _s, n) => (n === 2 ? exited(75) : ok()),
    });
    const outcome = await runFilter(input(PLAIN, ['bob@example.org', 'nokey@x']), deps, signal());
    assert.equal(outcome.kind, 'deferred');
    assert.deepEqual(
      outcome.recipients.map((r) => r.action),
      ['encrypted', 'not-sent'],
    );
  });
});

describe('runFilter: an alias whose members differ (issue 11.2)', () => {
  const team = (alice: MemberState, dave: MemberState): Record<string, KeyState> => ({
    'team@example.org': {
      kind: 'members',
      members: [
        { address: 'alice@example.org', state: alice },
        { address: 'carol@outside.example', state: { kind: 'no-key' } },
        { address: 'dave+team@example.org', state: dave },
      ],
    },
  });

  it('re-injects to each member: keyed ones get a copy only they can read, keyless ones it as sent', async () => {
    const [alice, dave] = await Promise.all([userKey('alice@example.org'), userKey('dave@example.org')]);
    const { deps, calls } = fakeDeps({ states: team(alice.state, dave.state) });
    const outcome = await runFilter(input(PLAIN, ['team@example.org']), deps, signal());
    assert.equal(outcome.kind, 'delivered');
    assert.deepEqual(
      calls.sendmail.map((c) => c.envelope.recipients),
      [['alice@example.org'], ['dave+team@example.org'], ['carol@outside.example']],
    );
    const [toAlice, toDave, toCarol] = calls.sendmail;
    for (const copy of [toAlice!, toDave!]) {
      const clear = copy.raw.includes('secret plans') || copy.raw.includes('meet at noon');
      assert.ok(!clear, 'no plaintext to a keyed member');
    }
    assert.match((await decryptWithGpg(toAlice!.raw, alice.privateArmored)).toString('latin1'), /meet at noon/);
    await assert.rejects(decryptWithGpg(toAlice!.raw, dave.privateArmored), "alice's copy is hers alone");
    assert.match((await decryptWithGpg(toDave!.raw, dave.privateArmored)).toString('latin1'), /meet at noon/);
    assert.deepEqual(toCarol!.raw, scanned(Buffer.from(PLAIN)).stdout, 'the keyless member can read hers');
    assert.equal(toCarol!.envelope.sender, 'sender@example.net');
    assert.deepEqual(
      outcome.recipients.map((r) => [r.recipient, r.action]),
      [['team@example.org', 'expanded']],
    );
    const line = statusLine(outcome, 10, true);
    assert.match(line, /^2\.0\.0 pgpipe: 1 rcpt: expanded to 3 members \(2 encrypted [0-9A-F+]+, 1 as sent\)/);
    assert.doesNotMatch(line, /alice|carol|dave/, 'the status line does not say who is behind the alias');
  });

  it('a failed member copy defers the run, and the alias does not count as served', async () => {
    const [alice, dave] = await Promise.all([userKey('alice@example.org'), userKey('dave@example.org')]);
    const sendmail = (_r: Buffer, _e: unknown, _s: AbortSignal, call: number) => (call === 2 ? exited(75) : ok());
    const { deps, calls } = fakeDeps({ states: team(alice.state, dave.state), sendmail });
    const outcome = await runFilter(input(PLAIN, ['team@example.org']), deps, signal());
    assert.equal(outcome.kind, 'deferred');
    assert.equal(calls.sendmail.length, 2);
    assert.deepEqual(
      outcome.recipients.map((r) => r.action),
      ['not-sent'],
    );
  });

  it('a member with an unusable key holds the mail (default policy), nothing is sent', async () => {
    const alice = await userKey('alice@example.org');
    const { deps, calls } = fakeDeps({ states: team(alice.state, { kind: 'unusable', reason: 'key is revoked' }) });
    const outcome = await runFilter(input(PLAIN, ['team@example.org']), deps, signal());
    assert.equal(outcome.kind, 'deferred');
    assert.equal(calls.sendmail.length, 0);
    assert.equal(outcome.kind === 'deferred' ? outcome.dsn : '', '4.7.5');
    assert.match(
      outcome.kind === 'deferred' ? outcome.reason : '',
      /^<team@example\.org>: an alias member's stored OpenPGP key unusable: key is revoked/,
    );
  });

  it('an oversized member copy is named by the alias, never by the member', async () => {
    const [alice, dave] = await Promise.all([userKey('alice@example.org'), userKey('dave@example.org')]);
    const { deps } = fakeDeps({ states: team(alice.state, dave.state) });
    const outcome = await runFilter(input(PLAIN, ['team@example.org'], { messageSizeLimit: 600 }), deps, signal());
    assert.equal(outcome.kind, 'rejected');
    assert.match(outcome.kind === 'rejected' ? outcome.reason : '', /^<team@example\.org>: message too big/);
  });
});
