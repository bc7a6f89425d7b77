// Every statement on the tutorial's `aliases` table (besides the resolver's lookup, resolve-recipients.ts).
// Names match by the one rule in address-match.ts; a bare local part and a full address are different names.
import { sameAddress } from './address-match.js';
import type { Db } from './types.js';

export interface AliasRow {
  readonly alias: string;
  readonly email: string;
}

/** The rows named exactly `alias` (case-insensitively), in stored order of their targets. */
export async function aliasRows(db: Db, alias: string): Promise<AliasRow[]> {
  const { rows } = await db.query<AliasRow>(
    `SELECT alias, email FROM aliases WHERE ${sameAddress('alias', '$1')} ORDER BY lower(email)`,
    [alias],
  );
  return rows;
}

export async function insertAlias(db: Db, row: AliasRow): Promise<void> {
  await db.query('INSERT INTO aliases (alias, email) VALUES ($1, $2)', [row.alias, row.email]);
}

/** Deletes the rows named `alias`, only those to `email` when given; returns what was deleted. */
export async function deleteAliases(db: Db, alias: string, email: string | null): Promise<AliasRow[]> {
  const { rows } = await db.query<AliasRow>(
    `DELETE FROM aliases WHERE ${sameAddress('alias', '$1')} AND ($2::text IS NULL OR ${sameAddress('email', '$2')})
     RETURNING alias, email`,
    [alias, email],
  );
  return rows;
}

/** The rows whose target is `email`, by name. */
export async function aliasesTo(db: Db, email: string): Promise<AliasRow[]> {
  const { rows } = await db.query<AliasRow>(
    `SELECT alias, email FROM aliases WHERE ${sameAddress('email', '$1')} ORDER BY alias`,
    [email],
  );
  return rows;
}

/** Deletes the rows whose target is `email`; returns them. */
export async function deleteAliasesTo(db: Db, email: string): Promise<AliasRow[]> {
  const { rows } = await db.query<AliasRow>(
    `DELETE FROM aliases WHERE ${sameAddress('email', '$1')} RETURNING alias, email`,
    [email],
  );
  return rows;
}

/** Every row, or those named `email` or pointing to it, by target then name. */
export async function listAliases(db: Db, email: string | null = null): Promise<AliasRow[]> {
  const { rows } = await db.query<AliasRow>(
    `SELECT alias, email FROM aliases
      WHERE $1::text IS NULL OR ${sameAddress('email', '$1')} OR ${sameAddress('alias', '$1')}
      ORDER BY lower(email), lower(alias)`,
    [email],
  );
  return rows;
}

/** (alias, target) pairs stored more than once (case-insensitively), with their row count. */
export async function duplicateAliases(db: Db): Promise<{ value: string; rows: number }[]> {
  const { rows } = await db.query<{ value: string; rows: number }>(
    `SELECT lower(alias) || ' -> ' || lower(email) AS value, count(*)::int AS rows FROM aliases
      GROUP BY lower(alias), lower(email) HAVING count(*) > 1 ORDER BY 1`,
  );
  return rows;
}

/** A row `alias` -> `email` exists already (both compared by the one rule). */
export async function aliasRowExists(db: Db, row: AliasRow): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM aliases WHERE ${sameAddress('alias', '$1')} AND ${sameAddress('email', '$2')} LIMIT 1`,
    [row.alias, row.email],
  );
  return rows.length > 0;
}
