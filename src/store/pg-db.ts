// Db on a real PostgreSQL server through one pg Client. Fails fast: connect and statement timeouts come from
// config, and every failure becomes temporary db.unavailable (Postfix defers). Never puts SQL values in errors.
import pg from 'pg';
import type { Db, QueryResult } from './types.js';
import { dbFailure } from './db-errors.js';
import { pgClientConfig, pgQuery } from './pg-connection.js';
import { withTransaction } from './with-transaction.js';

export { withUser } from './pg-connection.js';

/** Connects now (so a dead server is noticed before any work); `timeoutMs` bounds connect and each statement. */
export async function createPgDb(url: string, timeoutMs: number): Promise<Db> {
  const client = new pg.Client(pgClientConfig(url, timeoutMs));
  let broken: unknown = null;
  // Without a listener a server-side disconnect is an uncaught 'error' event and kills the process.
  client.on('error', (error) => {
    broken = error;
  });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw dbFailure(error, 'connect');
  }
  const db: Db = {
    kind: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      if (broken !== null) throw dbFailure(broken, 'query');
      return pgQuery<Row>(client, sql, params);
    },
    transaction: (fn) => withTransaction(db, fn),
    async close(): Promise<void> {
      await client.end().catch(() => undefined);
    },
  };
  return db;
}
