// `pgpipe db probe` (hidden; run by doctor as the filter's Unix user): the same reads the filter does, nothing else.
// Prints no row data: only whether both tables could be read.
import type { AdminDeps } from './admin-deps.js';

export async function runProbeTables(deps: Pick<AdminDeps, 'db'>): Promise<{ users: boolean; aliases: boolean }> {
  await deps.db.query('SELECT email, pgpkey FROM users LIMIT 1');
  await deps.db.query('SELECT alias, email FROM aliases LIMIT 1');
  return { users: true, aliases: true };
}
