// `pgpipe key set EMAIL FILE`: rotation. Replaces every stored key of the user with the validated new one(s).
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';
import { splitStoredKeys, joinArmored } from './split-stored-keys.js';
import type { KeySummary } from './summarize-key.js';
import { findUserRow, writeUserKeys } from '../store/users.js';
import { validateKeyForWrite } from './validate-key-for-write.js';

export interface KeyWriteOptions {
  readonly email: string;
  readonly key: string | Buffer;
  readonly allowOtherUid?: boolean | undefined;
}

export interface SetKeyResult {
  readonly email: string;
  /** Fingerprints that were stored before and are gone now. */
  readonly replaced: readonly string[];
  readonly keys: readonly KeySummary[];
  readonly warnings: readonly string[];
}

export async function runSetKey(options: KeyWriteOptions, deps: AdminDeps): Promise<SetKeyResult> {
  const email = checkEmail(options.email);
  const validation = await validateKeyForWrite(options.key, {
    email,
    now: deps.now(),
    allowOtherUid: options.allowOtherUid === true,
  });
  return deps.db.transaction(async (db) => {
    const row = await findUserRow(db, email, true);
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
