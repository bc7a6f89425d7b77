// `pgpipe alias remove ALIAS [EMAIL]`: deletes the aliases rows named ALIAS (exactly as written: a full address
// and a bare local part are different rows), only those to EMAIL when given.
import { permanent } from '../errors.js';
import { deleteAliases } from '../store/aliases.js';
import type { AdminDeps } from './admin-deps.js';
import { checkAliasName, checkEmail } from './check-address.js';

export interface AliasRemoveResult {
  readonly alias: string;
  readonly removed: readonly { readonly alias: string; readonly email: string }[];
}

export async function runAliasRemove(
  options: { alias: string; email?: string | undefined },
  deps: AdminDeps,
): Promise<AliasRemoveResult> {
  const { alias } = checkAliasName(options.alias);
  const email = options.email === undefined ? null : checkEmail(options.email);
  return deps.db.transaction(async (db) => {
    const rows = await deleteAliases(db, alias, email);
    if (rows.length === 0) {
      throw permanent(
        'not-found',
        `no alias ${alias}${email === null ? '' : ` -> ${email}`} (pgpipe alias list shows them)`,
      );
    }
    return { alias, removed: rows };
  });
}

export function formatAliasRemove(result: AliasRemoveResult): string {
  return result.removed.map((r) => `removed alias ${r.alias} -> ${r.email}\n`).join('');
}
