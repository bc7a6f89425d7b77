// `pgpipe db probe` (hidden; run by doctor as the filter's Unix user): the same read the filter does, nothing else.
// It runs the filter's own resolver query (both tables) for an address that matches nothing. Prints no row data.
import { resolveRecipients } from '../store/resolve-recipients.js';
import { DEFAULT_ADDRESSING } from '../store/address-match.js';
import type { AdminDeps } from './admin-deps.js';

export async function runProbeTables(
  deps: Pick<AdminDeps, 'db' | 'addressing'>,
): Promise<{ users: boolean; aliases: boolean }> {
  await resolveRecipients(deps.db, ['pgpipe-probe+x@probe.invalid'], deps.addressing ?? DEFAULT_ADDRESSING);
  return { users: true, aliases: true };
}
