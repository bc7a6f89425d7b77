// The tutorial's two tables, verbatim, the idempotent variant the embedded store runs on first open, and the
// schema checks and lookup indexes of `db init`/`doctor`. Neither indexes nor unique keys are required: pgpipe
// must work on the tables exactly as the tutorial creates them.
import { permanent } from '../errors.js';
import type { Db } from './types.js';

/** The tutorial's CREATE TABLE statements, byte for byte (test clusters are created from this). */
export const TUTORIAL_SQL = `CREATE TABLE users (
  email text NOT NULL,
  pgpkey text NOT NULL,
  password text NOT NULL,
  maildir text NOT NULL,
  created TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE aliases (
  alias text NOT NULL,
  email text NOT NULL
);
`;

const IF_NOT_EXISTS_SQL = TUTORIAL_SQL.replaceAll('CREATE TABLE ', 'CREATE TABLE IF NOT EXISTS ');

/** Creates users/aliases when missing; leaves existing tables (and their rows) alone. */
export async function ensureTutorialTables(db: Db): Promise<void> {
  for (const statement of IF_NOT_EXISTS_SQL.split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    await db.query(statement);
  }
}

/** Each tutorial table by name with its CREATE TABLE IF NOT EXISTS statement. */
export const TUTORIAL_TABLES: readonly { readonly name: string; readonly sql: string }[] = IF_NOT_EXISTS_SQL.split(';')
  .map((s) => s.trim())
  .filter((s) => s !== '')
  .map((sql) => ({ name: /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(sql)?.[1] ?? '', sql }));

/** Columns the tutorial's queries (and pgpipe) read; more columns are fine, fewer are not. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  users: ['email', 'pgpkey', 'password', 'maildir', 'created'],
  aliases: ['alias', 'email'],
};

// Non-unique on purpose: a unique index would fail on an existing database with duplicate rows, and the
// tutorial's tables have none. lower() ones serve pgpipe's case-insensitive lookups (address-match.ts); plain ones
// serve the tutorial's Dovecot (users.email = '%u') and Postfix (aliases where_field=email) queries.
export const LOOKUP_INDEXES = [
  {
    name: 'pgpipe_users_email_lower',
    sql: 'CREATE INDEX IF NOT EXISTS pgpipe_users_email_lower ON users (lower(email))',
  },
  { name: 'pgpipe_users_email', sql: 'CREATE INDEX IF NOT EXISTS pgpipe_users_email ON users (email)' },
  {
    name: 'pgpipe_aliases_alias_lower',
    sql: 'CREATE INDEX IF NOT EXISTS pgpipe_aliases_alias_lower ON aliases (lower(alias))',
  },
  { name: 'pgpipe_aliases_email', sql: 'CREATE INDEX IF NOT EXISTS pgpipe_aliases_email ON aliases (email)' },
] as const;

/** A table or index of that name exists (in the search path). */
export async function relationExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
  return rows[0]?.found === true;
}

/** One round trip that proves the store answers queries at all. */
export async function ping(db: Db): Promise<void> {
  await db.query('SELECT 1');
}

/** The tutorial tables that do not exist. */
export async function missingTables(db: Db): Promise<string[]> {
  const missing: string[] = [];
  for (const name of Object.keys(REQUIRED_COLUMNS)) if (!(await relationExists(db, name))) missing.push(name);
  return missing;
}

/** Throws db.schema naming the first missing column of an existing table. */
export async function checkColumns(db: Db): Promise<void> {
  const { rows } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name IN ('users', 'aliases')`,
  );
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
    const present = new Set(rows.filter((r) => r.table_name === table).map((r) => r.column_name));
    const missing = columns.filter((c) => !present.has(c));
    if (missing.length > 0) {
      throw permanent(
        'db.schema',
        `table ${table} lacks column ${missing.join(', ')}; ` +
          `it is not the tutorial's table (see tutorial: CREATE TABLE ${table})`,
      );
    }
  }
}

/** Runs one CREATE ... IF NOT EXISTS statement of TUTORIAL_TABLES or LOOKUP_INDEXES. */
export async function createSchemaObject(db: Db, object: { readonly sql: string }): Promise<void> {
  await db.query(object.sql);
}
