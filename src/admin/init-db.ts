// `pgpipe db init`: creates the tutorial's users/aliases tables when missing (same columns, so Dovecot's and
// Postfix's queries keep working), adds non-unique lookup indexes, and reports duplicate rows instead of
// enforcing uniqueness. Idempotent; never alters or deletes existing rows or columns.
import { permanent } from '../errors.js';
import { TUTORIAL_SQL } from '../store/tutorial-schema.js';
import type { Db } from '../store/types.js';
import type { AdminDeps } from './admin-deps.js';
import { formatTable } from './format-table.js';

export interface InitDbResult {
  readonly store: Db['kind'];
  readonly tables: readonly { readonly name: string; readonly state: 'created' | 'present' }[];
  readonly indexes: readonly { readonly name: string; readonly state: 'created' | 'present' | 'failed'; readonly detail: string | null }[];
  readonly duplicates: readonly { readonly table: string; readonly value: string; readonly rows: number }[];
  readonly warnings: readonly string[];
}

/** Columns the tutorial's queries (and pgpipe) read; more columns are fine, fewer are not. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  users: ['email', 'pgpkey', 'password', 'maildir', 'created'],
  aliases: ['alias', 'email'],
};

// Non-unique on purpose: a unique index would fail on an existing database with duplicate rows, and the
// tutorial's tables have none. lower() ones serve pgpipe's case-insensitive lookups; plain ones serve the
// tutorial's Dovecot (users.email = '%u') and Postfix (aliases where_field=email) queries.
const INDEXES = [
  { name: 'pgpipe_users_email_lower', sql: 'CREATE INDEX IF NOT EXISTS pgpipe_users_email_lower ON users (lower(email))' },
  { name: 'pgpipe_users_email', sql: 'CREATE INDEX IF NOT EXISTS pgpipe_users_email ON users (email)' },
  { name: 'pgpipe_aliases_alias_lower', sql: 'CREATE INDEX IF NOT EXISTS pgpipe_aliases_alias_lower ON aliases (lower(alias))' },
  { name: 'pgpipe_aliases_email', sql: 'CREATE INDEX IF NOT EXISTS pgpipe_aliases_email ON aliases (email)' },
] as const;

const STATEMENTS = TUTORIAL_SQL.split(';').map((s) => s.trim()).filter((s) => s !== '');

export async function runInitDb(deps: AdminDeps): Promise<InitDbResult> {
  const { db } = deps;
  const tables = await db.transaction(async (tx) => {
    const states: { name: string; state: 'created' | 'present' }[] = [];
    for (const statement of STATEMENTS) {
      const name = /^CREATE TABLE (\w+)/.exec(statement)?.[1] ?? '';
      if (await exists(tx, name)) {
        states.push({ name, state: 'present' });
        continue;
      }
      await createOrExplain(tx, statement.replace('CREATE TABLE ', 'CREATE TABLE IF NOT EXISTS '), `table ${name}`);
      states.push({ name, state: 'created' });
    }
    return states;
  });
  await checkColumns(db);

  const indexes: InitDbResult['indexes'][number][] = [];
  const warnings: string[] = [];
  for (const index of INDEXES) {
    if (await exists(db, index.name)) {
      indexes.push({ name: index.name, state: 'present', detail: null });
      continue;
    }
    try {
      await db.query(index.sql);
      indexes.push({ name: index.name, state: 'created', detail: null });
    } catch (error) {
      // An index only speeds lookups up: a role that may not create it (not the table owner) still gets a
      // working setup, so this is a warning, not a failure.
      const message = error instanceof Error ? error.message : String(error);
      const detail = message.includes('42501') ? 'permission denied: this role does not own the table' : message;
      indexes.push({ name: index.name, state: 'failed', detail });
      warnings.push(`index ${index.name} not created (${detail}); lookups still work, only slower. Run db init as the tables' owner to add it`);
    }
  }

  const duplicates = await findDuplicates(db);
  for (const d of duplicates) {
    warnings.push(d.table === 'users'
      ? `users: ${d.value} has ${d.rows} rows; Dovecot and pgpipe cannot tell them apart: delete the extra rows`
      : `aliases: ${d.value} appears ${d.rows} times; delete the extra rows with pgpipe alias remove and add it once`);
  }
  return { store: db.kind, tables, indexes, duplicates, warnings };
}

/** Rows that share an address (case-insensitively): users by email, aliases by (alias, email). */
export async function findDuplicates(db: Db): Promise<InitDbResult['duplicates'][number][]> {
  const users = await db.query<{ value: string; rows: number }>(
    'SELECT lower(email) AS value, count(*)::int AS rows FROM users GROUP BY lower(email) HAVING count(*) > 1 ORDER BY 1',
  );
  const aliases = await db.query<{ value: string; rows: number }>(
    `SELECT lower(alias) || ' -> ' || lower(email) AS value, count(*)::int AS rows FROM aliases
      GROUP BY lower(alias), lower(email) HAVING count(*) > 1 ORDER BY 1`,
  );
  return [
    ...users.rows.map((r) => ({ table: 'users', value: r.value, rows: r.rows })),
    ...aliases.rows.map((r) => ({ table: 'aliases', value: r.value, rows: r.rows })),
  ];
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
      throw permanent('db.schema', `table ${table} lacks column ${missing.join(', ')}; it is not the tutorial's table (see tutorial: CREATE TABLE ${table})`);
    }
  }
}

async function exists(db: Db, name: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
  return rows[0]?.found === true;
}

async function createOrExplain(db: Db, sql: string, what: string): Promise<void> {
  try {
    await db.query(sql);
  } catch (error) {
    // PostgreSQL 15 no longer lets every role create in schema public; say what to do about it.
    if (error instanceof Error && error.message.includes('42501')) {
      throw permanent('db.schema', `cannot create ${what}: permission denied; run db init as the database owner, or GRANT CREATE ON SCHEMA public TO this role`, error);
    }
    throw error;
  }
}

export function formatInitDb(result: InitDbResult): string {
  const rows = [
    ...result.tables.map((t) => ['table', t.name, t.state]),
    ...result.indexes.map((i) => ['index', i.name, i.state]),
  ];
  const dupes = result.duplicates.length === 0 ? 'no duplicate rows\n' : `${result.duplicates.length} duplicate entries (see warnings)\n`;
  return `${formatTable(['KIND', 'NAME', 'STATE'], rows)}${dupes}`;
}
