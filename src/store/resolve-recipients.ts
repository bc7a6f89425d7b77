// Finds the users row (and so the pgpkey) for each envelope recipient in the tutorial's users/aliases tables: the
// one resolver every command uses (filter, encrypt, alias add/list, doctor). Parameterised, batched: one round trip
// per alias hop for the whole recipient list. Never builds SQL from values.
import { domainOf, isLocalDomain, localDomainsCte, sameAddress } from './address-match.js';
import type { AddressOptions, Db, RecipientRecord, RecipientTarget } from './types.js';

export const MAX_ALIAS_HOPS = 5;

// One query per hop. unnest ... WITH ORDINALITY ties each row to the candidate that matched; addresses match by the
// one rule of address-match.ts. A bare local-part candidate carries its address's domain (c.d) and matches only
// when that domain is one of the server's own, as Postfix's alias_maps apply only to local domains; full-address
// candidates carry NULL (an alias row naming the whole address applies wherever that address is).
const LOOKUP_SQL = `
WITH ${localDomainsCte('$4')}
SELECT 'u' AS kind, c.i AS i, u.email AS email, u.pgpkey AS pgpkey, u.created AS created
  FROM unnest($1::text[]) WITH ORDINALITY AS c(v, i) JOIN users u ON ${sameAddress('u.email', 'c.v')}
UNION ALL
SELECT 'a', c.i, a.email, NULL, NULL
  FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(v, d, i) JOIN aliases a ON ${sameAddress('a.alias', 'c.v')}
 WHERE c.d IS NULL OR ${isLocalDomain('c.d')}
ORDER BY 1, 2, 5 NULLS LAST, 3, 4`;

type Step = { kind: 'user'; email: string; pgpkey: string } | { kind: 'alias'; targets: string[] } | { kind: 'none' };

interface Candidates {
  users: string[]; // full address, then +extension-stripped
  aliases: string[]; // full, stripped, bare local part, stripped local part
}

/** What the resolver found for one address, with what only the admin checks need. */
export interface Expansion {
  readonly record: RecipientRecord;
  /** Some alias on the way points back to an alias it came through (Postfix ends such loops; mail goes nowhere). */
  readonly loop: boolean;
  /** Every final address, as in `record.targets` (which is only there when there are several). */
  readonly ends: readonly RecipientTarget[];
}

/** One record per input address, in input order. A users row wins over any alias. */
export async function resolveRecipients(
  db: Db,
  addresses: readonly string[],
  options: AddressOptions,
): Promise<RecipientRecord[]> {
  return (await expandRecipients(db, addresses, options)).map((expansion) => expansion.record);
}

/** resolveRecipients with loop detection (alias add refuses rows that loop). */
export async function expandRecipients(
  db: Db,
  addresses: readonly string[],
  options: AddressOptions,
): Promise<Expansion[]> {
  const steps = new Map<string, Step>();
  let pending = unique(addresses.filter(queryable));
  for (let hop = 0; hop <= MAX_ALIAS_HOPS && pending.length > 0; hop += 1) {
    const found = await lookup(db, pending, options);
    const next: string[] = [];
    for (const [address, step] of found) {
      steps.set(address, step);
      if (step.kind === 'alias') next.push(...step.targets.filter((t) => queryable(t) && !steps.has(t)));
    }
    pending = unique(next).filter((t) => !steps.has(t));
  }
  return addresses.map((address) => finish(address, steps));
}

function finish(address: string, steps: Map<string, Step>): Expansion {
  const first = steps.get(address);
  if (first === undefined || first.kind === 'none') {
    return { record: { address, user: null, via: null, pgpkey: null }, loop: false, ends: [] };
  }
  if (first.kind === 'user') {
    const record = { address, user: first.email, via: 'user', pgpkey: first.pgpkey } as const;
    return { record, loop: false, ends: [{ address, user: first.email, pgpkey: first.pgpkey }] };
  }
  // An alias with several rows expands to several addresses, and local(8) delivers to each of them after this
  // filter: collect every final address (depth-first, targets in sorted order), not just the first that has a key.
  const ends: RecipientTarget[] = [];
  const seen = new Set<string>([address]);
  const path = new Set<string>([address]);
  let loop = false;
  let unresolved = false;
  const walk = (targets: readonly string[], depth: number): void => {
    for (const target of targets) {
      if (path.has(target)) loop = true;
      if (seen.has(target)) continue; // alias loop, or a member reached twice
      seen.add(target);
      if (depth > MAX_ALIAS_HOPS) {
        // Not looked up: it may be an alias leading anywhere, so nobody can say whose keys the mail needs.
        unresolved = true;
        ends.push({ address: target, user: null, pgpkey: null, unresolved: 'hop-limit' });
        continue;
      }
      const step = steps.get(target);
      if (step?.kind === 'alias') {
        path.add(target);
        walk(step.targets, depth + 1);
        path.delete(target);
      } else if (step?.kind !== 'user') ends.push({ address: target, user: null, pgpkey: null });
      else if (!ends.some((end) => end.user === step.email)) {
        ends.push({ address: target, user: step.email, pgpkey: step.pgpkey });
      }
    }
  };
  walk(first.targets, 1);
  const reached = ends.filter((end) => end.user !== null);
  const record: RecipientRecord = {
    address,
    user: reached[0]?.user ?? null,
    via: 'alias',
    // All members' keys, as for duplicate users rows; recipientKeys checks each member through `targets`.
    pgpkey: reached.length > 0 ? reached.map((end) => end.pgpkey ?? '').join('\n') : null,
    ...(ends.length > 1 ? { targets: ends } : {}),
    ...(unresolved ? { unresolved: 'hop-limit' as const } : {}),
  };
  return { record, loop, ends };
}

async function lookup(db: Db, addresses: readonly string[], options: AddressOptions): Promise<Map<string, Step>> {
  const userValues: string[] = [];
  const aliasValues: string[] = [];
  const aliasDomains: (string | null)[] = []; // the address's domain for a bare local part, else null
  const userOwner: number[] = []; // candidate index → address index
  const aliasOwner: number[] = [];
  const userRank: number[] = []; // candidate index → priority within its address (lower wins)
  const aliasRank: number[] = [];
  addresses.forEach((address, owner) => {
    const c = candidatesFor(address, options.delimiter);
    const domain = domainOf(address);
    c.users.forEach((v, rank) => {
      userValues.push(v);
      userOwner.push(owner);
      userRank.push(rank);
    });
    c.aliases.forEach((v, rank) => {
      aliasValues.push(v);
      aliasDomains.push(rank < c.users.length ? null : domain); // users-list forms come first, then bare ones
      aliasOwner.push(owner);
      aliasRank.push(rank);
    });
  });
  const { rows } = await db.query<{ kind: 'u' | 'a'; i: number | string; email: string; pgpkey: string | null }>(
    LOOKUP_SQL,
    [userValues, aliasValues, aliasDomains, [...(options.localDomains ?? [])]],
  );
  // Best match per address: users before aliases, then by candidate rank; keep every row of the best rank.
  const best = new Map<number, { score: number; rows: { email: string; pgpkey: string | null }[] }>();
  for (const row of rows) {
    const index = Number(row.i) - 1;
    const isUser = row.kind === 'u';
    const owner = (isUser ? userOwner : aliasOwner)[index];
    const rank = (isUser ? userRank : aliasRank)[index];
    if (owner === undefined || rank === undefined) continue;
    const score = (isUser ? 0 : 100) + rank;
    const current = best.get(owner);
    if (current === undefined || score < current.score) best.set(owner, { score, rows: [row] });
    else if (score === current.score) current.rows.push(row);
  }
  const steps = new Map<string, Step>();
  addresses.forEach((address, owner) => {
    const match = best.get(owner);
    if (match === undefined) steps.set(address, { kind: 'none' });
    else if (match.score < 100) {
      // No unique key on users.email: several rows for one address → all their keys (rows come sorted).
      const [firstRow] = match.rows;
      const pgpkey = match.rows.map((r) => r.pgpkey ?? '').join('\n');
      steps.set(address, { kind: 'user', email: firstRow?.email ?? address, pgpkey });
    } else {
      steps.set(address, { kind: 'alias', targets: unique(match.rows.map((r) => r.email)).sort() });
    }
  });
  return steps;
}

/** The strings to try for one address, most specific first. Exported for tests. */
export function candidatesFor(address: string, delimiter: string): Candidates {
  const at = address.lastIndexOf('@');
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? '' : address.slice(at);
  const baseLocal = stripExtension(local, delimiter);
  const stripped = baseLocal === local ? null : `${baseLocal}${domain}`;
  const users = unique([address, ...(stripped === null ? [] : [stripped])]);
  const bare = at < 0 ? [] : [local, ...(stripped === null ? [] : [baseLocal])];
  const aliases = unique([...users, ...bare.filter((v) => v !== '')]);
  return { users, aliases };
}

/** Postfix recipient_delimiter: cut at the first delimiter char; never when it is the first char (e.g. "-x@"). */
export function stripExtension(local: string, delimiter: string): string {
  if (delimiter === '') return local;
  for (let i = 1; i < local.length; i += 1) {
    if (delimiter.includes(local[i] ?? '')) return local.slice(0, i);
  }
  return local;
}

// PostgreSQL text cannot hold NUL, so such an address cannot be stored: it has no record (and is never sent).
const queryable = (address: string): boolean => address !== '' && !address.includes('\0');

const unique = (values: readonly string[]): string[] => [...new Set(values)];
