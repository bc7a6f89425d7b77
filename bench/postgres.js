// Starts the bench's key store: a throwaway PostgreSQL cluster from the test suite's startPostgres()
// (test/helpers/pg-cluster.ts, loaded through tsx) with the tutorial's tables, and stores the bench keys in users.
import { join } from 'node:path';

function sqlString(text) {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * @param {string} root repository root
 * @param {{ email: string, publicArmored: string }[]} keys
 * @returns {Promise<{ url: string, stop(): Promise<void> }>}
 */
export async function startKeyDatabase(root, keys) {
  const { tsImport } = await import('tsx/esm/api');
  const { startPostgres } = await tsImport(join(root, 'test/helpers/pg-cluster.ts'), import.meta.url);
  const cluster = await startPostgres();
  // The tutorial's INSERT, one row per recipient (the password is a placeholder; pgpipe never reads it).
  const rows = keys
    .map((key) => `(${sqlString(key.email)}, ${sqlString(key.publicArmored)}, '{SHA512}bench', ${sqlString(`${key.email}/`)})`)
    .join(',\n');
  await cluster.psql(`INSERT INTO users (email, pgpkey, password, maildir) VALUES\n${rows};`);
  return { url: cluster.url, stop: () => cluster.stop() };
}
