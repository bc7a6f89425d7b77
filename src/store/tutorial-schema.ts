// The tutorial's two tables, verbatim, and the idempotent variant the embedded store runs on first open.
// No indexes or unique keys: pgpipe must work on the tables exactly as the tutorial creates them.
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
  for (const statement of IF_NOT_EXISTS_SQL.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    await db.query(statement);
  }
}
