// `db init` against a real PostgreSQL and the embedded store: idempotent, safe on a tutorial database with
// duplicate rows, creates the tutorial's exact columns, and the tutorial's Dovecot/Postfix queries keep working.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runInitDb } from '../../src/admin/init-db.js';
import { isPgpipeError } from '../../src/errors.js';
import { openDb } from '../../src/store/open-db.js';
import type { Db } from '../../src/store/types.js';
import { configFor, forEachStore } from './stores.js';

async function columns(db: Db): Promise<unknown[]> {
  const { rows } = await db.query(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name IN ('users', 'aliases') ` +
      `ORDER BY table_name, ordinal_position`,
  );
  return rows;
}

forEachStore('db init', (store) => {
  it('leaves existing tutorial tables alone, adds the indexes, and is idempotent', async () => {
    const { db, deps } = store();
    await db.query(
      "INSERT INTO users (email, pgpkey, password, maildir) VALUES ('a@example.org', 'k', '{SHA512}x', 'a/')",
    );
    const before = await store().dump();
    const columnsBefore = await columns(db);
    const first = await runInitDb(deps);
    assert.deepEqual(
      first.tables.map((t) => [t.name, t.state]),
      [
        ['users', 'present'],
        ['aliases', 'present'],
      ],
    );
    assert.ok(
      first.indexes.every((i) => i.state === 'created' || i.state === 'present'),
      JSON.stringify(first.indexes),
    );
    const second = await runInitDb(deps);
    assert.ok(second.indexes.every((i) => i.state === 'present'));
    assert.deepEqual(second.warnings, []);
    assert.equal(await store().dump(), before);
    assert.deepEqual(await columns(db), columnsBefore);
  });

  it('reports duplicate rows instead of failing, and changes none of them', async () => {
    const { db, deps } = store();
    await db.query('DROP INDEX IF EXISTS pgpipe_users_email_lower');
    await db.query(`INSERT INTO users (email, pgpkey, password, maildir) VALUES
      ('dup@example.org', 'k1', 'p', 'dup/'), ('DUP@example.org', 'k2', 'p', 'dup/'), ('solo@example.org', 'k', 'p', 'solo/')`);
    await db.query(
      "INSERT INTO aliases (alias, email) VALUES ('x', 'dup@example.org'), ('x', 'dup@example.org'), ('y', 'solo@example.org')",
    );
    const before = await store().dump();
    const result = await runInitDb(deps);
    assert.deepEqual(result.duplicates, [
      { table: 'users', value: 'dup@example.org', rows: 2 },
      { table: 'aliases', value: 'x -> dup@example.org', rows: 2 },
    ]);
    assert.equal(result.warnings.length, 2);
    assert.match(result.warnings[0] ?? '', /^users: dup@example\.org has 2 rows/);
    assert.equal(result.indexes.find((i) => i.name === 'pgpipe_users_email_lower')?.state, 'created');
    assert.equal(await store().dump(), before);
  });

  it("creates missing tables with the tutorial's exact columns", async () => {
    const { db, deps } = store();
    const tutorial = await columns(db); // created from the tutorial's SQL verbatim
    await db.query('DROP TABLE users');
    await db.query('DROP TABLE aliases');
    const result = await runInitDb(deps);
    assert.deepEqual(
      result.tables.map((t) => [t.name, t.state]),
      [
        ['users', 'created'],
        ['aliases', 'created'],
      ],
    );
    assert.deepEqual(await columns(db), tutorial);
  });

  it("keeps the tutorial's Dovecot and Postfix queries working", async () => {
    const { db, deps } = store();
    await runInitDb(deps);
    await db.query(
      "INSERT INTO users (email, pgpkey, password, maildir) VALUES ('astronaut57@example.org', 'k', '{SHA512-CRYPT}$6$x', 'astronaut57/')",
    );
    await db.query("INSERT INTO aliases (alias, email) VALUES ('astronaut57', 'astronaut57@example.org')");
    // dovecot-sql.conf password_query and user_query, with %u filled in.
    const password = await db.query(
      "SELECT email as user, password FROM users WHERE email = 'astronaut57@example.org'",
    );
    assert.deepEqual(password.rows, [{ user: 'astronaut57@example.org', password: '{SHA512-CRYPT}$6$x' }]);
    const user = await db.query(`SELECT email as user, 'maildir:/your_mailstore_path/plain/maildir/'||maildir as mail,
      '/your_mailstore_path/plain/home/'||maildir as home, 500 as uid, 500 as gid FROM users WHERE email = 'astronaut57@example.org'`);
    assert.equal((user.rows[0] as { mail: string }).mail, 'maildir:/your_mailstore_path/plain/maildir/astronaut57/');
    // pgsql-aliases.cf (select_field=alias, where_field=email) and pgsql-boxes.cf.
    assert.deepEqual((await db.query("SELECT alias FROM aliases WHERE email = 'astronaut57@example.org'")).rows, [
      { alias: 'astronaut57' },
    ]);
    assert.deepEqual((await db.query("SELECT email FROM users WHERE email = 'astronaut57@example.org'")).rows, [
      { email: 'astronaut57@example.org' },
    ]);
  });

  it("refuses a table that lacks the tutorial's columns, naming the column", async () => {
    const { db, deps } = store();
    await db.query('DROP TABLE aliases');
    await db.query('CREATE TABLE aliases (alias text NOT NULL)');
    try {
      await assert.rejects(
        runInitDb(deps),
        (error) =>
          isPgpipeError(error) &&
          error.code === 'db.schema' &&
          /^table aliases lacks column email;/.test(error.message),
      );
    } finally {
      await db.query('DROP TABLE aliases');
      await db.query('CREATE TABLE aliases (alias text NOT NULL, email text NOT NULL)');
    }
  });

  it('as a role that may not create indexes: warns, still succeeds (PostgreSQL only)', async (t) => {
    const { cluster } = store();
    if (cluster === null) return t.skip('roles exist only in PostgreSQL');
    await cluster.psql(`DO $$ BEGIN CREATE ROLE testuser LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      GRANT SELECT, INSERT, UPDATE, DELETE ON users, aliases TO testuser;
      DROP INDEX IF EXISTS pgpipe_users_email_lower, pgpipe_users_email, pgpipe_aliases_alias_lower, pgpipe_aliases_email;`);
    const url = cluster.url.replace(/user=[^&]*/, 'user=testuser');
    const db = await openDb(configFor({ databaseUrl: url }));
    try {
      const result = await runInitDb({ db, now: () => new Date() });
      assert.deepEqual(
        result.tables.map((x) => x.state),
        ['present', 'present'],
      );
      assert.ok(result.indexes.every((i) => i.state === 'failed'));
      assert.match(
        result.warnings[0] ?? '',
        /^index pgpipe_users_email_lower not created \(permission denied: this role does not own the table\)/,
      );
    } finally {
      await db.close();
    }
  });
});
