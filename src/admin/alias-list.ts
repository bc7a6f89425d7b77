// `pgpipe alias list [--email EMAIL]`: the aliases rows, each with its form (full address or bare local part)
// and what its target is (a user, another alias, or nothing pgpipe knows). Read-only.
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';
import { formatTable } from './format-table.js';

export interface AliasEntry {
  readonly alias: string;
  readonly email: string;
  readonly kind: 'address' | 'local-part';
  readonly target: 'user' | 'alias' | 'unknown';
}

export async function runAliasList(options: { email?: string | undefined }, deps: AdminDeps): Promise<{ aliases: AliasEntry[] }> {
  const email = options.email === undefined ? null : checkEmail(options.email);
  const { rows } = await deps.db.query<{ alias: string; email: string; is_user: boolean; is_alias: boolean }>(
    `SELECT a.alias, a.email,
            EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower(a.email)) AS is_user,
            EXISTS (SELECT 1 FROM aliases b WHERE lower(b.alias) = lower(a.email)
                       OR lower(b.alias) = lower(split_part(a.email, '@', 1))) AS is_alias
       FROM aliases a WHERE $1::text IS NULL OR lower(a.email) = $1 OR lower(a.alias) = $1
      ORDER BY lower(a.email), lower(a.alias)`,
    [email],
  );
  return {
    aliases: rows.map((r) => ({
      alias: r.alias,
      email: r.email,
      kind: r.alias.includes('@') ? 'address' : 'local-part',
      target: r.is_user ? 'user' : r.is_alias ? 'alias' : 'unknown',
    })),
  };
}

export function formatAliasList(result: { aliases: readonly AliasEntry[] }): string {
  if (result.aliases.length === 0) return 'no aliases\n';
  return formatTable(['ALIAS', 'EMAIL', 'FORM', 'TARGET'],
    result.aliases.map((a) => [a.alias, a.email, a.kind, a.target === 'unknown' ? 'not a user' : a.target]));
}
