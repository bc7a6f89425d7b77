// Opens the configured store: PostgreSQL when a URL is set, else the embedded PGlite store in the data dir.
// Both adapters are imported lazily so each path loads only its own driver (PGlite is large and slow to load).
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/load-config.js';
import type { Db } from './types.js';

/** Failures are temporary('db.unavailable'); the embedded store gets the tutorial's tables on first open. */
export async function openDb(config: Config): Promise<Db> {
  if (config.databaseUrl !== undefined) {
    const { createPgDb } = await import('./pg-db.js');
    return createPgDb(config.databaseUrl, config.dbTimeoutMs);
  }
  const [{ createEmbeddedDb }, { ensureTutorialTables }] = await Promise.all([
    import('./embedded-db.js'),
    import('./tutorial-schema.js'),
  ]);
  const db = await createEmbeddedDb(embeddedDataDir(config), config.dbTimeoutMs);
  try {
    await ensureTutorialTables(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/** config.dataDir, else $XDG_DATA_HOME/pgpipe/db, else ~/.local/share/pgpipe/db. */
export function embeddedDataDir(config: Pick<Config, 'dataDir'>, env: NodeJS.ProcessEnv = process.env): string {
  if (config.dataDir !== undefined) return config.dataDir;
  const xdg = env.XDG_DATA_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'share');
  return join(base, 'pgpipe', 'db');
}
