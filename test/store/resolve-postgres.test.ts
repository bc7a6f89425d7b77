// resolveRecipients against a real PostgreSQL cluster created with the tutorial's SQL.
import { after, before } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { openDb } from '../../src/store/open-db.js';
import { startPostgres } from '../helpers/pg-cluster.js';
import type { PgCluster } from '../helpers/pg-cluster.js';
import { defineResolveCases } from './resolve-cases.js';

let cluster: PgCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => cluster.stop());

defineResolveCases('PostgreSQL', async () => {
  const db = await openDb(loadConfig({ flags: { databaseUrl: cluster.url, dbTimeoutMs: 5000 }, env: {} }));
  return { db, close: () => db.close() };
});
