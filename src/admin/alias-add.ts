// `pgpipe alias add ALIAS EMAIL`: one aliases row, ALIAS either a full address or the tutorial's bare local part
// (`astronaut57`, matching that local part in every domain). Several targets per alias make a distribution list.
// Refuses exact duplicates and rows the lookup could never use or that loop.
import { permanent } from '../errors.js';
import type { Db } from '../store/types.js';
import type { AdminDeps } from './admin-deps.js';
import { checkAliasName, checkEmail, type AliasName } from './check-address.js';

export interface AliasAddResult {
  readonly alias: string;
  readonly kind: AliasName['kind'];
  readonly email: string;
  readonly warnings: readonly string[];
}

const MAX_HOPS = 5; // the filter follows alias chains at most this far

export async function runAliasAdd(options: { alias: string; email: string }, deps: AdminDeps): Promise<AliasAddResult> {
  const { alias, kind } = checkAliasName(options.alias);
  const email = checkEmail(options.email);
  if (alias === email) throw permanent('usage', `alias ${alias} would point to itself`);
  return deps.db.transaction(async (db) => {
    const existing = await db.query<{ email: string }>('SELECT email FROM aliases WHERE lower(alias) = $1', [alias]);
    if (existing.rows.some((row) => row.email.toLowerCase() === email)) {
      throw permanent('conflict', `alias ${alias} -> ${email} already exists`);
    }
    if (kind === 'address' && (await isUser(db, alias))) {
      throw permanent('conflict', `${alias} is a user's own address; an alias with that name would never be used`);
    }
    const final = await followChain(db, email, alias);
    const warnings: string[] = [];
    if (!(await isUser(db, final))) {
      warnings.push(`${final} is not a pgpipe user, so mail to ${alias} is not encrypted unless ${final} gets a key`);
    }
    if (existing.rows.length > 0) {
      // Several rows per alias are a distribution list: the filter sends every target its own readable copy.
      warnings.push(`alias ${alias} now has ${existing.rows.length + 1} targets (${[...existing.rows.map((r) => r.email), email].join(', ')}); each gets the mail`);
    }
    if (kind === 'local-part') {
      warnings.push(`${alias} is a bare local part: it matches ${alias}@ every domain this server receives (as in the tutorial)`);
    }
    await db.query('INSERT INTO aliases (alias, email) VALUES ($1, $2)', [alias, email]);
    return { alias, kind, email, warnings };
  });
}

async function isUser(db: Db, email: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM users WHERE lower(email) = $1', [email])).rows.length > 0;
}

/** Where `email` ends up through existing aliases; refuses a loop back to `alias` or a chain the filter won't follow. */
async function followChain(db: Db, email: string, alias: string): Promise<string> {
  let target = email;
  for (let hop = 1; hop <= MAX_HOPS; hop++) {
    if (await isUser(db, target)) return target;
    const at = target.lastIndexOf('@');
    const next = await db.query<{ email: string }>(
      'SELECT email FROM aliases WHERE lower(alias) = $1 OR lower(alias) = $2 LIMIT 1', [target, target.slice(0, at)]);
    const step = next.rows[0]?.email.toLowerCase();
    if (step === undefined) return target;
    if (step === alias || target.slice(0, at) === alias) throw permanent('conflict', `alias ${alias} -> ${email} would create a loop`);
    target = step;
  }
  throw permanent('conflict', `alias ${alias} -> ${email} leads through more than ${MAX_HOPS} aliases; pgpipe would not follow it`);
}

export function formatAliasAdd(result: AliasAddResult): string {
  return `added alias ${result.alias} -> ${result.email}\n`;
}
