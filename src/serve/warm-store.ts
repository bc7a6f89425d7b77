// What `pgpipe serve` keeps warm between messages for the key lookup: a PostgreSQL pool and a short-lived memo of
// parsed key texts. The users/aliases rows are still read for every message (no row cache), so a key that `pgpipe
// key set/add/remove` (or `user`/`alias`) changed is what the next lookup after the command returned sees.
import { createWarmKeyLookup } from '../adapters/key-lookup.js';
import type { Config } from '../config/load-config.js';
import { permanent } from '../errors.js';
import type { KeyLookup } from '../filter/ports.js';
import { createReportCache, type ReportCacheStats } from '../keys/report-cache.js';
import { createPgPool } from '../store/pg-pool.js';

// A lookup holds a connection for one short indexed query per alias hop (well under a millisecond on a local
// server), so 10 connections answer thousands of lookups a second, more than encryption on the same machine can
// use. Lookups beyond that wait for a free connection (up to db_timeout, then db.unavailable: a 4xx). More would
// only take slots from PostgreSQL's max_connections (100 by default), which Postfix's and Dovecot's own SQL
// lookups share.
export const POOL_SIZE = 10;

export interface WarmStore {
  /** The key lookup on the pool and the memo, with the addressing settings of the config it was opened with. */
  readonly keys: KeyLookup;
  /** The same pool and memo with another config's addressing settings (recipient_delimiter, local_domains). */
  keysFor(config: Pick<Config, 'recipientDelimiter' | 'localDomains'>): KeyLookup;
  cacheStats(): ReportCacheStats;
  /** Ends the pool once the lookups in flight are done. */
  close(): Promise<void>;
}

/**
 * Connects lazily: started while PostgreSQL is down, serve comes up and every lookup fails with db.unavailable
 * (a 4xx, the mail stays queued) until the server is back. database_url, db_timeout and serve_key_cache are read
 * only here: a change to them needs a new store.
 */
export async function openWarmStore(config: Config): Promise<WarmStore> {
  if (config.databaseUrl === undefined) {
    // The embedded store admits one process at a time, and the admin commands must still be able to change keys.
    throw permanent('config.invalid', 'serve needs PostgreSQL: set database_url (or --db)');
  }
  const db = createPgPool(config.databaseUrl, config.dbTimeoutMs, POOL_SIZE);
  // The first connection now, so the first message does not wait for it; a server that is down is the lookups'
  // to report (db.unavailable), not a reason to refuse to start.
  void db.query('SELECT 1').catch(() => undefined);
  const cache = createReportCache({ ttlMs: config.serveKeyCacheMs });
  const keysFor = (addressing: Pick<Config, 'recipientDelimiter' | 'localDomains'>): KeyLookup =>
    createWarmKeyLookup(addressing, db, cache.inspect);
  return {
    keys: keysFor(config),
    keysFor,
    cacheStats: () => cache.stats(),
    close: () => db.close(),
  };
}
