// The key lookup shared by `filter` (as its KeyLookup port) and `encrypt`, on the tutorial's users/aliases tables.
import type { Config } from '../config/load-config.js';
import type { KeyLookup, KeyState, MemberState } from '../filter/ports.js';
import { inspectKeys } from '../keys/inspect-keys.js';
import { combineMembers, memberKeys, recipientKeys, type RecipientKeys } from '../keys/recipient-keys.js';
import type { InspectKeys } from '../keys/types.js';
import { addressOptionsFrom } from '../store/address-match.js';
import { openDb } from '../store/open-db.js';
import { resolveRecipients } from '../store/resolve-recipients.js';
import type { Db } from '../store/types.js';

/** Pure: the filter only needs the usable keys with their fingerprints, or why there are none. */
export function keyStateOf(keys: RecipientKeys): MemberState {
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

/** One recipient's keys; for an alias with several final addresses also each member's own (see memberKeys). */
export interface RecipientLookup {
  readonly keys: RecipientKeys;
  readonly members: readonly RecipientKeys[] | null;
}

/**
 * The one key lookup of every command (filter, encrypt): one connection, one batched resolve through the
 * resolver, then each stored key text inspected. Any store failure stays a PgpipeError from src/store (db.* →
 * temporary → defer).
 */
export async function lookupRecipientKeys(
  config: Config,
  addresses: readonly string[],
  signal?: AbortSignal,
): Promise<RecipientLookup[]> {
  const db = await openDb(config);
  try {
    return await lookupIn(db, config, addresses, inspectKeys, signal);
  } finally {
    // PostgreSQL: closed in the background (not on the path to encryption); embedded: awaited (its lock).
    await closeInBackground(db);
  }
}

/**
 * The lookup itself on a store that is already open (its owner closes it): the rows are read now, on every call,
 * so a key changed by an admin command that has returned is what the next lookup sees; `inspect` only parses.
 */
async function lookupIn(
  db: Db,
  config: Pick<Config, 'recipientDelimiter' | 'localDomains'>,
  addresses: readonly string[],
  inspect: InspectKeys,
  signal?: AbortSignal,
): Promise<RecipientLookup[]> {
  signal?.throwIfAborted();
  const records = await resolveRecipients(db, addresses, addressOptionsFrom(config));
  const now = new Date();
  const found: RecipientLookup[] = [];
  for (const record of records) {
    // Each member's keys are inspected once; the alias's own verdict is made from them.
    const members = await memberKeys(record, now, inspect);
    const keys = members === null ? await recipientKeys(record, now, inspect) : combineMembers(record, members);
    found.push({ keys, members });
  }
  return found;
}

/** Pure: the filter's view of one lookup; an alias's members each keep their own state. */
export function filterStateOf(found: RecipientLookup): KeyState {
  if (found.members === null) return keyStateOf(found.keys);
  return { kind: 'members', members: found.members.map((m) => ({ address: m.address, state: keyStateOf(m) })) };
}

export function createKeyLookup(config: Config): KeyLookup {
  return keyLookupOver((addresses, signal) => lookupRecipientKeys(config, addresses, signal));
}

/**
 * The same lookup on a long-lived store (serve's pool), with serve's memo of parsed key texts; `db` stays open (its
 * owner closes it). Only the addressing settings of `config` are read (recipient delimiter, local domains).
 */
export function createWarmKeyLookup(
  config: Pick<Config, 'recipientDelimiter' | 'localDomains'>,
  db: Db,
  inspect: InspectKeys,
): KeyLookup {
  return keyLookupOver((addresses, signal) => lookupIn(db, config, addresses, inspect, signal));
}

function keyLookupOver(
  find: (addresses: readonly string[], signal: AbortSignal) => Promise<RecipientLookup[]>,
): KeyLookup {
  return {
    async lookup(addresses, signal) {
      const found = await find(addresses, signal);
      return new Map(found.map((entry, i) => [addresses[i] ?? entry.keys.address, filterStateOf(entry)]));
    },
  };
}
