// SHA-512-crypt ("$6$", Ulrich Drepper's published algorithm, as glibc crypt(3) and Dovecot's SHA512-CRYPT
// verify it) in-process, because Node has no crypt(3) and a database host has no doveadm. Pure except for the
// random salt; never logs or returns the password itself.
import { createHash, randomBytes } from 'node:crypto';
import { permanent } from '../errors.js';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const DEFAULT_ROUNDS = 5000; // glibc's and doveadm's default; the hash then carries no rounds= field
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;

// The spec's output order: each triple of digest bytes becomes four base-64 characters, low bits first.
const TRIPLES: readonly (readonly [number, number, number])[] = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

const sha512 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** `length` bytes taken from `block` repeated (the spec's "P sequence"/"S sequence" construction). */
const repeatTo = (block: Buffer, length: number): Buffer => {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
};

const encode64 = (value: number, chars: number): string => {
  let text = '';
  for (let i = 0; i < chars; i++, value >>>= 6) text += ALPHABET[value & 0x3f];
  return text;
};

/**
 * crypt(3) "$6$" of `password` with `salt` (first 16 characters used, as the spec says). `rounds` is clamped to
 * 1000..999999999 like glibc; when given it is written as rounds=N (glibc does so even for 5000), when
 * omitted the default 5000 is used and no rounds= field is written.
 */
export function sha512Crypt(password: string | Buffer, salt: string, rounds?: number): string {
  const p = Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8');
  const saltText = salt.slice(0, 16);
  const s = Buffer.from(saltText, 'utf8');
  const n = rounds === undefined ? DEFAULT_ROUNDS : Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.trunc(rounds)));

  const b = sha512(p, s, p);
  const aParts: Buffer[] = [p, s, repeatTo(b, p.length)];
  for (let len = p.length; len > 0; len >>>= 1) aParts.push(len & 1 ? b : p);
  const a = sha512(...aParts);

  const pSeq = repeatTo(sha512(...Array<Buffer>(p.length).fill(p)), p.length);
  const sSeq = repeatTo(sha512(...Array<Buffer>(16 + (a[0] ?? 0)).fill(s)), s.length);

  let c = a;
  for (let i = 0; i < n; i++) {
    const parts: Buffer[] = [i & 1 ? pSeq : c];
    if (i % 3 !== 0) parts.push(sSeq);
    if (i % 7 !== 0) parts.push(pSeq);
    parts.push(i & 1 ? c : pSeq);
    c = sha512(...parts);
  }

  let encoded = '';
  for (const [x, y, z] of TRIPLES) encoded += encode64(((c[x] ?? 0) << 16) | ((c[y] ?? 0) << 8) | (c[z] ?? 0), 4);
  encoded += encode64(c[63] ?? 0, 2);
  const roundsField = rounds === undefined ? '' : `rounds=${n}$`;
  return `$6$${roundsField}${saltText}$${encoded}`;
}

/** 16 random characters from the crypt alphabet (96 bits). */
export function randomSalt(): string {
  return [...randomBytes(16)].map((byte) => ALPHABET[byte & 0x3f]).join('');
}

/** What Dovecot stores: `{SHA512-CRYPT}$6$<salt>$<hash>`. Refuses an empty password or one with NUL/newlines. */
export function hashPassword(password: string, options: { salt?: string; rounds?: number } = {}): string {
  if (password.length === 0) throw permanent('usage', 'the password is empty');
  if (/[\0\r\n]/.test(password)) throw permanent('usage', 'the password contains a NUL or line break');
  return `{SHA512-CRYPT}${sha512Crypt(password, options.salt ?? randomSalt(), options.rounds)}`;
}

// Schemes Dovecot verifies that carry a per-password salt. Unsalted ones ({SHA512}, {PLAIN}, {MD5}...) are
// refused: the same password would give the same hash for every user.
const SALTED_SCHEMES = new Set([
  'SHA512-CRYPT',
  'SHA256-CRYPT',
  'BLF-CRYPT',
  'ARGON2I',
  'ARGON2ID',
  'SSHA512',
  'SSHA256',
  'SSHA',
  'PBKDF2',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1',
]);

/**
 * Checks a `--password-hash` value as Dovecot will read it: `{SCHEME}` prefix (the tutorial's
 * default_pass_scheme is the unsalted SHA512, so a bare hash would be misread), a salted scheme, one line.
 * Returns the hash unchanged; throws a one-line usage error otherwise.
 */
export function checkPasswordHash(hash: string): string {
  if (/[\s\0]/.test(hash)) throw permanent('usage', 'the password hash contains whitespace; pass it as one word');
  const match = /^\{([A-Za-z0-9.-]+)\}(.+)$/.exec(hash);
  if (!match) {
    throw permanent(
      'usage',
      'the password hash needs a {SCHEME} prefix, e.g. {SHA512-CRYPT}$6$... (doveadm pw -s SHA512-CRYPT)',
    );
  }
  const scheme = (match[1] ?? '').toUpperCase();
  if (!SALTED_SCHEMES.has(scheme)) {
    throw permanent(
      'usage',
      `{${scheme}} is not a salted scheme Dovecot verifies; use {SHA512-CRYPT} ` +
        `(pgpipe user add --password-stdin, or doveadm pw -s SHA512-CRYPT)`,
    );
  }
  const value = match[2] ?? '';
  if (scheme === 'SHA512-CRYPT' && !/^\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/.test(value)) {
    throw permanent('usage', 'the {SHA512-CRYPT} hash is malformed (expected $6$salt$ and 86 characters)');
  }
  return hash;
}
