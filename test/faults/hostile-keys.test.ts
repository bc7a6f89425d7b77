// Hostile database content: each stored pgpkey below gets its documented outcome through the real CLI. Unusable
// keys defer by default (--unusable-key defer → 75, nothing handed on, the reason in the status line, no key
// material); usable ones are encrypted to. None crashes, none yields plaintext for that recipient.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { before, describe, test } from 'node:test';
import { makeKey, type KeySpec } from '../helpers/keys.js';
import { seedStore } from '../helpers/seed.js';
import type { OracleRecipient } from '../helpers/oracle.js';
import { assertOutcome, runFilterCli, worldForSuite, tokenMessage } from './support.js';

const armorOf = (kind: 'PUBLIC KEY' | 'PRIVATE KEY', base64: string): string =>
  `-----BEGIN PGP ${kind} BLOCK-----\n\n${base64.replace(/.{64}/g, '$&\n')}\n-----END PGP ${kind} BLOCK-----\n`;

interface Row {
  readonly name: string;
  /** pgpkey text for the row (several blocks allowed). */
  pgpkey(): Promise<string>;
  /** Documented outcome with the default policies. */
  readonly expected: 0 | 75;
  /** For exit 0: the private key that must decrypt the copy. */
  privateKey?(): Promise<openpgp.PrivateKey>;
  /** Text the status line must contain (the reason), for 75. */
  readonly reason?: RegExp;
}

const spec = (s: Omit<KeySpec, 'email'>, email: string): KeySpec => ({ ...s, email });
const pub = async (s: KeySpec) => (await makeKey(s)).publicArmored;
const priv = async (s: KeySpec) => openpgp.readPrivateKey({ armoredKey: (await makeKey(s)).privateArmored });

const ROWS: readonly Row[] = [
  { name: 'garbage', expected: 75, reason: /unusable/, pgpkey: async () => 'this is not a key; DROP TABLE users; --' },
  {
    name: 'truncated',
    expected: 75,
    reason: /unusable/,
    pgpkey: async () => {
      const text = await pub(spec({ kind: 'curve25519' }, 'truncated@faults.test'));
      return text.slice(0, Math.floor(text.length / 2));
    },
  },
  {
    name: 'private',
    expected: 75,
    reason: /private/,
    pgpkey: async () => (await makeKey(spec({ kind: 'curve25519' }, 'private@faults.test'))).privateArmored,
  },
  {
    name: 'expired',
    expected: 75,
    reason: /expired/,
    pgpkey: () => pub(spec({ kind: 'curve25519', expired: true }, 'expired@faults.test')),
  },
  {
    name: 'revoked',
    expected: 75,
    reason: /revoked/,
    pgpkey: () => pub(spec({ kind: 'curve25519', revoked: true }, 'revoked@faults.test')),
  },
  {
    name: 'sign-only',
    expected: 75,
    reason: /encrypt/,
    pgpkey: () => pub(spec({ kind: 'curve25519', signOnly: true }, 'signonly@faults.test')),
  },
  {
    name: 'rsa-1024',
    expected: 75,
    reason: /1024|RSA|weak/i,
    pgpkey: () => pub(spec({ kind: 'rsa1024' }, 'rsa1024@faults.test')),
  },
  {
    name: 'v6-only',
    expected: 75,
    reason: /v6|version 6|RFC 9580/i,
    pgpkey: () => pub(spec({ kind: 'curve25519', v6: true }, 'v6@faults.test')),
  },
  // Issue 11 items 4 and 5: GnuPG's other curves are encrypted to; RFC 9580 X25519/X448 subkeys on v4 keys defer.
  ...(['brainpoolP256r1', 'brainpoolP384r1', 'brainpoolP512r1', 'secp256k1'] as const).map((kind): Row => ({
    name: `gpg ${kind} key`,
    expected: 0,
    pgpkey: () => pub(spec({ kind }, `${kind.toLowerCase()}@faults.test`)),
    privateKey: () => priv(spec({ kind }, `${kind.toLowerCase()}@faults.test`)),
  })),
  {
    name: 'x25519 subkey on a v4 key',
    expected: 75,
    reason: /X25519 \(RFC 9580\) encryption subkey: GnuPG 2\.2 cannot use it/,
    pgpkey: () => pub(spec({ kind: 'x25519' }, 'x25519@faults.test')),
  },
  {
    name: 'x448 subkey on a v4 key',
    expected: 75,
    reason: /X448 \(RFC 9580\)/,
    pgpkey: () => pub(spec({ kind: 'x448' }, 'x448@faults.test')),
  },
  {
    name: '5 MB garbage key block',
    expected: 75,
    reason: /unusable/,
    pgpkey: async () => armorOf('PUBLIC KEY', randomBytes(3_750_000).toString('base64')),
  },
  {
    name: 'valid key followed by 5 MB of junk',
    expected: 0,
    pgpkey: async () =>
      `${await pub(spec({ kind: 'curve25519' }, 'bigrow@faults.test'))}\n${'junk '.repeat(1_000_000)}`,
    privateKey: () => priv(spec({ kind: 'curve25519' }, 'bigrow@faults.test')),
  },
  {
    name: '100 keys in one row',
    expected: 0,
    pgpkey: async () => {
      const texts = await Promise.all(
        Array.from({ length: 100 }, (_, i) => pub(spec({ kind: 'curve25519' }, `many${i}@faults.test`))),
      );
      return texts.join('\n');
    },
    privateKey: () => priv(spec({ kind: 'curve25519' }, 'many57@faults.test')),
  },
  {
    name: 'garbage block next to a valid key',
    expected: 0,
    pgpkey: async () =>
      `${armorOf('PUBLIC KEY', 'AAAA')}\n${await pub(spec({ kind: 'curve25519' }, 'mixed@faults.test'))}`,
    privateKey: () => priv(spec({ kind: 'curve25519' }, 'mixed@faults.test')),
  },
  {
    // The users row is the binding (admin add-key checks the user ID when a key is stored); the filter trusts it.
    name: 'key whose user ID names someone else',
    expected: 0,
    pgpkey: () => pub(spec({ kind: 'curve25519' }, 'mallory@elsewhere.test')),
    privateKey: () => priv(spec({ kind: 'curve25519' }, 'mallory@elsewhere.test')),
  },
];

const addressOf = (row: Row): string => `k-${row.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}@faults.test`;

describe('hostile key rows (default --unusable-key defer)', () => {
  const world = worldForSuite();
  before(async () => {
    const users = await Promise.all(ROWS.map(async (row) => ({ email: addressOf(row), pgpkey: await row.pgpkey() })));
    await seedStore({ databaseUrl: world.pg.url }, users);
  });

  for (const row of ROWS) {
    test(`${row.name} → ${row.expected === 0 ? 'encrypted (0)' : 'deferred (75)'}`, async () => {
      const m = tokenMessage();
      const recipient: OracleRecipient = {
        address: addressOf(row),
        privateKey: row.privateKey ? await row.privateKey() : null,
      };
      const r = await runFilterCli({ world, input: m.raw, recipients: [recipient] });
      assertOutcome(r, row.expected, [m.subjectToken, m.bodyToken]);
      if (row.expected === 0) assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-encrypted');
      if (row.reason) assert.match(r.run.output, row.reason);
      // Armor is base64 with lower-case letters; fingerprints (upper-case hex joined by '+') are fine.
      assert.doesNotMatch(
        r.run.output,
        /BEGIN PGP|(?=[A-Za-z0-9+/]*[a-z])[A-Za-z0-9+/]{60,}/,
        'no key material in the status line',
      );
      assert.ok(r.run.ms < 15_000, `${r.run.ms} ms`);
    });
  }

  test('policy variants on a garbage key: --unusable-key deliver → as sent (0), reject → 69', async () => {
    const row = ROWS[0] as Row;
    const m = tokenMessage();
    const plain: OracleRecipient = { address: addressOf(row), privateKey: null };
    const delivered = await runFilterCli({
      world,
      input: m.raw,
      recipients: [plain],
      flags: ['--unusable-key', 'deliver'],
    });
    assertOutcome(delivered, 0, []);
    assert.equal(delivered.verdict.ok && delivered.verdict.outcome, 'exit0-plain-unkeyed-only');
    const rejected = await runFilterCli({
      world,
      input: m.raw,
      recipients: [plain],
      flags: ['--unusable-key', 'reject'],
    });
    assertOutcome(rejected, 69, [m.subjectToken, m.bodyToken]);
  });

  test('a keyed and an unusable recipient together → 75 for both (nothing sent, no partial delivery)', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({
      world,
      input: m.raw,
      recipients: [world.alice, { address: addressOf(ROWS[3] as Row), privateKey: null }],
    });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
    assert.equal(r.calls.length, 0);
  });
});
