// `pgpipe key import --gnupg-home DIR [--apply] [--replace]`: the migration from gpgit, whose users' keys live in a
// GnuPG keyring. Each public key is validated exactly as `key set` validates it, and stored for every users row
// one of its (not revoked) user IDs names, by the store's one address rule (case-insensitive, in the database).
// Without --apply it only reports; with --apply every write happens in one transaction (all or nothing). A row
// that holds a different key keeps it (`key add` semantics) unless --replace, which makes the keyring's keys the
// row's only keys (`key set` semantics).
import { isPgpipeError } from '../errors.js';
import type { AdminDeps } from './admin-deps.js';
import { readGnupgHome, type KeyringKey } from './read-gnupg-home.js';
import { joinArmored, splitStoredKeys } from './split-stored-keys.js';
import { userRows, writeUserKeys, type UserRow } from '../store/users.js';
import { addressOf, validateKeyForWrite, type ValidatedKey } from './validate-key-for-write.js';

export interface ImportOptions {
  readonly gnupgHome: string;
  readonly apply?: boolean | undefined;
  readonly replace?: boolean | undefined;
}

/**
 * What happens to one key for one users row. set: the row had no key; add: kept beside the row's other keys;
 * replace: the row's other keys are dropped (--replace); already: the row holds this key already;
 * ambiguous: the address has several users rows, so none is written.
 */
export type ImportAction = 'set' | 'add' | 'replace' | 'already' | 'ambiguous';

export interface ImportTarget {
  readonly email: string;
  readonly action: ImportAction;
  /** For replace: the stored fingerprints that go ('' for a stored block that does not parse). */
  readonly replaces: readonly string[];
}

export interface ImportedKey {
  readonly fingerprint: string;
  readonly userIds: readonly string[];
  /** no-user: no users row carries any of its addresses; unusable: refused by key set's validation. */
  readonly status: 'usable' | 'unusable' | 'no-user';
  readonly reason: string | null;
  /** Addresses of its user IDs that have users rows (for an unusable key: whom it would have gone to). */
  readonly users: readonly string[];
  readonly targets: readonly ImportTarget[];
}

export interface ImportResult {
  readonly gnupgHome: string;
  readonly applied: boolean;
  readonly replace: boolean;
  readonly keys: readonly ImportedKey[];
  /** Users rows whose pgpkey was (or with --apply would be) written. */
  readonly usersChanged: number;
  readonly warnings: readonly string[];
}

interface Validated {
  readonly key: KeyringKey;
  readonly addresses: readonly string[];
  readonly validated: ValidatedKey | null;
  readonly reason: string | null;
}

export async function runImportKeys(options: ImportOptions, deps: AdminDeps): Promise<ImportResult> {
  const apply = options.apply === true;
  const replace = options.replace === true;
  const keyring = await readGnupgHome(options.gnupgHome);
  const warnings: string[] = [];
  const checked: Validated[] = [];
  for (const key of keyring) checked.push(await validate(key, deps.now(), warnings));

  return deps.db.transaction(async (db) => {
    // Rows by lower-cased address, each read once (and locked for the writes when applying).
    const rowsOf = new Map<string, UserRow[]>();
    for (const address of new Set(checked.flatMap((c) => c.addresses))) {
      rowsOf.set(address, await userRows(db, address, apply));
    }
    // Per users row: its stored keys and the keyring keys going to it, in keyring order.
    const plans = new Map<string, { row: UserRow; incoming: ValidatedKey[] }>();
    const keys: (Omit<ImportedKey, 'targets'> & { targets: (ImportTarget & { address: string })[] })[] = [];
    for (const c of checked) {
      const matched = c.addresses.filter((a) => (rowsOf.get(a) ?? []).length > 0);
      if (c.validated === null || matched.length === 0) {
        keys.push({
          fingerprint: c.key.fingerprint,
          userIds: c.key.userIds,
          users: matched,
          targets: [],
          status: c.validated === null ? 'unusable' : 'no-user',
          reason: c.reason ?? 'no users row has any of its addresses',
        });
        continue;
      }
      const targets: (ImportTarget & { address: string })[] = [];
      for (const address of matched) {
        const rows = rowsOf.get(address) ?? [];
        const [row] = rows;
        if (rows.length > 1 || row === undefined) {
          targets.push({ email: address, address, action: 'ambiguous', replaces: [] });
          warnings.push(
            `${address} has ${rows.length} rows in users; key ${c.key.fingerprint} not stored for it ` +
              '(remove the duplicates first: pgpipe db init lists them)',
          );
          continue;
        }
        // Keyed by the row itself: two user IDs that the database folds to one address reach one row once.
        const plan = plans.get(row.email) ?? { row, incoming: [] };
        plans.set(row.email, plan);
        if (plan.incoming.some((k) => k.fingerprint === c.key.fingerprint)) continue;
        plan.incoming.push(c.validated);
        targets.push({ email: row.email, address: row.email, action: 'set', replaces: [] }); // decided below
      }
      keys.push({
        fingerprint: c.key.fingerprint,
        userIds: c.key.userIds,
        users: matched,
        status: 'usable',
        reason: null,
        targets,
      });
    }

    let usersChanged = 0;
    const decided = new Map<string, { action: ImportAction; replaces: string[] }>();
    for (const [rowEmail, plan] of plans) {
      const stored = (await splitStoredKeys(plan.row.pgpkey)).filter((k) => k.armored.trim() !== '');
      const incomingFprs = new Set(plan.incoming.map((k) => k.fingerprint));
      const fresh = plan.incoming.filter((k) => !stored.some((s) => s.fingerprint === k.fingerprint));
      const others = stored.filter((s) => !incomingFprs.has(s.fingerprint));
      for (const k of plan.incoming) {
        // Under --replace every key of the row's new set reports what goes, the one already stored too.
        const action: ImportAction =
          replace && others.length > 0
            ? 'replace'
            : !fresh.includes(k)
              ? 'already'
              : others.length === 0
                ? 'set'
                : 'add';
        const replaces = action === 'replace' ? others.map((s) => s.fingerprint) : [];
        decided.set(`${k.fingerprint} ${rowEmail}`, { action, replaces });
      }
      const changes = fresh.length > 0 || (replace && others.length > 0);
      if (!changes) continue;
      usersChanged++;
      if (!apply) continue;
      // As `key add`: the existing text is kept as it is (not re-armored); --replace drops it as `key set` does.
      const kept = replace || plan.row.pgpkey.trim() === '' ? [] : [plan.row.pgpkey.trim()];
      const written = replace ? plan.incoming : fresh;
      await writeUserKeys(db, plan.row.email, joinArmored([...kept, ...written.map((k) => k.armored)]));
    }
    const final: ImportedKey[] = keys.map((k) => ({
      ...k,
      targets: k.targets.map(({ address, ...t }) =>
        t.action === 'ambiguous'
          ? t
          : { ...t, ...(decided.get(`${k.fingerprint} ${address}`) ?? { action: t.action, replaces: [] }) },
      ),
    }));
    return { gnupgHome: options.gnupgHome, applied: apply, replace, keys: final, usersChanged, warnings };
  });
}

/** Key set's validation, for the key's first address (the refusals do not depend on which one). */
async function validate(key: KeyringKey, now: Date, warnings: string[]): Promise<Validated> {
  const addresses = [...new Set(key.userIds.map(addressOf).filter((a) => a !== ''))].sort();
  try {
    const validation = await validateKeyForWrite(key.armored, { email: addresses[0] ?? '', now, allowOtherUid: true });
    const validated = validation.keys.find((k) => k.fingerprint === key.fingerprint) ?? validation.keys[0] ?? null;
    // The only warning about the address comes from allowOtherUid, which matching makes moot.
    warnings.push(...validation.warnings.filter((w) => !w.includes('--allow-other-uid')));
    return { key, addresses, validated, reason: validated === null ? 'gpg exported no usable key' : null };
  } catch (error) {
    if (!isPgpipeError(error) || error.code !== 'key.invalid') throw error;
    return { key, addresses, validated: null, reason: error.message };
  }
}

const VERB: Record<ImportAction, [dry: string, done: string]> = {
  set: ['would set', 'set'],
  add: ['would add', 'added'],
  replace: ['would replace', 'replaced'],
  already: ['already there', 'already there'],
  ambiguous: ['not stored (duplicate users rows)', 'not stored (duplicate users rows)'],
};

export function formatImportKeys(result: ImportResult): string {
  const lines: string[] = [];
  for (const key of result.keys) {
    if (key.status !== 'usable') {
      const uids = key.userIds.length > 0 ? key.userIds.join(', ') : 'no user ID';
      const whom = key.users.length > 0 ? ` (not stored for ${key.users.join(', ')})` : '';
      lines.push(
        key.status === 'no-user'
          ? `${key.fingerprint}  no matching user: ${uids}`
          : `${key.fingerprint}  unusable${whom}: ${key.reason ?? ''}`,
      );
      continue;
    }
    for (const target of key.targets) {
      const verb = VERB[target.action][result.applied ? 1 : 0];
      const tail =
        target.action === 'add'
          ? ' (its other keys are kept; --replace drops them)'
          : target.action === 'replace'
            ? ` (drops ${target.replaces.map((f) => f || 'an unparsable block').join(', ')})`
            : '';
      lines.push(`${key.fingerprint}  ${verb} ${target.email}${tail}`);
    }
  }
  if (result.keys.length === 0) lines.push(`no public keys in ${result.gnupgHome}`);
  lines.push(
    result.applied
      ? `${result.usersChanged} user(s) changed`
      : `dry run: ${result.usersChanged} user(s) would change; nothing was written (run again with --apply)`,
  );
  return `${lines.join('\n')}\n`;
}
