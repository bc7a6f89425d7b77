// `pgpipe key check [--within DAYS]`: every users row's keys judged at `now`: expired, expiring within DAYS,
// revoked, otherwise unusable, or no key at all. The CLI exits 1 when anything needs attention (cron mails it).
import { listUsers } from '../store/users.js';
import type { AdminDeps } from './admin-deps.js';
import { formatDay, formatTable } from './format-table.js';
import { summarizeStoredKeys, type KeySummary } from './summarize-key.js';

export type KeyHealth = 'ok' | 'expiring' | 'expired' | 'revoked' | 'unusable' | 'no-key';

export interface KeyHealthEntry {
  readonly email: string;
  /** '' for a row without a key or a block that does not parse. */
  readonly fingerprint: string;
  readonly health: KeyHealth;
  /** One line for the admin, e.g. "stops encrypting on 2026-12-01 (in 10 days)". */
  readonly detail: string;
  /** When encryption to the key stops working (null: never, or unknown). */
  readonly until: Date | null;
}

export interface CheckKeysResult {
  readonly withinDays: number;
  readonly users: number;
  readonly keys: number;
  readonly entries: readonly KeyHealthEntry[];
  /** Entries whose health is not 'ok'. */
  readonly attention: number;
}

const DAY_MS = 86_400_000;

/** Pure: the health of one row's keys at `now`. A row without any key gives one 'no-key' entry. */
export function classifyKeys(
  email: string,
  keys: readonly KeySummary[],
  now: Date,
  withinDays: number,
): KeyHealthEntry[] {
  if (keys.length === 0) {
    return [
      {
        email,
        fingerprint: '',
        health: 'no-key',
        detail: 'no key stored: mail to it cannot be encrypted',
        until: null,
      },
    ];
  }
  return keys.map((key) => {
    const base = { email, fingerprint: key.fingerprint, until: key.encryptionExpires };
    if (!key.usable) {
      const health: KeyHealth =
        key.problem === 'expired' ? 'expired' : key.problem === 'revoked' ? 'revoked' : 'unusable';
      return { ...base, health, detail: key.reason ?? key.problem ?? 'unusable' };
    }
    const until = key.encryptionExpires;
    if (until !== null && until.getTime() - now.getTime() <= withinDays * DAY_MS) {
      const days = Math.max(0, Math.ceil((until.getTime() - now.getTime()) / DAY_MS));
      return {
        ...base,
        health: 'expiring',
        detail: `stops encrypting on ${formatDay(until)} (in ${days} day${days === 1 ? '' : 's'})`,
      };
    }
    return { ...base, health: 'ok', detail: until === null ? 'usable, no expiry' : `usable until ${formatDay(until)}` };
  });
}

export async function runCheckKeys(
  options: { withinDays?: number | undefined },
  deps: AdminDeps,
): Promise<CheckKeysResult> {
  const withinDays = options.withinDays ?? 30;
  const now = deps.now();
  const rows = await listUsers(deps.db);
  const entries: KeyHealthEntry[] = [];
  let keys = 0;
  for (const row of rows) {
    const summaries = await summarizeStoredKeys(row.pgpkey, now);
    keys += summaries.length;
    entries.push(...classifyKeys(row.email, summaries, now, withinDays));
  }
  return { withinDays, users: rows.length, keys, entries, attention: entries.filter((e) => e.health !== 'ok').length };
}

/** Only entries that need attention unless `all`; then a summary line. */
export function formatCheckKeys(result: CheckKeysResult, all = false): string {
  const shown = result.entries.filter((e) => all || e.health !== 'ok');
  const table =
    shown.length === 0
      ? ''
      : formatTable(
          ['EMAIL', 'FINGERPRINT', 'HEALTH', 'DETAIL'],
          shown.map((e) => [e.email, e.fingerprint || '-', e.health, e.detail]),
        );
  const summary =
    result.attention === 0
      ? `all ${result.keys} keys of ${result.users} users are fine for the next ${result.withinDays} days\n`
      : `${result.attention} of ${result.entries.length} entries need attention ` +
        `(${result.users} users, ${result.keys} keys, horizon ${result.withinDays} days)\n`;
  return `${table}${table === '' ? '' : '\n'}${summary}`;
}
