// The common start of `key set` and `key add`: validate the new key(s) for the address before touching the store
// (a bad key is refused without a transaction), then lock the user's row so concurrent key writes serialise.
import type { AdminDeps } from './admin-deps.js';
import { checkEmail } from './check-address.js';
import type { KeyValidation } from './validate-key-for-write.js';
import { validateKeyForWrite } from './validate-key-for-write.js';
import type { Db } from '../store/types.js';
import { findUserRow, type UserRow } from '../store/users.js';

export interface KeyWriteOptions {
  readonly email: string;
  readonly key: string | Buffer;
  readonly allowOtherUid?: boolean | undefined;
}

export interface LockedKeyWrite {
  readonly db: Db;
  /** The address as checked (what the caller writes back with). */
  readonly email: string;
  /** The user's row, locked FOR UPDATE until the transaction ends. */
  readonly row: UserRow;
  readonly validation: KeyValidation;
}

export async function withLockedKeyWrite<T>(
  options: KeyWriteOptions,
  deps: AdminDeps,
  fn: (write: LockedKeyWrite) => Promise<T>,
): Promise<T> {
  const email = checkEmail(options.email);
  const validation = await validateKeyForWrite(options.key, {
    email,
    now: deps.now(),
    allowOtherUid: options.allowOtherUid === true,
  });
  return deps.db.transaction(async (db) => fn({ db, email, row: await findUserRow(db, email, true), validation }));
}
