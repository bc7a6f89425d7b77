// `pgpipe alias add ALIAS EMAIL`: one aliases row, ALIAS either a full address or the tutorial's bare local part
// (`astronaut57`, matching that local part in the server's own domains only). Several targets per alias make a
// distribution list. Refuses exact duplicates and rows the lookup could never use or that loop. The row is judged
// by the filter's own resolver, inside the transaction that inserts it: what is refused here is exactly what the
// filter would not follow.
import { permanent } from '../errors.js';
import { aliasRowExists, aliasRows, insertAlias } from '../store/aliases.js';
import { DEFAULT_ADDRESSING } from '../store/address-match.js';
import { expandRecipients, MAX_ALIAS_HOPS } from '../store/resolve-recipients.js';
import { userDomains, userExists } from '../store/users.js';
import type { AdminDeps } from './admin-deps.js';
import { checkAliasName, checkEmail, type AliasName } from './check-address.js';

export interface AliasAddResult {
  readonly alias: string;
  readonly kind: AliasName['kind'];
  readonly email: string;
  readonly warnings: readonly string[];
}

// Stands in for "one of the local domains" when judging a bare local part on a server that has none yet.
const PROBE_DOMAIN = 'local-domain.pgpipe.invalid';

export async function runAliasAdd(options: { alias: string; email: string }, deps: AdminDeps): Promise<AliasAddResult> {
  const { alias, kind } = checkAliasName(options.alias);
  const email = checkEmail(options.email);
  if (alias === email) throw permanent('usage', `alias ${alias} would point to itself`);
  const addressing = deps.addressing ?? DEFAULT_ADDRESSING;
  return deps.db.transaction(async (db) => {
    if (await aliasRowExists(db, { alias, email })) {
      throw permanent('conflict', `alias ${alias} -> ${email} already exists`);
    }
    const existing = await aliasRows(db, alias);
    if (kind === 'address' && (await userExists(db, alias))) {
      throw permanent('conflict', `${alias} is a user's own address; an alias with that name would never be used`);
    }
    const domains =
      kind === 'local-part' ? [...new Set([...(await userDomains(db)), ...(addressing.localDomains ?? [])])] : [];
    await insertAlias(db, { alias, email });
    // Resolve the alias as the filter will, with the new row in place (the transaction rolls back on refusal); a
    // bare local part in each local domain, since the chains behind it can differ per domain.
    const probes =
      kind === 'address' ? [alias] : (domains.length === 0 ? [PROBE_DOMAIN] : domains).map((d) => `${alias}@${d}`);
    const localDomains = [...(addressing.localDomains ?? []), ...(domains.length === 0 ? [PROBE_DOMAIN] : [])];
    const expansions = await expandRecipients(db, probes, { ...addressing, localDomains });
    if (expansions.some((e) => e.loop)) throw permanent('conflict', `alias ${alias} -> ${email} would create a loop`);
    if (expansions.some((e) => e.record.unresolved !== undefined)) {
      throw permanent(
        'conflict',
        `alias ${alias} -> ${email} leads through more than ${MAX_ALIAS_HOPS} aliases; pgpipe would not follow it`,
      );
    }
    const warnings: string[] = [];
    const ends = [...new Map(expansions.flatMap((e) => e.ends).map((end) => [end.address, end])).values()];
    for (const end of ends.filter((e) => e.user === null)) {
      warnings.push(
        `${end.address} is not a pgpipe user, so mail to ${alias} is not encrypted for it ` +
          `unless ${end.address} gets a key`,
      );
    }
    const keyed = ends.filter((e) => (e.pgpkey ?? '').trim() !== '').length;
    if (keyed > 0 && keyed < ends.length) {
      warnings.push(
        `${alias} mixes members with and without a key: the filter sends each member its own copy, ` +
          'encrypted for those with a key, as sent for the others',
      );
    }
    if (existing.length > 0) {
      // Several rows per alias are a distribution list: the filter sends every target its own readable copy.
      const targets = [...existing.map((r) => r.email), email].join(', ');
      warnings.push(`alias ${alias} now has ${existing.length + 1} targets (${targets}); each gets the mail`);
    }
    if (kind === 'local-part') {
      warnings.push(
        domains.length === 0
          ? `${alias} is a bare local part: it applies only to the server's own domains (those of the users rows ` +
              'and local_domains), and there is none yet'
          : `${alias} is a bare local part: it matches ${alias}@ each of the server's own domains ` +
              `(${domains.join(', ')}), not other domains`,
      );
    }
    return { alias, kind, email, warnings };
  });
}

export function formatAliasAdd(result: AliasAddResult): string {
  return `added alias ${result.alias} -> ${result.email}\n`;
}
