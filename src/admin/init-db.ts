// `pgpipe db init`: creates the tutorial's users/aliases tables when missing (same columns, so Dovecot's and
// Postfix's queries keep working), adds non-unique lookup indexes, and reports duplicate rows instead of
// enforcing uniqueness. Idempotent; never alters or deletes existing rows or columns.
import { permanent } from '../errors.js';
import { duplicateAliases } from '../store/aliases.js';
import {
  checkColumns,
  createSchemaObject,
  LOOKUP_INDEXES,
  relationExists,
  TUTORIAL_TABLES,
} from '../store/tutorial-schema.js';
import type { Db } from '../store/types.js';
import { duplicateUsers } from '../store/users.js';
import type { AdminDeps } from './admin-deps.js';
import { formatTable } from './format-table.js';

export interface InitDbResult {
  readonly store: Db['kind'];
  readonly tables: readonly { readonly name: string; readonly state: 'created' | 'present' }[];
  readonly indexes: readonly {
    readonly name: string;
    readonly state: 'created' | 'present' | 'failed';
    readonly detail: string | null;
  }[];
  readonly duplicates: readonly { readonly table: string; readonly value: string; readonly rows: number }[];
  readonly warnings: readonly string[];
}

export async function runInitDb(deps: AdminDeps): Promise<InitDbResult> {
  const { db } = deps;
  const tables = await db.transaction(async (tx) => {
    const states: { name: string; state: 'created' | 'present' }[] = [];
    for (const { name, sql } of TUTORIAL_TABLES) {
      if (await relationExists(tx, name)) {
        states.push({ name, state: 'present' });
        continue;
      }
      await createOrExplain(tx, { sql }, `table ${name}`);
      states.push({ name, state: 'created' });
    }
    return states;
  });
  await checkColumns(db);

  const indexes: InitDbResult['indexes'][number][] = [];
  const warnings: string[] = [];
  for (const index of LOOKUP_INDEXES) {
    if (await relationExists(db, index.name)) {
      indexes.push({ name: index.name, state: 'present', detail: null });
      continue;
    }
    try {
      await createSchemaObject(db, index);
      indexes.push({ name: index.name, state: 'created', detail: null });
    } catch (error) {
      // An index only speeds lookups up: a role that may not create it (not the table owner) still gets a
      // working setup, so this is a warning, not a failure.
      const message = error instanceof Error ? error.message : String(error);
      const detail = message.includes('42501') ? 'permission denied: this role does not own the table' : message;
      indexes.push({ name: index.name, state: 'failed', detail });
      warnings.push(
        `index ${index.name} not created (${detail}); lookups still work, only slower. ` +
          `Run db init as the tables' owner to add it`,
      );
    }
  }

  const duplicates = await findDuplicates(db);
  for (const d of duplicates) {
    warnings.push(
      d.table === 'users'
        ? `users: ${d.value} has ${d.rows} rows; Dovecot and pgpipe cannot tell them apart: delete the extra rows`
        : `aliases: ${d.value} appears ${d.rows} times; delete the extra rows with pgpipe alias remove and add it once`,
    );
  }
  return { store: db.kind, tables, indexes, duplicates, warnings };
}

/** Rows that share an address (case-insensitively): users by email, aliases by (alias, email). */
export async function findDuplicates(db: Db): Promise<InitDbResult['duplicates'][number][]> {
  return [
    ...(await duplicateUsers(db)).map((r) => ({ table: 'users', value: r.value, rows: r.rows })),
    ...(await duplicateAliases(db)).map((r) => ({ table: 'aliases', value: r.value, rows: r.rows })),
  ];
}

async function createOrExplain(db: Db, object: { readonly sql: string }, what: string): Promise<void> {
  try {
    await createSchemaObject(db, object);
  } catch (error) {
    // PostgreSQL 15 no longer lets every role create in schema public; say what to do about it.
    if (error instanceof Error && error.message.includes('42501')) {
      throw permanent(
        'db.schema',
        `cannot create ${what}: permission denied; run db init as the database owner, ` +
          `or GRANT CREATE ON SCHEMA public TO this role`,
        error,
      );
    }
    throw error;
  }
}

export function formatInitDb(result: InitDbResult): string {
  const rows = [
    ...result.tables.map((t) => ['table', t.name, t.state]),
    ...result.indexes.map((i) => ['index', i.name, i.state]),
  ];
  const dupes =
    result.duplicates.length === 0
      ? 'no duplicate rows\n'
      : `${result.duplicates.length} duplicate entries (see warnings)\n`;
  return `${formatTable(['KIND', 'NAME', 'STATE'], rows)}${dupes}`;
}
