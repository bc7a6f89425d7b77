// `pgpipe user list`: every users row with its maildir and a one-word key verdict. Never prints password hashes.
import { listUsers } from '../store/users.js';
import type { AdminDeps } from './admin-deps.js';
import { formatDay, formatTable } from './format-table.js';
import { summarizeStoredKeys } from './summarize-key.js';

export interface UserListEntry {
  readonly email: string;
  readonly maildir: string;
  readonly created: Date | null;
  readonly keys: number;
  readonly usableKeys: number;
  /** 'ok', 'no key', or the first unusable key's reason when none is usable. */
  readonly status: string;
}

export async function runListUsers(deps: AdminDeps): Promise<{ users: UserListEntry[] }> {
  const now = deps.now();
  const rows = await listUsers(deps.db);
  const users: UserListEntry[] = [];
  for (const row of rows) {
    const keys = await summarizeStoredKeys(row.pgpkey, now);
    const usable = keys.filter((k) => k.usable).length;
    const firstProblem = keys.find((k) => !k.usable);
    const status =
      keys.length === 0
        ? 'no key'
        : usable > 0
          ? usable === keys.length
            ? 'ok'
            : `ok (${keys.length - usable} unusable key${keys.length - usable === 1 ? '' : 's'})`
          : `unusable: ${firstProblem?.reason ?? firstProblem?.problem ?? 'unknown'}`;
    users.push({
      email: row.email,
      maildir: row.maildir,
      created: row.created,
      keys: keys.length,
      usableKeys: usable,
      status,
    });
  }
  return { users };
}

export function formatListUsers(result: { users: readonly UserListEntry[] }): string {
  if (result.users.length === 0) return 'no users (add one with pgpipe user add EMAIL --key FILE --password-stdin)\n';
  return formatTable(
    ['EMAIL', 'MAILDIR', 'KEYS', 'STATUS', 'CREATED'],
    result.users.map((u) => [u.email, u.maildir, String(u.keys), u.status, formatDay(u.created, '-')]),
  );
}
