// Db on a real PostgreSQL server through one pg Client. Fails fast: connect and statement timeouts come from
// config, and every failure becomes temporary db.unavailable (Postfix defers). Never puts SQL values in errors.
import { userInfo } from 'node:os';
import pg from 'pg';
import type { Db, QueryResult } from './types.js';
import { dbFailure } from './db-errors.js';
import { withTransaction } from './with-transaction.js';

/** Connects now (so a dead server is noticed before any work); `timeoutMs` bounds connect and each statement. */
export async function createPgDb(url: string, timeoutMs: number): Promise<Db> {
  const client = new pg.Client({
    connectionString: withUser(url),
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    // Client-side backstop for a server that vanishes without closing the socket.
    query_timeout: timeoutMs + 500,
    keepAlive: true,
    application_name: 'pgpipe',
  });
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
      try {
        const result = await client.query(sql, params as unknown[]);
        return { rows: result.rows as Row[] };
      } catch (error) {
        throw dbFailure(error, 'query');
      }
    },
    transaction: (fn) => withTransaction(db, fn),
    async close(): Promise<void> {
      await client.end().catch(() => undefined);
    },
  };
  return db;
}

/**
 * Postfix pipe(8) gives no USER/LOGNAME, and pg would then connect as "undefined"; name the OS user explicitly
 * (PGUSER still wins) when the URL has none.
 */
export function withUser(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // not a URL (pg reports the problem on connect)
  }
  if (parsed.username !== '' || parsed.searchParams.has('user')) return url;
  parsed.searchParams.set('user', process.env.PGUSER ?? userInfo().username);
  return parsed.toString();
}
