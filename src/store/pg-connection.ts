// What every PostgreSQL connection pgpipe makes shares, whether one Client (pg-db.ts) or a pool (pg-pool.ts): the
// URL handling, the fail-fast timeouts, and the one mapping of a driver failure to db.unavailable / db.schema.
import { userInfo } from 'node:os';
import type { ClientConfig, QueryResult as PgResult } from 'pg';
import { dbFailure } from './db-errors.js';
import type { QueryResult } from './types.js';

/** `timeoutMs` bounds connect and each statement (server side), with a client-side backstop just after it. */
export function pgClientConfig(url: string, timeoutMs: number): ClientConfig {
  return {
    connectionString: withUser(url),
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    // Client-side backstop for a server that vanishes without closing the socket.
    query_timeout: timeoutMs + 500,
    keepAlive: true,
    application_name: 'pgpipe',
  };
}

/** Anything that runs a parameterised query the pg way: a Client, a PoolClient or a Pool. */
interface Queryable {
  query(sql: string, params: unknown[]): Promise<PgResult>;
}

/** Runs one statement; every failure becomes a PgpipeError that names its class only (see db-errors.ts). */
export async function pgQuery<Row>(
  target: Queryable,
  sql: string,
  params: readonly unknown[],
): Promise<QueryResult<Row>> {
  try {
    const result = await target.query(sql, params as unknown[]);
    return { rows: result.rows as Row[] };
  } catch (error) {
    throw dbFailure(error, 'query');
  }
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
