// Turns one store record into the keys to encrypt to, or a short reason why there are none.
// The verdict per key comes from inspectKeys; this file only groups the reports and words the reason.
import type { RecipientRecord } from '../store/types.js';
import type { KeyReport } from './types.js';
import { inspectKeys } from './inspect-keys.js';

export type RecipientKeys =
  | { kind: 'keys'; address: string; user: string; usable: KeyReport[]; unusable: KeyReport[] }
  | { kind: 'no-key'; address: string } // no user row, or an empty pgpkey
  | { kind: 'unusable'; address: string; user: string; unusable: KeyReport[]; reason: string };

export async function recipientKeys(record: RecipientRecord, now: Date = new Date()): Promise<RecipientKeys> {
  const { address, user, pgpkey } = record;
  if (user === null || pgpkey === null || pgpkey.trim() === '') return { kind: 'no-key', address };
  const reports = await inspectKeys(pgpkey, now);
  const usable = reports.filter((r) => r.usable);
  const unusable = reports.filter((r) => !r.usable);
  if (usable.length > 0) return { kind: 'keys', address, user, usable, unusable };
  return { kind: 'unusable', address, user, unusable, reason: unusableReason(unusable) };
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
