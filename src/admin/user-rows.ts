// Reads and rewrites the users row of one address (case-insensitive, as the filter matches) for the key commands.
// The tutorial's table has no unique key, so "one row" is checked here rather than assumed.
import { permanent } from '../errors.js';
import type { Db } from '../store/types.js';

export interface UserRow {
  readonly email: string;
  readonly pgpkey: string;
  readonly maildir: string;
  readonly created: Date | null;
}

/**
 * The single users row for `email`, locked FOR UPDATE when `forUpdate` (call inside a transaction).
 * Throws not-found when there is none and conflict when duplicates make the target ambiguous.
 */
export async function findUserRow(db: Db, email: string, forUpdate = false): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `SELECT email, pgpkey, maildir, created FROM users WHERE lower(email) = lower($1)${forUpdate ? ' FOR UPDATE' : ''}`,
    [email],
  );
  const [row] = rows;
  if (row === undefined) throw permanent('not-found', `no user ${email} (pgpipe user list shows the users)`);
  if (rows.length > 1) {
    throw permanent('conflict', `${email} has ${rows.length} rows in users; remove the duplicates first (pgpipe db init lists them)`);
  }
  return row;
}

/** Replaces the row's stored keys (armored blocks, as the filter reads them). Call after findUserRow(..., true). */
export async function writeUserKeys(db: Db, email: string, pgpkey: string): Promise<void> {
  await db.query('UPDATE users SET pgpkey = $2 WHERE lower(email) = lower($1)', [email, pgpkey]);
}
