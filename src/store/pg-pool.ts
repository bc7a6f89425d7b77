// Db on a real PostgreSQL server through a pg.Pool, for a resident process (`pgpipe serve`): connections are made
// once and reused, a connection the server dropped (a restart) is replaced on the next query, and no driver event
// can crash the process. Same URL handling, timeouts and error mapping as the one-Client adapter (pg-connection.ts).
import pg from 'pg';
import type { PoolClient } from 'pg';
import type { Db, QueryResult } from './types.js';
import { dbFailure } from './db-errors.js';
import { pgClientConfig, pgQuery } from './pg-connection.js';
import { withTransaction } from './with-transaction.js';

// Kept open while idle, so a quiet server's next message pays no connect; the rest close after IDLE_MS unused.
const WARM_CONNECTIONS = 2;
const IDLE_MS = 30_000;

/**
 * Connects lazily (the first query opens the first connection), so a process started while the server is down
 * comes up and answers with db.unavailable until it is back. `timeoutMs` bounds connect, each statement and the
 * wait for a free connection when all `max` are busy. Failures are PgpipeError db.unavailable / db.schema.
 */
export function createPgPool(url: string, timeoutMs: number, max: number): Db {
  const pool = new pg.Pool({
    ...pgClientConfig(url, timeoutMs),
    max,
    min: Math.min(WARM_CONNECTIONS, max),
    idleTimeoutMillis: IDLE_MS,
  });
  // An idle connection's error (the server restarted or killed its backend) arrives here, after the pool has
  // already dropped that connection; the next query opens a new one. Without a listener it would be an uncaught
  // 'error' event and end the process.
  pool.on('error', () => undefined);
  let closed: Promise<void> | null = null;
  return {
    kind: 'postgres',
    query: <Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> =>
      pgQuery<Row>(pool, sql, params),
    transaction: (fn) => onOneClient(pool, fn),
    close(): Promise<void> {
      // Waits for checked-out connections to come back; a second close() shares the first one's wait.
      closed ??= pool.end().catch(() => undefined);
      return closed;
    },
  };
}

/** BEGIN..COMMIT must run on one connection: checks one out for the whole of fn. */
async function onOneClient<T>(pool: pg.Pool, fn: (db: Db) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw dbFailure(error, 'connect');
  }
  // A checked-out client has no pool listener: its error between two statements must not crash the process.
  let broken: unknown = null;
  const onError = (error: unknown): void => {
    broken = error;
  };
  client.on('error', onError);
  const db: Db = {
    kind: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      if (broken !== null) throw dbFailure(broken, 'query');
      return pgQuery<Row>(client, sql, params);
    },
    // Nested: joins the transaction already open on this connection (a second BEGIN would only warn).
    transaction: (inner) => inner(db),
    // The pool owns the connection; closing it is the outer Db's business.
    close: async () => undefined,
  };
  let failed = false;
  try {
    return await withTransaction(db, fn);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    client.removeListener('error', onError);
    // After a failure the connection's state is unknown (ROLLBACK may not have run): never hand it out again.
    client.release(failed || broken !== null);
  }
}
