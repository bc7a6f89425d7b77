// `pgpipe alias list [--email EMAIL]`: the aliases rows, each with its form (full address or bare local part)
// and what its target is (a user, another alias, or nothing pgpipe knows). Read-only.
import { DEFAULT_ADDRESSING } from '../store/address-match.js';
import { listAliases } from '../store/aliases.js';
import { resolveRecipients } from '../store/resolve-recipients.js';
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';
import { formatTable } from './format-table.js';

export interface AliasEntry {
  readonly alias: string;
  readonly email: string;
  readonly kind: 'address' | 'local-part';
  readonly target: 'user' | 'alias' | 'unknown';
}

export async function runAliasList(
  options: { email?: string | undefined },
  deps: AdminDeps,
): Promise<{ aliases: AliasEntry[] }> {
  const email = options.email === undefined ? null : checkEmail(options.email);
  const rows = await listAliases(deps.db, email);
  // What each target is, as the filter's resolver sees it (users row first, then aliases, local domains applied).
  const targets = [...new Set(rows.map((r) => r.email))];
  const records = await resolveRecipients(deps.db, targets, deps.addressing ?? DEFAULT_ADDRESSING);
  const via = new Map(records.map((r) => [r.address, r.via]));
  return {
    aliases: rows.map((r) => ({
      alias: r.alias,
      email: r.email,
      kind: r.alias.includes('@') ? 'address' : 'local-part',
      target: via.get(r.email) === 'user' ? 'user' : via.get(r.email) === 'alias' ? 'alias' : 'unknown',
    })),
  };
}

export function formatAliasList(result: { aliases: readonly AliasEntry[] }): string {
  if (result.aliases.length === 0) return 'no aliases\n';
  return formatTable(
    ['ALIAS', 'EMAIL', 'FORM', 'TARGET'],
    result.aliases.map((a) => [a.alias, a.email, a.kind, a.target === 'unknown' ? 'not a user' : a.target]),
  );
}
