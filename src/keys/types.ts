// What pgpipe knows about one stored OpenPGP key, and why it may be unusable.
import type { PublicKey } from 'openpgp';

export type KeyProblem =
  | 'garbage' // not OpenPGP armor, or armor that does not parse
  | 'private' // a private (secret) key pasted by mistake
  | 'expired'
  | 'revoked'
  | 'no-encryption-key' // sign-only, or every encryption subkey expired/revoked
  | 'weak-rsa' // RSA under 2048 bits
  | 'weak-algorithm' // DSA/ElGamal (GnuPG 1 era), refused by OpenPGP.js
  | 'v6' // RFC 9580 v6 key: GnuPG 2.2 cannot use it
  | 'rfc9580-subkey' // v4 key whose encryption subkey is X25519/X448 (RFC 9580): GnuPG 2.2, RNP 0.16 cannot use it
  | 'unverifiable'; // a signature OpenPGP.js could not verify (not revoked or expired): the reason says why

export interface KeyReport {
  readonly fingerprint: string; // upper-case hex, no spaces ('' for garbage)
  readonly version: number; // 4 or 6 (0 for garbage)
  readonly algorithm: string; // e.g. 'rsa 3072', 'curve25519', 'ed25519/cv25519'
  readonly created: Date | null;
  readonly expires: Date | null; // null = never
  readonly userIds: readonly string[];
  readonly usable: boolean;
  readonly problem: KeyProblem | null;
  /** Short human reason, no key material, e.g. "expired on 2024-01-01". */
  readonly reason: string | null;
  /** The parsed public key when usable (never a private key). */
  readonly key: PublicKey | null;
}

/**
 * What turns a stored pgpkey text into reports: inspectKeys itself, or a memo of it (report-cache.ts, serve). `now`
 * decides expiry; a memo may answer with reports judged at an earlier `now` (bounded by its lifetime).
 */
export type InspectKeys = (text: string, now: Date) => Promise<KeyReport[]>;
