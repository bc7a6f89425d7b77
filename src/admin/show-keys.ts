// `pgpipe key show EMAIL`: per stored key its fingerprint, algorithm and size, creation and expiry, user IDs,
// and whether pgpipe can encrypt to it (or why not). Read-only.
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';
import { formatDay, printable } from './format-table.js';
import { summarizeStoredKeys, type KeySummary } from './summarize-key.js';
import { findUserRow } from '../store/users.js';

export interface ShowKeysResult {
  readonly email: string;
  readonly keys: readonly KeySummary[];
}

export async function runShowKeys(options: { email: string }, deps: AdminDeps): Promise<ShowKeysResult> {
  const email = checkEmail(options.email);
  const row = await findUserRow(deps.db, email);
  return { email: row.email, keys: await summarizeStoredKeys(row.pgpkey, deps.now()) };
}

export function formatShowKeys(result: ShowKeysResult): string {
  if (result.keys.length === 0) return `${result.email}: no key stored (mail to it cannot be encrypted)\n`;
  const blocks = result.keys.map((k) => {
    const encryption =
      k.encryptionExpires !== null && k.encryptionExpires.getTime() !== k.expires?.getTime()
        ? ` (encryption subkey until ${formatDay(k.encryptionExpires)})`
        : '';
    const lines = [
      ['fingerprint', k.fingerprint || '-'],
      ['algorithm', k.algorithm || '-'],
      ['created', formatDay(k.created, '-')],
      ['expires', `${formatDay(k.expires)}${encryption}`],
      ['user IDs', k.userIds.length === 0 ? '-' : k.userIds.map(printable).join('\n               ')],
      ['status', k.usable ? 'usable' : `unusable: ${k.reason ?? k.problem ?? 'unknown'}`],
    ];
    return lines.map(([name, value]) => `  ${(name ?? '').padEnd(12)} ${value ?? ''}`).join('\n');
  });
  return `${result.email}: ${result.keys.length} key${result.keys.length === 1 ? '' : 's'}\n${blocks.join('\n\n')}\n`;
}
