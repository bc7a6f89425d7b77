// Turns a KeyReport into what the admin commands print and return as JSON: plain data, no PublicKey object,
// plus the date mail to the key stops working (the primary's or the encryption subkey's expiry, whichever is first).
import type { Subkey } from 'openpgp';
import { inspectKeys } from '../keys/inspect-keys.js';
import type { KeyReport } from '../keys/types.js';

export interface KeySummary {
  readonly fingerprint: string;
  readonly version: number;
  readonly algorithm: string;
  readonly created: Date | null;
  /** Primary key expiry; null = never. */
  readonly expires: Date | null;
  /** When encryption to this key stops working: min(primary expiry, chosen encryption subkey's expiry). */
  readonly encryptionExpires: Date | null;
  readonly userIds: readonly string[];
  readonly usable: boolean;
  readonly problem: string | null;
  readonly reason: string | null;
}

export async function summarizeKey(report: KeyReport, now: Date): Promise<KeySummary> {
  return {
    fingerprint: report.fingerprint,
    version: report.version,
    algorithm: report.algorithm,
    created: report.created,
    expires: report.expires,
    encryptionExpires: await encryptionExpiry(report, now),
    userIds: report.userIds,
    usable: report.usable,
    problem: report.problem,
    reason: report.reason,
  };
}

async function encryptionExpiry(report: KeyReport, now: Date): Promise<Date | null> {
  let expires = report.expires;
  if (report.key !== null) {
    try {
      const part = await report.key.getEncryptionKey(undefined, now);
      if (part !== report.key) {
        const subkey = await (part as Subkey).getExpirationTime(now);
        if (subkey instanceof Date && (expires === null || subkey < expires)) expires = subkey;
      }
    } catch {
      // inspectKeys already judged the key usable; an odd subkey only loses the earlier date.
    }
  }
  return expires;
}

/** Every key in a users.pgpkey value; an empty (or blank) value has none. */
export async function summarizeStoredKeys(pgpkey: string, now: Date): Promise<KeySummary[]> {
  if (pgpkey.trim() === '') return [];
  return Promise.all((await inspectKeys(pgpkey, now)).map((report) => summarizeKey(report, now)));
}
