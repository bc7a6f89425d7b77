// The one BEGIN/COMMIT/ROLLBACK body shared by both Db adapters (pg-db.ts, embedded-db.ts). No driver code here.
import type { Db } from './types.js';

/** Runs fn inside BEGIN/COMMIT; on any throw (fn or COMMIT) rolls back and rethrows fn's error, not ROLLBACK's. */
export async function withTransaction<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const value = await fn(db);
    await db.query('COMMIT');
    return value;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
