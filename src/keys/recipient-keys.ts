// Turns one store record into the keys to encrypt to, or a short reason why there are none.
// The verdict per key comes from inspectKeys; this file groups the reports (per alias member) and words the reason.
import type { RecipientRecord, RecipientTarget } from '../store/types.js';
import type { KeyReport } from './types.js';
import { inspectKeys } from './inspect-keys.js';

export type RecipientKeys =
  | { kind: 'keys'; address: string; user: string; usable: KeyReport[]; unusable: KeyReport[] }
  | { kind: 'no-key'; address: string } // no user row, or an empty pgpkey (for an alias: some member has none)
  | { kind: 'unusable'; address: string; user: string; unusable: KeyReport[]; reason: string };

export async function recipientKeys(record: RecipientRecord, now: Date = new Date()): Promise<RecipientKeys> {
  const { address, user, pgpkey, targets } = record;
  if (targets !== undefined && targets.length > 1) return aliasKeys(record, targets, now);
  if (user === null || pgpkey === null || pgpkey.trim() === '') return { kind: 'no-key', address };
  const reports = await inspectKeys(pgpkey, now);
  const usable = reports.filter((r) => r.usable);
  const unusable = reports.filter((r) => !r.usable);
  if (usable.length > 0) return { kind: 'keys', address, user, usable, unusable };
  return { kind: 'unusable', address, user, unusable, reason: unusableReason(unusable) };
}

/**
 * An alias delivers to every member, so each member must be able to read the message: judged one member at a
 * time (one usable key each is enough), never from the concatenated text, where one member's key would cover all.
 * A member with only unusable keys makes the whole alias unusable (defer, as that member alone would be); else a
 * member without a key makes it no-key (as that member alone would be).
 */
async function aliasKeys(record: RecipientRecord, targets: readonly RecipientTarget[], now: Date): Promise<RecipientKeys> {
  const { address } = record;
  const usable: KeyReport[] = [];
  const unusable: KeyReport[] = [];
  let missing = false;
  for (const target of targets) {
    if (target.user === null || target.pgpkey === null || target.pgpkey.trim() === '') {
      missing = true;
      continue;
    }
    const alone = { address: target.address, user: target.user, via: 'user', pgpkey: target.pgpkey } as const;
    const member = await recipientKeys(alone, now);
    if (member.kind === 'unusable') {
      return { kind: 'unusable', address, user: target.user, unusable: member.unusable,
        reason: `alias member ${target.address}: ${member.reason}` };
    }
    if (member.kind === 'keys') {
      usable.push(...member.usable);
      unusable.push(...member.unusable);
    }
  }
  const user = record.user ?? targets.find((t) => t.user !== null)?.user ?? null;
  if (missing || user === null || usable.length === 0) return { kind: 'no-key', address };
  return { kind: 'keys', address, user, usable, unusable };
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
