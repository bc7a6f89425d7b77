// Validates the addresses an admin types before they reach the tables. Pure. Stored lower-case because Postfix
// folds table lookup keys to lower case and the tutorial's Dovecot query compares with `=`.
import { permanent } from '../errors.js';

// Dot-atom local part (RFC 5322 without quoting) and a hostname-like domain: what the tutorial's queries and
// maildir paths can hold safely. Quoted local parts, spaces and "/" are refused.
const LOCAL = /^[A-Za-z0-9!#$%&*+=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&*+=?^_`{|}~-]+)*$/;
const DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

/** `local@domain`, lower-cased; throws a one-line usage error naming what is wrong. */
export function checkEmail(text: string): string {
  const address = text.trim();
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1)
    throw permanent('usage', `"${shown(address)}" is not an email address (expected local@domain)`);
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (address.length > 254 || !LOCAL.test(local) || !DOMAIN.test(domain)) {
    throw permanent(
      'usage',
      `"${shown(address)}" is not an email address pgpipe accepts (letters, digits, . and !#$%&*+=?^_\`{|}~- before @)`,
    );
  }
  return address.toLowerCase();
}

export interface AliasName {
  readonly alias: string;
  /**
   * 'address': info@example.org; 'local-part': the tutorial's bare `astronaut57`, matching that local part in the
   * server's own domains.
   */
  readonly kind: 'address' | 'local-part';
}

/** An alias as the tutorial writes it: a full address, or a bare local part. Lower-cased. */
export function checkAliasName(text: string): AliasName {
  const alias = text.trim();
  if (alias.includes('@')) return { alias: checkEmail(alias), kind: 'address' };
  if (alias.length === 0 || alias.length > 64 || !LOCAL.test(alias)) {
    throw permanent(
      'usage',
      `"${shown(alias)}" is not an alias (expected local@domain or a bare local part like astronaut57)`,
    );
  }
  return { alias: alias.toLowerCase(), kind: 'local-part' };
}

/** The tutorial's maildir: `localpart/` for astronaut57@... → `astronaut57/`; relative, no `..`, ends in `/`. */
export function checkMaildir(maildir: string | undefined, email: string): string {
  const value = maildir ?? `${email.slice(0, email.lastIndexOf('@'))}/`;
  const withSlash = value.endsWith('/') ? value : `${value}/`;
  // Dovecot's user_query prefixes it with '/your_mailstore_path/plain/maildir/', so it must stay below that.
  if (
    withSlash.startsWith('/') ||
    withSlash.split('/').some((part) => part === '..' || part === '.') ||
    /[\0-\x1f\x7f\\]/.test(withSlash) ||
    withSlash === '/'
  ) {
    throw permanent(
      'usage',
      `maildir "${shown(value)}" must be a relative path without "." or ".." parts, e.g. astronaut57/`,
    );
  }
  return withSlash;
}

/** Quoted in messages without letting control characters through. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.slice(0, 80).replace(/[\0-\x1f\x7f]/g, '?');
}
