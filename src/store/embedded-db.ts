// Db on the embedded PGlite store (PostgreSQL in WebAssembly) in a local data dir. Loaded only through open-db's
// dynamic import, so the PostgreSQL path never pays for PGlite. One process at a time (see embedded-lock.ts).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db, QueryResult } from './types.js';
import { dbFailure } from './db-errors.js';
import { withTransaction } from './with-transaction.js';
import { lockDataDir } from './embedded-lock.js';

/** Opens (creating on first use, ~4 s) the store in dataDir; waits up to timeoutMs for another process's lock. */
export async function createEmbeddedDb(dataDir: string, timeoutMs: number): Promise<Db> {
  const release = await lockDataDir(dataDir, timeoutMs);
  let pglite: PGlite;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    pglite = await PGlite.create(dataDir);
  } catch (error) {
    release();
    throw dbFailure(error, 'connect');
  }
  let closed = false;
  const db: Db = {
    kind: 'embedded',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      if (closed) throw dbFailure(new Error('Client was closed and is not queryable'), 'query');
      try {
        const result = await pglite.query<Row>(sql, params as unknown[]);
        return { rows: result.rows };
      } catch (error) {
        throw dbFailure(error, 'query');
      }
    },
    transaction: (fn) => withTransaction(db, fn),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await pglite.close();
      } finally {
        release();
      }
    },
  };
  return db;
}
