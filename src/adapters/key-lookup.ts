// The KeyLookup port on the tutorial's users/aliases tables: one connection, one batched resolve, then each
// stored key text inspected. Any store failure stays a PgpipeError from src/store (db.* → temporary → defer).
import type { Config } from '../config/load-config.js';
import type { KeyLookup, KeyState } from '../filter/ports.js';
import { recipientKeys, type RecipientKeys } from '../keys/recipient-keys.js';
import { openDb } from '../store/open-db.js';
import { resolveRecipients } from '../store/resolve-recipients.js';
import type { Db } from '../store/types.js';

/** Pure: the filter only needs the usable keys with their fingerprints, or why there are none. */
export function keyStateOf(keys: RecipientKeys): KeyState {
  switch (keys.kind) {
    case 'no-key':
      return { kind: 'no-key' };
    case 'unusable':
      return { kind: 'unusable', reason: keys.reason };
    case 'keys': {
      const usable = keys.usable.filter((report) => report.key !== null);
      // A report marked usable without a parsed key would be a keys-module bug; never encrypt to nothing.
      if (usable.length === 0) return { kind: 'unusable', reason: 'no parsed key' };
      return {
        kind: 'keys',
        keys: usable.map((report) => report.key).filter((key) => key !== null),
        fingerprints: usable.map((report) => report.fingerprint),
      };
    }
  }
}

/**
 * A PostgreSQL connection is closed without waiting (its end() is 2-12 ms of wall time before encryption could
 * start); errors from that close are ignored, and the pending socket end keeps the process alive only until it is
 * done. The embedded store is awaited: its close releases the data directory's lock and must finish.
 */
export async function closeInBackground(db: Db): Promise<void> {
  if (db.kind === 'postgres') void db.close().catch(() => undefined);
  else await db.close().catch(() => undefined);
}

export function createKeyLookup(config: Config): KeyLookup {
  return {
    async lookup(addresses, signal) {
      const db = await openDb(config);
      try {
        signal.throwIfAborted();
        const records = await resolveRecipients(db, addresses, { delimiter: config.recipientDelimiter });
        const states = new Map<string, KeyState>();
        const now = new Date();
        for (const record of records) states.set(record.address, keyStateOf(await recipientKeys(record, now)));
        return states;
      } finally {
        // PostgreSQL: closed in the background (not on the path to encryption); embedded: awaited (its lock).
        await closeInBackground(db);
      }
    },
  };
}
