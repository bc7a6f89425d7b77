// Runs the same admin tests against a throwaway PostgreSQL cluster and the embedded PGlite store.
import { after, before, beforeEach, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/load-config.js';
import { openDb } from '../../src/store/open-db.js';
import type { Db } from '../../src/store/types.js';
import type { AdminDeps } from '../../src/admin/admin-deps.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';

export interface StoreContext {
  readonly kind: 'postgres' | 'embedded';
  readonly db: Db;
  readonly config: Config;
  /** Only for the PostgreSQL store. */
  readonly cluster: PgCluster | null;
  readonly deps: AdminDeps;
  /** Both tables, every column, in a stable order: compare before/after a refused write. */
  dump(): Promise<string>;
}

export function configFor(flags: Record<string, unknown>): Config {
  // /dev/null as the config file: a real /etc/pgpipe/pgpipe.conf on the test machine must not leak in.
  return loadConfig({ flags, env: { PGPIPE_CONFIG: '/dev/null' } });
}

// Stores are shared by all suites of one test file (creating PGlite takes ~10 s): opened by the first suite of a
// kind, closed by the last one's after(). Suites are counted when registered, before any of them runs.
const registered = { postgres: 0, embedded: 0 };
const open = new Map<StoreContext['kind'], Promise<{ context: StoreContext; close(): Promise<void> }>>();

async function openStore(kind: StoreContext['kind']): Promise<{ context: StoreContext; close(): Promise<void> }> {
  let cluster: PgCluster | null = null;
  let dataDir: string | null = null;
  let config: Config;
  if (kind === 'postgres') {
    cluster = await startPostgres();
    config = configFor({ databaseUrl: cluster.url });
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'pgpipe-admin-'));
    config = configFor({ dataDir: seedEmbeddedDir(join(dataDir, 'db')) });
  }
  const db = await openDb(config);
  const context: StoreContext = {
    kind,
    db,
    config,
    cluster,
    deps: { db, now: () => new Date() },
    dump: () => dumpTables(db),
  };
  return {
    context,
    async close() {
      await db.close();
      await cluster?.stop();
      if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** describe(`<name> [postgres]`) and describe(`<name> [embedded]`); both tables are emptied before each test. */
export function forEachStore(name: string, body: (store: () => StoreContext) => void): void {
  for (const kind of ['postgres', 'embedded'] as const) {
    registered[kind]++;
    describe(`${name} [${kind}]`, () => {
      let context: StoreContext | null = null;
      before(async () => {
        let opening = open.get(kind);
        if (opening === undefined) {
          opening = openStore(kind);
          open.set(kind, opening);
        }
        context = (await opening).context;
      });
      after(async () => {
        registered[kind]--;
        const opening = open.get(kind);
        if (registered[kind] === 0 && opening !== undefined) {
          open.delete(kind);
          await (await opening).close();
        }
      });
      beforeEach(async () => {
        await context?.db.query('DELETE FROM users');
        await context?.db.query('DELETE FROM aliases');
      });
      body(() => {
        if (context === null) throw new Error('store not started');
        return context;
      });
    });
  }
}

export async function dumpTables(db: Db): Promise<string> {
  const users = await db.query(
    'SELECT email, pgpkey, password, maildir, created FROM users ORDER BY email, pgpkey, password, maildir, created',
  );
  const aliases = await db.query('SELECT alias, email FROM aliases ORDER BY alias, email');
  return JSON.stringify({ users: users.rows, aliases: aliases.rows });
}
