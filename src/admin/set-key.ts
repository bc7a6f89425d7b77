// `pgpipe key set EMAIL FILE`: rotation. Replaces every stored key of the user with the validated new one(s).
import type { AdminDeps } from './admin-deps.js';
import { withLockedKeyWrite, type KeyWriteOptions } from './locked-key-write.js';
import { splitStoredKeys, joinArmored } from './split-stored-keys.js';
import type { KeySummary } from './summarize-key.js';
import { writeUserKeys } from '../store/users.js';

export type { KeyWriteOptions } from './locked-key-write.js';

export interface SetKeyResult {
  readonly email: string;
  /** Fingerprints that were stored before and are gone now. */
  readonly replaced: readonly string[];
  readonly keys: readonly KeySummary[];
  readonly warnings: readonly string[];
}

export async function runSetKey(options: KeyWriteOptions, deps: AdminDeps): Promise<SetKeyResult> {
  return withLockedKeyWrite(options, deps, async ({ db, email, row, validation }) => {
    const before = (await splitStoredKeys(row.pgpkey)).map((k) => k.fingerprint || '(unparsable block)');
    const after = new Set(validation.keys.map((k) => k.fingerprint));
    await writeUserKeys(db, email, joinArmored(validation.keys.map((k) => k.armored)));
    return {
      email: row.email,
      replaced: before.filter((f) => !after.has(f)),
      keys: validation.keys.map((k) => k.summary),
      warnings: validation.warnings,
    };
  });
}

export function formatSetKey(result: SetKeyResult): string {
  const replaced = result.replaced.length > 0 ? ` (replaced ${result.replaced.join(', ')})` : '';
  return `${result.email} now has key ${result.keys.map((k) => k.fingerprint).join(', ')}${replaced}\n`;
}
