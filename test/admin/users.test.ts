// `user add|list|remove` against a real PostgreSQL and the embedded store. Every refused write leaves both
// tables byte-for-byte unchanged.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readKey } from 'openpgp';
import { runAddUser } from '../../src/admin/add-user.js';
import { runListUsers } from '../../src/admin/list-users.js';
import { runRemoveUser } from '../../src/admin/remove-user.js';
import { isPgpipeError } from '../../src/errors.js';
import { makeKey } from '../helpers/keys.js';
import { BAD_KEYS } from './bad-keys.js';
import { forEachStore } from './stores.js';
import { refused } from './refused.js';

const email = 'astronaut57@example.org';

forEachStore('user add', (store) => {
  it('stores the row as the tutorial would, with a {SHA512-CRYPT} hash doveadm verifies', async () => {
    const key = await makeKey({ kind: 'curve25519', email });
    const result = await runAddUser(
      { email: 'Astronaut57@Example.ORG', key: key.publicArmored, password: 'hunter2 and more' },
      store().deps,
    );
    assert.equal(result.email, email);
    assert.equal(result.maildir, 'astronaut57/');
    const { rows } = await store().db.query<{
      email: string;
      pgpkey: string;
      password: string;
      maildir: string;
      created: Date | null;
    }>('SELECT email, pgpkey, password, maildir, created FROM users');
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.email, email);
    assert.equal(row.maildir, 'astronaut57/');
    assert.ok(row.created instanceof Date);
    assert.equal((await readKey({ armoredKey: row.pgpkey })).getFingerprint().toUpperCase(), key.fingerprint);
    assert.match(row.password, /^\{SHA512-CRYPT\}\$6\$/);
    const verify = spawnSync('doveadm', ['pw', '-t', row.password, '-p', 'hunter2 and more'], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
  });

  it('takes --password-hash and --maildir as given', async () => {
    const key = await makeKey({ kind: 'rsa3072', email: 'bob@example.org' });
    const hash = spawnSync('doveadm', ['pw', '-s', 'SHA512-CRYPT', '-p', 'pw'], { encoding: 'utf8' }).stdout.trim();
    await runAddUser(
      { email: 'bob@example.org', key: key.publicArmored, passwordHash: hash, maildir: 'b/bob' },
      store().deps,
    );
    const { rows } = await store().db.query<{ password: string; maildir: string }>(
      'SELECT password, maildir FROM users',
    );
    assert.deepEqual(rows, [{ password: hash, maildir: 'b/bob/' }]);
  });

  for (const bad of BAD_KEYS) {
    it(`refuses ${bad.name}, writing nothing`, async () => {
      await refused(
        store(),
        async () => runAddUser({ email, key: await bad.input(email), password: 'pw' }, store().deps),
        'key.invalid',
        bad.reason,
      );
      assert.equal((await store().db.query('SELECT 1 FROM users')).rows.length, 0);
    });
  }

  it('refuses an existing user (any case), a bad address, a bad maildir, an unsalted hash, no password', async () => {
    const key = (await makeKey({ kind: 'curve25519', email })).publicArmored;
    await runAddUser({ email, key, password: 'pw' }, store().deps);
    const s = store();
    await refused(
      s,
      () => runAddUser({ email: 'ASTRONAUT57@example.org', key, password: 'pw' }, s.deps),
      'conflict',
      /^user astronaut57@example\.org already exists; change its keys with pgpipe key set\/add$/,
    );
    await refused(
      s,
      () => runAddUser({ email: 'no-at-sign', key, password: 'pw' }, s.deps),
      'usage',
      /is not an email address/,
    );
    await refused(
      s,
      () => runAddUser({ email: "o'brien@example.org", key, password: 'pw' }, s.deps),
      'usage',
      /is not an email address pgpipe accepts/,
    );
    await refused(
      s,
      () => runAddUser({ email: 'c@example.org', key, password: 'pw', maildir: '../etc' }, s.deps),
      'usage',
      /^maildir "\.\.\/etc" must be a relative path/,
    );
    await refused(
      s,
      () =>
        runAddUser(
          {
            email: 'c@example.org',
            key,
            passwordHash:
              '{SHA512}NieQminDE4Ggcewn98nKl3Jhgq7Smn3dLlQ1MyLPswq7njpt8qwsIP4jQ2MR1nhWTQyNMFkwV19g4tPQSBhNeQ==',
          },
          s.deps,
        ),
      'usage',
      /^\{SHA512\} is not a salted scheme/,
    );
    await refused(
      s,
      () => runAddUser({ email: 'c@example.org', key }, s.deps),
      'usage',
      /^give exactly one of --password-stdin and --password-hash HASH$/,
    );
  });
});

forEachStore('user list and remove', (store) => {
  it('lists users with their key status, never the password', async () => {
    const s = store();
    await runAddUser(
      { email, key: (await makeKey({ kind: 'curve25519', email })).publicArmored, password: 'pw' },
      s.deps,
    );
    // A row the tutorial's way: a placeholder instead of a key (its INSERT shows dots), and one without a key.
    await s.db.query(`INSERT INTO users (email, pgpkey, password, maildir) VALUES
      ('dots@example.org', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n.......\n-----END PGP PUBLIC KEY BLOCK-----', '{SHA512}x', 'dots/'),
      ('empty@example.org', '', '{SHA512}x', 'empty/')`);
    const { users } = await runListUsers(s.deps);
    assert.deepEqual(
      users.map((u) => [u.email, u.keys, u.usableKeys, u.status]),
      [
        [email, 1, 1, 'ok'],
        ['dots@example.org', 1, 0, 'unusable: key block does not parse'],
        ['empty@example.org', 0, 0, 'no key'],
      ],
    );
    assert.doesNotMatch(JSON.stringify(users), /SHA512/);
  });

  it('removes a user, naming aliases left behind; --with-aliases removes them too', async () => {
    const s = store();
    const key = (await makeKey({ kind: 'curve25519', email })).publicArmored;
    await runAddUser({ email, key, password: 'pw' }, s.deps);
    await s.db.query("INSERT INTO aliases (alias, email) VALUES ('astronaut57', 'astronaut57@example.org')");
    const kept = await runRemoveUser({ email }, s.deps);
    assert.equal(kept.removedRows, 1);
    assert.match(kept.warnings[0] ?? '', /^aliases still point to astronaut57@example\.org: astronaut57 /);
    assert.equal((await s.db.query('SELECT 1 FROM aliases')).rows.length, 1);

    await runAddUser({ email, key, password: 'pw' }, s.deps);
    const gone = await runRemoveUser({ email: 'ASTRONAUT57@example.org', withAliases: true }, s.deps);
    assert.deepEqual(gone.removedAliases, ['astronaut57']);
    assert.equal((await s.db.query('SELECT 1 FROM aliases')).rows.length, 0);
    assert.equal((await s.db.query('SELECT 1 FROM users')).rows.length, 0);
    await refused(s, () => runRemoveUser({ email }, s.deps), 'not-found', /^no user astronaut57@example\.org/);
  });

  it('is transactional: a failure after the first write rolls everything back', async () => {
    const s = store();
    await runAddUser(
      { email, key: (await makeKey({ kind: 'curve25519', email })).publicArmored, password: 'pw' },
      s.deps,
    );
    await s.db.query("INSERT INTO aliases (alias, email) VALUES ('astronaut57', 'astronaut57@example.org')");
    // The users row is deleted first; then deleting the alias fails.
    await s.db.query(`CREATE FUNCTION pgpipe_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$`);
    await s.db.query(
      'CREATE TRIGGER pgpipe_test_refuse BEFORE DELETE ON aliases FOR EACH ROW EXECUTE FUNCTION pgpipe_test_refuse()',
    );
    try {
      const before = await s.dump();
      await assert.rejects(runRemoveUser({ email, withAliases: true }, s.deps), (error) => isPgpipeError(error));
      assert.equal(await s.dump(), before);
    } finally {
      await s.db.query('DROP TRIGGER pgpipe_test_refuse ON aliases');
      await s.db.query('DROP FUNCTION pgpipe_test_refuse()');
    }
  });
});
