// `pgpipe user add`: one users row with a validated key, a salted Dovecot password hash and the tutorial's maildir.
// Everything is checked before the transaction starts; the INSERT and the "does it exist" check share it.
import { permanent } from '../errors.js';
import { aliasRows } from '../store/aliases.js';
import { insertUser, userExists } from '../store/users.js';
import type { AdminDeps } from './admin-deps.js';
import { checkEmail, checkMaildir } from './check-address.js';
import { checkPasswordHash, hashPassword } from './hash-password.js';
import type { KeySummary } from './summarize-key.js';
import { joinArmored } from './split-stored-keys.js';
import { validateKeyForWrite } from './validate-key-for-write.js';

export interface AddUserOptions {
  readonly email: string;
  /** The key file's content (armored text, or a binary export). */
  readonly key: string | Buffer;
  /** Exactly one of password (to be hashed here) and passwordHash (already hashed, `{SCHEME}...`). */
  readonly password?: string | undefined;
  readonly passwordHash?: string | undefined;
  readonly maildir?: string | undefined;
  readonly allowOtherUid?: boolean | undefined;
}

export interface AddUserResult {
  readonly email: string;
  readonly maildir: string;
  readonly keys: readonly KeySummary[];
  readonly warnings: readonly string[];
}

export async function runAddUser(options: AddUserOptions, deps: AdminDeps): Promise<AddUserResult> {
  const email = checkEmail(options.email);
  const maildir = checkMaildir(options.maildir, email);
  if ((options.password === undefined) === (options.passwordHash === undefined)) {
    throw permanent('usage', 'give exactly one of --password-stdin and --password-hash HASH');
  }
  const password =
    options.passwordHash !== undefined ? checkPasswordHash(options.passwordHash) : hashPassword(options.password ?? '');
  const now = deps.now();
  const validation = await validateKeyForWrite(options.key, {
    email,
    now,
    allowOtherUid: options.allowOtherUid === true,
  });
  const warnings = [...validation.warnings];

  await deps.db.transaction(async (db) => {
    if (await userExists(db, email)) {
      throw permanent('conflict', `user ${email} already exists; change its keys with pgpipe key set/add`);
    }
    if ((await aliasRows(db, email)).length > 0) {
      warnings.push(`an alias ${email} exists too; the new user row takes precedence over it`);
    }
    await insertUser(db, { email, pgpkey: joinArmored(validation.keys.map((k) => k.armored)), password, maildir });
  });
  return { email, maildir, keys: validation.keys.map((k) => k.summary), warnings };
}

export function formatAddUser(result: AddUserResult): string {
  const fprs = result.keys.map((k) => k.fingerprint).join(', ');
  return (
    `added ${result.email} (maildir ${result.maildir}) ` +
    `with ${result.keys.length} key${result.keys.length === 1 ? '' : 's'}: ${fprs}\n`
  );
}
