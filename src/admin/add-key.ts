// `pgpipe key add EMAIL FILE`: another device's key, stored alongside the existing ones (mail is encrypted to
// every usable key). A fingerprint that is already stored is refused; the existing text is kept as it is.
import { permanent } from '../errors.js';
import type { AdminDeps } from './admin-deps.js';
import { withLockedKeyWrite, type KeyWriteOptions } from './locked-key-write.js';
import { joinArmored, splitStoredKeys } from './split-stored-keys.js';
import type { KeySummary } from './summarize-key.js';
import { writeUserKeys } from '../store/users.js';

export interface AddKeyResult {
  readonly email: string;
  readonly added: readonly KeySummary[];
  /** How many keys the user has now. */
  readonly total: number;
  readonly warnings: readonly string[];
}

export async function runAddKey(options: KeyWriteOptions, deps: AdminDeps): Promise<AddKeyResult> {
  return withLockedKeyWrite(options, deps, async ({ db, email, row, validation }) => {
    const stored = await splitStoredKeys(row.pgpkey);
    const duplicate = validation.keys.find((k) => stored.some((s) => s.fingerprint === k.fingerprint));
    if (duplicate !== undefined) {
      throw permanent('conflict', `key ${duplicate.fingerprint} is already stored for ${row.email}`);
    }
    const existing = row.pgpkey.trim() === '' ? [] : [row.pgpkey.trim()];
    await writeUserKeys(db, email, joinArmored([...existing, ...validation.keys.map((k) => k.armored)]));
    return {
      email: row.email,
      added: validation.keys.map((k) => k.summary),
      total: stored.length + validation.keys.length,
      warnings: validation.warnings,
    };
  });
}

export function formatAddKey(result: AddKeyResult): string {
  return (
    `added key ${result.added.map((k) => k.fingerprint).join(', ')} ` +
    `to ${result.email} (${result.total} keys now)\n`
  );
}
