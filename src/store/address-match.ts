// The one rule for "is this the same address" in the tutorial's tables, used by every query in src/store/:
// lower() on both sides, in the database. Case folding is then the database's own (its ctype) on both sides, never
// a mix of JavaScript's toLowerCase and PostgreSQL's lower(), which disagree outside ASCII (e.g. 'İ', 'ẞ').
import type { Config } from '../config/load-config.js';
import type { AddressOptions } from './types.js';

/** SQL: `column` holds the same address as the SQL expression `value` (a $n parameter or a column). */
export const sameAddress = (column: string, value: string): string => `lower(${column}) = lower(${value})`;

/** SQL: the domain part of the address in `column` (after its last '@'); NULL when it has none. */
export const domainPart = (column: string): string => `substring(${column} from '@([^@]*)$')`;

/**
 * SQL: a CTE `local_domains(d)` of the server's own domains, lower-cased by the database: the domains of the users
 * rows plus the text[] parameter `listed` (the local_domains setting). What Postfix's alias_maps apply to.
 */
export const localDomainsCte = (listed: string): string => `local_domains(d) AS (
  SELECT lower(${domainPart('email')}) FROM users WHERE ${domainPart('email')} <> ''
  UNION SELECT lower(ld.d) FROM unnest(${listed}::text[]) AS ld(d))`;

/** SQL: the domain `domain` (an expression, without '@') is in the CTE of localDomainsCte, by the one rule. */
export const isLocalDomain = (domain: string): string => `lower(${domain}) IN (SELECT d FROM local_domains)`;

/** The domain of an address (after its last '@'), '' when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1);
}

/** The addressing settings as the resolver takes them. */
export function addressOptionsFrom(config: Pick<Config, 'recipientDelimiter' | 'localDomains'>): AddressOptions {
  return { delimiter: config.recipientDelimiter, localDomains: config.localDomains };
}

/** What a test or a caller without a Config gets: Postfix's default `+`, and only the users rows' domains. */
export const DEFAULT_ADDRESSING: AddressOptions = { delimiter: '+', localDomains: [] };
