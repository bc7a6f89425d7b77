// recipientKeys groups inspectKeys' verdicts for one store record and words the reason when none is usable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memberKeys, recipientKeys, unusableReason } from '../../src/keys/recipient-keys.js';
import type { KeyReport } from '../../src/keys/types.js';
import type { RecipientRecord } from '../../src/store/types.js';
import { makeKey } from '../helpers/keys.js';

const record = (pgpkey: string | null, user: string | null = 'u@example.org'): RecipientRecord => ({
  address: 'rcpt@example.org',
  user,
  via: user === null ? null : 'user',
  pgpkey,
});

describe('recipientKeys', () => {
  it('is no-key without a user row or with an empty pgpkey', async () => {
    assert.deepEqual(await recipientKeys(record(null, null)), { kind: 'no-key', address: 'rcpt@example.org' });
    assert.deepEqual(await recipientKeys(record(null)), { kind: 'no-key', address: 'rcpt@example.org' });
    assert.deepEqual(await recipientKeys(record('  \n ')), { kind: 'no-key', address: 'rcpt@example.org' });
  });

  it('returns the usable keys and lists the others', async () => {
    const good = await makeKey({ kind: 'curve25519', email: 'good@example.org' });
    const dead = await makeKey({ kind: 'curve25519', email: 'dead@example.org', expired: true });
    const result = await recipientKeys(record(`${dead.publicArmored}\n${good.publicArmored}`));
    assert.equal(result.kind, 'keys');
    if (result.kind !== 'keys') return;
    assert.equal(result.user, 'u@example.org');
    assert.deepEqual(
      result.usable.map((r) => r.fingerprint),
      [good.fingerprint],
    );
    assert.deepEqual(
      result.unusable.map((r) => r.problem),
      ['expired'],
    );
  });

  it('explains a single unusable key by its own reason', async () => {
    const dead = await makeKey({ kind: 'curve25519', email: 'dead@example.org', expired: true });
    const result = await recipientKeys(record(dead.publicArmored));
    assert.equal(result.kind, 'unusable');
    if (result.kind !== 'unusable') return;
    assert.match(result.reason, /^expired on \d{4}-\d{2}-\d{2}$/);
    const priv = await recipientKeys(record(dead.privateArmored));
    assert.equal(priv.kind === 'unusable' ? priv.reason : '', 'private key stored, not a public key');
    const junk = await recipientKeys(record('hello'));
    assert.equal(junk.kind, 'unusable');
  });

  it('summarises several unusable keys', async () => {
    const dead = await makeKey({ kind: 'curve25519', email: 'dead@example.org', expired: true });
    const revoked = await makeKey({ kind: 'curve25519', email: 'revoked@example.org', revoked: true });
    const result = await recipientKeys(record(`${dead.publicArmored}\n${revoked.publicArmored}`));
    assert.equal(result.kind === 'unusable' ? result.reason : '', 'no usable key (2 keys: expired, revoked)');
  });

  describe('an alias with several targets (review #5)', () => {
    const alias = (targets: { address: string; pgpkey: string | null }[]): RecipientRecord => {
      const reached = targets.filter((t) => t.pgpkey !== null);
      return {
        address: 'team@example.org',
        user: reached[0]?.address ?? null,
        via: 'alias',
        pgpkey: reached.length > 0 ? reached.map((t) => t.pgpkey).join('\n') : null,
        targets: targets.map((t) => ({ ...t, user: t.pgpkey === null ? null : t.address })),
      };
    };

    it("uses every target's keys when each target has a usable one", async () => {
      const a = await makeKey({ kind: 'curve25519', email: 'alice@example.org' });
      const d = await makeKey({ kind: 'rsa2048', email: 'dave@example.org' });
      const result = await recipientKeys(
        alias([
          { address: 'alice@example.org', pgpkey: a.publicArmored },
          { address: 'dave@example.org', pgpkey: d.publicArmored },
        ]),
      );
      assert.equal(result.kind, 'keys');
      if (result.kind !== 'keys') return;
      assert.equal(result.user, 'alice@example.org');
      assert.deepEqual(
        result.usable.map((r) => r.fingerprint),
        [a.fingerprint, d.fingerprint],
      );
    });

    it('is unusable, naming the target, when one target has only dead keys (never encrypt past a member)', async () => {
      const a = await makeKey({ kind: 'curve25519', email: 'alice@example.org' });
      const dead = await makeKey({ kind: 'curve25519', email: 'dead@example.org', expired: true });
      const result = await recipientKeys(
        alias([
          { address: 'alice@example.org', pgpkey: a.publicArmored },
          { address: 'dave@example.org', pgpkey: dead.publicArmored },
        ]),
      );
      assert.equal(result.kind, 'unusable');
      if (result.kind !== 'unusable') return;
      assert.match(result.reason, /^alias member dave@example\.org: expired on \d{4}-\d{2}-\d{2}$/);
      assert.deepEqual(
        result.unusable.map((r) => r.problem),
        ['expired'],
      );
    });

    it('is no-key when one target has no key or no users row, as that member alone would be', async () => {
      const a = await makeKey({ kind: 'curve25519', email: 'alice@example.org' });
      for (const missing of [null, '  ']) {
        const result = await recipientKeys(
          alias([
            { address: 'alice@example.org', pgpkey: a.publicArmored },
            { address: 'outside@example.net', pgpkey: missing },
          ]),
        );
        assert.deepEqual(result, { kind: 'no-key', address: 'team@example.org' }, JSON.stringify(missing));
      }
    });
  });

  describe('members of an alias, each alone (issue 11.2), and chains beyond the hop limit', () => {
    it('memberKeys gives each final address its own verdict under its own address; null for a non-alias', async () => {
      const a = await makeKey({ kind: 'curve25519', email: 'alice@example.org' });
      const dead = await makeKey({ kind: 'curve25519', email: 'dead@example.org', revoked: true });
      assert.equal(await memberKeys(record(a.publicArmored)), null);
      const members = await memberKeys({
        address: 'team@example.org',
        user: 'alice@example.org',
        via: 'alias',
        pgpkey: `${a.publicArmored}\n${dead.publicArmored}`,
        targets: [
          { address: 'alice+team@example.org', user: 'alice@example.org', pgpkey: a.publicArmored },
          { address: 'carol@outside.example', user: null, pgpkey: null },
          { address: 'old@example.org', user: 'old@example.org', pgpkey: dead.publicArmored },
          { address: 'far@example.org', user: null, pgpkey: null, unresolved: 'hop-limit' },
        ],
      });
      assert.deepEqual(
        members?.map((m) => [m.address, m.kind]),
        [
          ['alice+team@example.org', 'keys'],
          ['carol@outside.example', 'no-key'],
          ['old@example.org', 'unusable'],
          ['far@example.org', 'unusable'],
        ],
      );
      const [keyed] = members ?? [];
      assert.deepEqual(
        keyed?.kind === 'keys' ? keyed.usable.map((r) => r.fingerprint) : [],
        [a.fingerprint],
        "not the other members' keys",
      );
    });

    it('a chain beyond the hop limit is unusable, never no-key (it may end at a keyed user)', async () => {
      const hops = 'alias chain longer than 5 hops: who receives it is unknown';
      const far = await recipientKeys({
        address: 'c0@example.org',
        user: null,
        via: 'alias',
        pgpkey: null,
        unresolved: 'hop-limit',
      });
      assert.deepEqual(far.kind === 'unusable' ? [far.kind, far.reason] : [far.kind], ['unusable', hops]);
      const a = await makeKey({ kind: 'curve25519', email: 'alice@example.org' });
      const wide = await recipientKeys({
        address: 'wide@example.org',
        user: 'alice@example.org',
        via: 'alias',
        pgpkey: a.publicArmored,
        unresolved: 'hop-limit',
        targets: [
          { address: 'alice@example.org', user: 'alice@example.org', pgpkey: a.publicArmored },
          { address: 'h5@example.org', user: null, pgpkey: null, unresolved: 'hop-limit' },
        ],
      });
      assert.equal(wide.kind === 'unusable' ? wide.reason : wide.kind, `alias member h5@example.org: ${hops}`);
    });
  });

  it('groups repeated problems so the reason stays one short line', () => {
    const r = (problem: KeyReport['problem']) => ({ problem, reason: null }) as unknown as KeyReport;
    assert.equal(
      unusableReason([...Array.from({ length: 99 }, () => r('expired')), r('revoked')]),
      'no usable key (100 keys: expired ×99, revoked)',
    );
  });
});
