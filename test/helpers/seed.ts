// The tests' one seeder: puts users (and aliases) into the tutorial's tables through the store's own modules
// (openDb, store/users.ts, store/aliases.ts): the embedded PGlite store in a data dir, or a real PostgreSQL by URL.
// Rows go in as given (no checks), so tests can store the junk and duplicates a hand-edited table may hold.
import { loadConfig } from '../../src/config/load-config.js';
import { insertAlias } from '../../src/store/aliases.js';
import { openDb } from '../../src/store/open-db.js';
import type { Db } from '../../src/store/types.js';
import { insertUser } from '../../src/store/users.js';

/** Where pgpipe will look: `{ dataDir }` for the embedded store, `{ databaseUrl }` for PostgreSQL. */
export type StoreTarget = { readonly dataDir: string } | { readonly databaseUrl: string };

export interface SeedUser {
  readonly email: string;
  /** What goes into users.pgpkey verbatim (one or several armored blocks, or junk for negative tests). */
  readonly pgpkey: string;
}

export interface SeedAlias {
  readonly alias: string;
  readonly email: string;
}

/** The flags that make `bin/pgpipe` use the same store. */
export const storeArgs = (target: StoreTarget): string[] =>
  'dataDir' in target ? ['--data-dir', target.dataDir] : ['--db', target.databaseUrl];

/** Inserts the rows the way the tutorial's INSERT does (password/maildir filled with placeholders). */
export async function seedStore(
  target: StoreTarget,
  users: readonly SeedUser[],
  aliases: readonly SeedAlias[] = [],
): Promise<void> {
  const config = loadConfig({ flags: { ...target }, env: {}, configPath: '/dev/null' });
  const db = await openDb(config);
  try {
    await seedDb(db, users, aliases);
  } finally {
    await db.close();
  }
}

/** The same into a store the test has open already. */
export async function seedDb(db: Db, users: readonly SeedUser[], aliases: readonly SeedAlias[] = []): Promise<void> {
  for (const user of users) {
    const maildir = `${user.email.split('@')[1] ?? 'local'}/${user.email.split('@')[0] ?? 'user'}/`;
    await insertUser(db, {
      email: user.email,
      pgpkey: user.pgpkey,
      password: '{SHA512-CRYPT}$6$test$not-a-real-hash',
      maildir,
    });
  }
  for (const alias of aliases) await insertAlias(db, { alias: alias.alias, email: alias.email });
}
