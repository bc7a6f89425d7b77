// `pgpipe user remove`: deletes the users row(s) of one address; aliases pointing at it are kept (and named)
// unless --with-aliases. Mail already in the maildir is not touched.
import { permanent } from '../errors.js';
import { aliasesTo, deleteAliasesTo } from '../store/aliases.js';
import { deleteUser } from '../store/users.js';
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';

export interface RemoveUserResult {
  readonly email: string;
  readonly removedRows: number;
  readonly removedAliases: readonly string[];
  readonly warnings: readonly string[];
}

export async function runRemoveUser(
  options: { email: string; withAliases?: boolean | undefined },
  deps: AdminDeps,
): Promise<RemoveUserResult> {
  const email = checkEmail(options.email);
  return deps.db.transaction(async (db) => {
    const removedRows = await deleteUser(db, email);
    if (removedRows === 0) throw permanent('not-found', `no user ${email} (pgpipe user list shows the users)`);
    const aliases = options.withAliases === true ? await deleteAliasesTo(db, email) : await aliasesTo(db, email);
    const names = aliases.map((r) => r.alias);
    const warnings =
      options.withAliases === true || names.length === 0
        ? []
        : [
            `aliases still point to ${email}: ${names.join(', ')} ` +
              `(remove them with pgpipe alias remove, or use --with-aliases)`,
          ];
    return { email, removedRows, removedAliases: options.withAliases === true ? names : [], warnings };
  });
}

export function formatRemoveUser(result: RemoveUserResult): string {
  const aliases =
    result.removedAliases.length > 0
      ? ` and alias${result.removedAliases.length === 1 ? '' : 'es'} ${result.removedAliases.join(', ')}`
      : '';
  return `removed ${result.email}${aliases}\n`;
}
