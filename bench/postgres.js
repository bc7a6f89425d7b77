// Starts the bench's key store: a throwaway PostgreSQL cluster from the test suite's startPostgres()
// (test/helpers/pg-cluster.ts, loaded through tsx) with the tutorial's tables, and stores the bench keys in users
// with the tests' seeder (test/helpers/seed.ts).
import { join } from 'node:path';

/**
 * @param {string} root repository root
 * @param {{ email: string, publicArmored: string }[]} keys
 * @returns {Promise<{ url: string, stop(): Promise<void> }>}
 */
export async function startKeyDatabase(root, keys) {
  const { tsImport } = await import('tsx/esm/api');
  const [{ startPostgres }, { seedStore }] = await Promise.all([
    tsImport(join(root, 'test/helpers/pg-cluster.ts'), import.meta.url),
    tsImport(join(root, 'test/helpers/seed.ts'), import.meta.url),
  ]);
  const cluster = await startPostgres();
  // One users row per recipient, through the tests' seeder (the store's own insertUser).
  await seedStore(
    { databaseUrl: cluster.url },
    keys.map((key) => ({ email: key.email, pgpkey: key.publicArmored })),
  );
  return { url: cluster.url, stop: () => cluster.stop() };
}
