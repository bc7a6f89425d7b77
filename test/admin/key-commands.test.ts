// `key set|add|remove|show|check` against a real PostgreSQL and the embedded store: rotation, a second device,
// every bad key refused with its own reason and the tables unchanged, and the health report cron relies on.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runAddKey } from '../../src/admin/add-key.js';
import { runAddUser } from '../../src/admin/add-user.js';
import { runCheckKeys } from '../../src/admin/check-keys.js';
import { runRemoveKey } from '../../src/admin/remove-key.js';
import { runSetKey } from '../../src/admin/set-key.js';
import { runShowKeys } from '../../src/admin/show-keys.js';
import { splitStoredKeys } from '../../src/admin/split-stored-keys.js';
import { makeKey } from '../helpers/keys.js';
import { BAD_KEYS } from './bad-keys.js';
import { forEachStore, type StoreContext } from './stores.js';
import { refused } from './refused.js';

const email = 'alice@example.org';

async function storedFingerprints(store: StoreContext, address = email): Promise<string[]> {
  const { rows } = await store.db.query<{ pgpkey: string }>('SELECT pgpkey FROM users WHERE email = $1', [address]);
  return (await splitStoredKeys(rows[0]?.pgpkey ?? '')).map((k) => k.fingerprint);
}

async function withUser(store: StoreContext): Promise<string> {
  const key = await makeKey({ kind: 'curve25519', email });
  await runAddUser({ email, key: key.publicArmored, password: 'pw' }, store.deps);
  return key.fingerprint;
}

forEachStore('key set/add/remove', (store) => {
  it('set replaces every key (rotation) and names what it replaced', async () => {
    const s = store();
    const old = await withUser(s);
    const next = await makeKey({ kind: 'rsa3072', email });
    const result = await runSetKey({ email, key: next.publicArmored }, s.deps);
    assert.deepEqual(result.replaced, [old]);
    assert.deepEqual(await storedFingerprints(s), [next.fingerprint]);
  });

  it('add keeps the existing key and appends the new one; a duplicate is refused', async () => {
    const s = store();
    const first = await withUser(s);
    const phone = await makeKey({ kind: 'rsa2048', email });
    const result = await runAddKey({ email, key: phone.publicArmored }, s.deps);
    assert.equal(result.total, 2);
    assert.deepEqual(await storedFingerprints(s), [first, phone.fingerprint]);
    await refused(
      s,
      () => runAddKey({ email, key: phone.publicArmored }, s.deps),
      'conflict',
      new RegExp(`^key ${phone.fingerprint} is already stored for alice@example\\.org$`),
    );
  });

  for (const bad of BAD_KEYS) {
    it(`set and add refuse ${bad.name}, leaving the tables unchanged`, async () => {
      const s = store();
      await withUser(s);
      const input = await bad.input(email);
      await refused(s, () => runSetKey({ email, key: input }, s.deps), 'key.invalid', bad.reason);
      await refused(s, () => runAddKey({ email, key: input }, s.deps), 'key.invalid', bad.reason);
    });
  }

  it('set/add on an unknown user, and on duplicate users rows, are refused', async () => {
    const s = store();
    const key = (await makeKey({ kind: 'curve25519', email: 'ghost@example.org' })).publicArmored;
    await refused(
      s,
      () => runSetKey({ email: 'ghost@example.org', key }, s.deps),
      'not-found',
      /^no user ghost@example\.org/,
    );
    await s.db.query(`INSERT INTO users (email, pgpkey, password, maildir) VALUES
      ('ghost@example.org', '', 'p', 'g/'), ('Ghost@example.org', '', 'p', 'g/')`);
    await refused(
      s,
      () => runAddKey({ email: 'ghost@example.org', key }, s.deps),
      'conflict',
      /^ghost@example\.org has 2 rows in users/,
    );
  });

  it('--allow-other-uid stores a key for another address', async () => {
    const s = store();
    await withUser(s);
    const other = await makeKey({ kind: 'curve25519', email: 'alice.private@elsewhere.example' });
    const result = await runAddKey({ email, key: other.publicArmored, allowOtherUid: true }, s.deps);
    assert.match(result.warnings[0] ?? '', /--allow-other-uid/);
    assert.equal((await storedFingerprints(s)).length, 2);
  });

  it('remove drops one key by fingerprint or key ID, refuses the last usable one and unknown ones', async () => {
    const s = store();
    const first = await withUser(s);
    const second = await makeKey({ kind: 'rsa2048', email });
    await runAddKey({ email, key: second.publicArmored }, s.deps);
    const result = await runRemoveKey({ email, fingerprint: `0x${first.slice(-16).toLowerCase()}` }, s.deps);
    assert.equal(result.removed, first);
    assert.deepEqual(await storedFingerprints(s), [second.fingerprint]);
    await refused(
      s,
      () => runRemoveKey({ email, fingerprint: second.fingerprint }, s.deps),
      'conflict',
      new RegExp(
        `^removing key ${second.fingerprint} would leave alice@example\\.org without a usable key; ` +
          `replace it with pgpipe key set alice@example\\.org FILE$`,
      ),
    );
    await refused(
      s,
      () => runRemoveKey({ email, fingerprint: first }, s.deps),
      'not-found',
      new RegExp(`^alice@example\\.org has no key ${first} \\(stored: ${second.fingerprint}\\)$`),
    );
    await refused(s, () => runRemoveKey({ email, fingerprint: 'xyz' }, s.deps), 'usage', /^give the full fingerprint/);
  });

  it('remove can take out a private key stored by hand next to a good one', async () => {
    const s = store();
    const good = await makeKey({ kind: 'curve25519', email });
    const secret = await makeKey({ kind: 'rsa2048', email });
    await s.db.query('INSERT INTO users (email, pgpkey, password, maildir) VALUES ($1, $2, $3, $4)', [
      email,
      `\n${good.publicArmored}\n${secret.privateArmored}\n`,
      '{SHA512}x',
      'alice/',
    ]);
    await runRemoveKey({ email, fingerprint: secret.fingerprint }, s.deps);
    const { rows } = await s.db.query<{ pgpkey: string }>('SELECT pgpkey FROM users');
    assert.doesNotMatch(rows[0]?.pgpkey ?? '', /PRIVATE KEY/);
    assert.deepEqual(await storedFingerprints(s), [good.fingerprint]);
  });
});

forEachStore('key show/check', (store) => {
  it('show gives fingerprint, algorithm, dates, user IDs and usability per key', async () => {
    const s = store();
    const good = await makeKey({ kind: 'rsa3072', email, expiresInDays: 100 });
    const expired = await makeKey({ kind: 'curve25519', email, expired: true });
    await s.db.query('INSERT INTO users (email, pgpkey, password, maildir) VALUES ($1, $2, $3, $4)', [
      email,
      good.publicArmored + expired.publicArmored,
      '{SHA512}x',
      'alice/',
    ]);
    const { keys } = await runShowKeys({ email: 'ALICE@example.org' }, s.deps);
    assert.equal(keys.length, 2);
    const [a, b] = keys;
    assert.equal(a?.fingerprint, good.fingerprint);
    assert.match(a?.algorithm ?? '', /^rsa 3072/);
    assert.ok(a?.created instanceof Date && a.expires instanceof Date);
    assert.equal(Math.round(((a?.expires?.getTime() ?? 0) - (a?.created?.getTime() ?? 0)) / 86_400_000), 100);
    assert.deepEqual(a?.userIds, ['Test <alice@example.org>']);
    assert.equal(a?.usable, true);
    assert.equal(b?.fingerprint, expired.fingerprint);
    assert.equal(b?.usable, false);
    assert.match(b?.reason ?? '', /^expired on \d{4}-\d\d-\d\d$/);
  });

  it('check reports expiring, expired, revoked, unusable and keyless rows; all fine reports nothing', async () => {
    const s = store();
    await withUser(s);
    const fine = await runCheckKeys({}, s.deps);
    assert.equal(fine.attention, 0);
    const soon = await makeKey({ kind: 'curve25519', email: 'soon@example.org', expiresInDays: 10 });
    const expired = await makeKey({ kind: 'curve25519', email: 'old@example.org', expired: true });
    const revoked = await makeKey({ kind: 'curve25519', email: 'gone@example.org', revoked: true });
    const secret = await makeKey({ kind: 'curve25519', email: 'oops@example.org' });
    await runAddUser({ email: 'soon@example.org', key: soon.publicArmored, password: 'pw' }, s.deps);
    // Rows written before pgpipe (or by hand) are not validated: exactly what check is for.
    await s.db.query(
      `INSERT INTO users (email, pgpkey, password, maildir) VALUES
      ('old@example.org', $1, 'p', 'old/'), ('gone@example.org', $2, 'p', 'gone/'),
      ('oops@example.org', $3, 'p', 'oops/'), ('none@example.org', '', 'p', 'none/')`,
      [expired.publicArmored, revoked.publicArmored, secret.privateArmored],
    );
    const result = await runCheckKeys({ withinDays: 30 }, s.deps);
    const byEmail = Object.fromEntries(result.entries.map((e) => [e.email, e.health]));
    assert.deepEqual(byEmail, {
      [email]: 'ok',
      'gone@example.org': 'revoked',
      'none@example.org': 'no-key',
      'old@example.org': 'expired',
      'oops@example.org': 'unusable',
      'soon@example.org': 'expiring',
    });
    assert.equal(result.attention, 5);
    assert.match(
      result.entries.find((e) => e.email === 'soon@example.org')?.detail ?? '',
      /^stops encrypting on \d{4}-\d\d-\d\d \(in (9|10) days\)$/,
    );
    assert.equal(
      (await runCheckKeys({ withinDays: 5 }, s.deps)).entries.find((e) => e.email === 'soon@example.org')?.health,
      'ok',
    );
  });

  it('check and show: an RFC 9580 X25519 subkey row is unusable with its reason; GnuPG Brainpool/secp256k1 are ok', async () => {
    const s = store();
    const x25519 = await makeKey({ kind: 'x25519', email: 'x25519@example.org' });
    const brainpool = await makeKey({ kind: 'brainpoolP384r1', email: 'card@example.org' });
    const k1 = await makeKey({ kind: 'secp256k1', email: 'k1@example.org' });
    await runAddUser({ email: 'card@example.org', key: brainpool.publicArmored, password: 'pw' }, s.deps);
    await runAddUser({ email: 'k1@example.org', key: k1.publicArmored, password: 'pw' }, s.deps);
    // Written by hand (the tutorial's INSERT): exactly what check is for.
    await s.db.query(
      `INSERT INTO users (email, pgpkey, password, maildir)
        VALUES ('x25519@example.org', $1, 'p', 'x/')`,
      [x25519.publicArmored],
    );
    const result = await runCheckKeys({ withinDays: 30 }, s.deps);
    const entry = (address: string) => result.entries.find((e) => e.email === address);
    assert.equal(entry('x25519@example.org')?.health, 'unusable');
    assert.equal(entry('x25519@example.org')?.detail, 'X25519 (RFC 9580) encryption subkey: GnuPG 2.2 cannot use it');
    assert.equal(entry('card@example.org')?.health, 'ok');
    assert.equal(entry('k1@example.org')?.health, 'ok');
    const shown = await runShowKeys({ email: 'card@example.org' }, s.deps);
    assert.match(JSON.stringify(shown), /brainpoolP384r1/);
  });
});
