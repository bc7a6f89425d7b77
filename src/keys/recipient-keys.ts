// Turns one store record into the keys to encrypt to, or a short reason why there are none.
// The verdict per key comes from inspectKeys; this file groups the reports (per alias member) and words the reason.
import type { RecipientRecord, RecipientTarget } from '../store/types.js';
import type { InspectKeys, KeyReport } from './types.js';
import { inspectKeys } from './inspect-keys.js';
import { MAX_ALIAS_HOPS } from '../store/resolve-recipients.js';

export type RecipientKeys =
  | { kind: 'keys'; address: string; user: string; usable: KeyReport[]; unusable: KeyReport[] }
  | { kind: 'no-key'; address: string } // no user row, or an empty pgpkey (for an alias: some member has none)
  | { kind: 'unusable'; address: string; user: string; unusable: KeyReport[]; reason: string };

/** `inspect` turns each stored text into reports: inspectKeys, or serve's memo of it (report-cache.ts). */
export async function recipientKeys(
  record: RecipientRecord,
  now: Date = new Date(),
  inspect: InspectKeys = inspectKeys,
): Promise<RecipientKeys> {
  const { address, user, pgpkey, targets } = record;
  if (targets !== undefined && targets.length > 1) return aliasKeys(record, targets, now, inspect);
  if (record.unresolved !== undefined) return beyondHopLimit(address);
  if (user === null || pgpkey === null || pgpkey.trim() === '') return { kind: 'no-key', address };
  const reports = await inspect(pgpkey, now);
  const usable = reports.filter((r) => r.usable);
  const unusable = reports.filter((r) => !r.usable);
  if (usable.length > 0) return { kind: 'keys', address, user, usable, unusable };
  return { kind: 'unusable', address, user, unusable, reason: unusableReason(unusable) };
}

/**
 * Each final address of an alias with several, judged alone (its address is the member's, as stored in
 * aliases.email): what the filter needs to give every member its own copy when the members differ (some with a key,
 * some without). Null for a record that is not such an alias.
 */
export async function memberKeys(
  record: RecipientRecord,
  now: Date = new Date(),
  inspect: InspectKeys = inspectKeys,
): Promise<RecipientKeys[] | null> {
  const { targets } = record;
  if (targets === undefined || targets.length <= 1) return null;
  return Promise.all(targets.map((target) => targetKeys(target, now, inspect)));
}

function targetKeys(target: RecipientTarget, now: Date, inspect: InspectKeys): Promise<RecipientKeys> {
  if (target.unresolved !== undefined) return Promise.resolve(beyondHopLimit(target.address));
  return recipientKeys(
    { address: target.address, user: target.user, via: target.user === null ? null : 'user', pgpkey: target.pgpkey },
    now,
    inspect,
  );
}

/**
 * An alias chain longer than the resolver follows may end at anybody, with a key or without: neither "no key" (the
 * mail would reach a keyed user in clear) nor any key can be right, so it is unusable (held by default).
 */
function beyondHopLimit(address: string): RecipientKeys {
  return { kind: 'unusable', address, user: address, unusable: [], reason: HOP_REASON };
}

const HOP_REASON = `alias chain longer than ${MAX_ALIAS_HOPS} hops: who receives it is unknown`;

/**
 * An alias delivers to every member, so each member must be able to read the message: judged one member at a
 * time (one usable key each is enough), never from the concatenated text, where one member's key would cover all.
 * A member with only unusable keys makes the whole alias unusable (defer, as that member alone would be); else a
 * member without a key makes it no-key (as that member alone would be).
 */
async function aliasKeys(
  record: RecipientRecord,
  targets: readonly RecipientTarget[],
  now: Date,
  inspect: InspectKeys,
): Promise<RecipientKeys> {
  return combineMembers(record, await Promise.all(targets.map((target) => targetKeys(target, now, inspect))));
}

/** The one verdict for an alias from its members' (memberKeys), by the rule above. */
export function combineMembers(
  record: Pick<RecipientRecord, 'address' | 'user'>,
  members: readonly RecipientKeys[],
): RecipientKeys {
  const { address } = record;
  const dead = members.find((m) => m.kind === 'unusable');
  if (dead?.kind === 'unusable') {
    const reason = `alias member ${dead.address}: ${dead.reason}`;
    return { kind: 'unusable', address, user: dead.user, unusable: dead.unusable, reason };
  }
  const keyed = members.flatMap((m) => (m.kind === 'keys' ? [m] : []));
  const user = record.user ?? keyed[0]?.user ?? null;
  if (keyed.length < members.length || user === null || keyed.length === 0) return { kind: 'no-key', address };
  const usable = keyed.flatMap((m) => m.usable);
  return { kind: 'keys', address, user, usable, unusable: keyed.flatMap((m) => m.unusable) };
}

/** `expired on 2025-01-01` for one key; `no usable key (2 keys: expired, revoked)` for several. */
export function unusableReason(reports: readonly KeyReport[]): string {
  const [only] = reports;
  if (reports.length === 1 && only !== undefined) return only.reason ?? only.problem ?? 'unusable key';
  // Grouped so a row with 100 dead keys still gives one short line: "expired ×99, revoked".
  const counts = new Map<string, number>();
  for (const r of reports) counts.set(r.problem ?? 'unusable', (counts.get(r.problem ?? 'unusable') ?? 0) + 1);
  const problems = [...counts].map(([problem, n]) => (n === 1 ? problem : `${problem} ×${n}`));
  return `no usable key (${reports.length} keys: ${problems.join(', ')})`;
}
