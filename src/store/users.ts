// Every statement on the tutorial's `users` table (besides the resolver's lookup, resolve-recipients.ts).
// Addresses match by the one rule in address-match.ts. The table has no unique key: "one row" is checked, not assumed.
import { permanent } from '../errors.js';
import { domainPart, sameAddress } from './address-match.js';
import type { Db } from './types.js';

export interface UserRow {
  readonly email: string;
  readonly pgpkey: string;
  readonly maildir: string;
  readonly created: Date | null;
}

export interface NewUser {
  readonly email: string;
  readonly pgpkey: string;
  /** Already hashed, `{SCHEME}...` as Dovecot reads it. */
  readonly password: string;
  readonly maildir: string;
}

/** Every row of `email` (duplicates included), locked FOR UPDATE when `forUpdate` (inside a transaction). */
export async function userRows(db: Db, email: string, forUpdate = false): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT email, pgpkey, maildir, created FROM users
      WHERE ${sameAddress('email', '$1')}${forUpdate ? ' FOR UPDATE' : ''}`,
    [email],
  );
  return rows;
}

/**
 * The single users row for `email`, locked FOR UPDATE when `forUpdate` (call inside a transaction).
 * Throws not-found when there is none and conflict when duplicates make the target ambiguous.
 */
export async function findUserRow(db: Db, email: string, forUpdate = false): Promise<UserRow> {
  const rows = await userRows(db, email, forUpdate);
  const [row] = rows;
  if (row === undefined) throw permanent('not-found', `no user ${email} (pgpipe user list shows the users)`);
  if (rows.length > 1) {
    throw permanent(
      'conflict',
      `${email} has ${rows.length} rows in users; remove the duplicates first (pgpipe db init lists them)`,
    );
  }
  return row;
}

export async function userExists(db: Db, email: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM users WHERE ${sameAddress('email', '$1')} LIMIT 1`, [email])).rows.length > 0;
}

export async function insertUser(db: Db, user: NewUser): Promise<void> {
  await db.query('INSERT INTO users (email, pgpkey, password, maildir) VALUES ($1, $2, $3, $4)', [
    user.email,
    user.pgpkey,
    user.password,
    user.maildir,
  ]);
}

/** Replaces the row's stored keys (armored blocks, as the filter reads them). Call after findUserRow(..., true). */
export async function writeUserKeys(db: Db, email: string, pgpkey: string): Promise<void> {
  await db.query(`UPDATE users SET pgpkey = $2 WHERE ${sameAddress('email', '$1')}`, [email, pgpkey]);
}

/** Deletes every row of `email`; returns how many there were. */
export async function deleteUser(db: Db, email: string): Promise<number> {
  return (await db.query(`DELETE FROM users WHERE ${sameAddress('email', '$1')} RETURNING email`, [email])).rows.length;
}

/** Every row, by address (case-insensitively) then creation; never the password hash. */
export async function listUsers(db: Db): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    'SELECT email, pgpkey, maildir, created FROM users ORDER BY lower(email), created',
  );
  return rows;
}

/** Addresses with more than one row (case-insensitively), with their row count. */
export async function duplicateUsers(db: Db): Promise<{ value: string; rows: number }[]> {
  const { rows } = await db.query<{ value: string; rows: number }>(
    `SELECT lower(email) AS value, count(*)::int AS rows FROM users
      GROUP BY lower(email) HAVING count(*) > 1 ORDER BY 1`,
  );
  return rows;
}

/** The domains of the users rows, lower-cased by the database: with local_domains, where bare aliases apply. */
export async function userDomains(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ domain: string }>(
    `SELECT DISTINCT lower(${domainPart('email')}) AS domain FROM users WHERE ${domainPart('email')} <> '' ORDER BY 1`,
  );
  return rows.map((r) => r.domain).filter((d) => d !== '');
}
