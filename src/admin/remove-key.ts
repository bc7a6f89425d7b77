// `pgpipe key remove EMAIL FINGERPRINT`: drops one key. users.pgpkey is NOT NULL and an empty value would make
// pgpipe deliver that user's mail unencrypted, so removing the last usable key is refused: use `key set`.
import { permanent } from '../errors.js';
import { inspectKeys } from '../keys/inspect-keys.js';
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';
import { joinArmored, normalizeFingerprint, splitStoredKeys } from './split-stored-keys.js';
import { findUserRow, writeUserKeys } from '../store/users.js';

export interface RemoveKeyResult {
  readonly email: string;
  readonly removed: string;
  readonly remaining: readonly string[];
}

export async function runRemoveKey(
  options: { email: string; fingerprint: string },
  deps: AdminDeps,
): Promise<RemoveKeyResult> {
  const email = checkEmail(options.email);
  const wanted = normalizeFingerprint(options.fingerprint);
  if (!/^([0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/.test(wanted)) {
    throw permanent(
      'usage',
      'give the full fingerprint (40 or 64 hex digits) or the 16-digit key ID, as pgpipe key show prints it',
    );
  }
  return deps.db.transaction(async (db) => {
    const row = await findUserRow(db, email, true);
    const stored = await splitStoredKeys(row.pgpkey);
    const matches = stored.filter(
      (k) => k.fingerprint !== '' && (k.fingerprint === wanted || k.fingerprint.endsWith(wanted)),
    );
    const target = matches[0];
    if (target === undefined) {
      const has =
        stored
          .map((k) => k.fingerprint)
          .filter((f) => f !== '')
          .join(', ') || 'none';
      throw permanent('not-found', `${row.email} has no key ${wanted} (stored: ${has})`);
    }
    if (matches.length > 1)
      throw permanent('usage', `key ID ${wanted} matches ${matches.length} keys; give the full fingerprint`);
    const rest = stored.filter((k) => k !== target);
    const remaining = joinArmored(rest.map((k) => k.armored));
    const usable = rest.length === 0 ? [] : (await inspectKeys(remaining, deps.now())).filter((r) => r.usable);
    if (usable.length === 0) {
      throw permanent(
        'conflict',
        `removing key ${target.fingerprint} would leave ${row.email} without a usable key; ` +
          `replace it with pgpipe key set ${row.email} FILE`,
      );
    }
    await writeUserKeys(db, email, remaining);
    return {
      email: row.email,
      removed: target.fingerprint,
      remaining: rest.map((k) => k.fingerprint || '(unparsable block)'),
    };
  });
}

export function formatRemoveKey(result: RemoveKeyResult): string {
  return `removed key ${result.removed} from ${result.email}; remaining: ${result.remaining.join(', ')}\n`;
}
