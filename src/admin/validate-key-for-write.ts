// Decides whether key material an admin hands in may be stored for an address, before anything is written:
// one refusal reason per problem (permanent 'key.invalid'), a test encryption per key, and the normalised
// armor (each public key re-armored on its own, so pasted garbage around it is not kept). Never logs key data.
import { readKeys } from 'openpgp';
import { permanent } from '../errors.js';
import { splitArmorBlocks } from '../keys/armor-blocks.js';
import { encryptPayload } from '../keys/encrypt-payload.js';
import { inspectKeys } from '../keys/inspect-keys.js';
import type { KeyReport } from '../keys/types.js';
import { formatDay } from './format-table.js';
import { summarizeKey, type KeySummary } from './summarize-key.js';

export interface ValidatedKey {
  readonly fingerprint: string;
  /** `key.armor()` of the public key alone. */
  readonly armored: string;
  readonly summary: KeySummary;
}

export interface KeyValidation {
  readonly keys: readonly ValidatedKey[];
  /** One line each, e.g. a key that expires soon or was stored under --allow-other-uid. */
  readonly warnings: readonly string[];
}

export interface ValidateOptions {
  /** The users.email the key is for (already lower-cased). */
  readonly email: string;
  readonly allowOtherUid?: boolean;
  readonly now: Date;
  /** Warn when encryption stops working within this many days (default 30). */
  readonly warnWithinDays?: number;
}

const GPG_EXPORT = 'gpg --export --armor';

/** Throws permanent('key.invalid', <one line>) for the first problem found; otherwise the keys to store. */
export async function validateKeyForWrite(input: string | Buffer, options: ValidateOptions): Promise<KeyValidation> {
  const text = await asArmoredText(input, options.email);
  const reports = await inspectKeys(text, options.now);
  const refusal = reports
    .map((report) => refusalFor(report, text, options.email, options.now))
    .find((reason) => reason !== null);
  if (refusal !== undefined) throw permanent('key.invalid', refusal);

  const warnings: string[] = [];
  const keys: ValidatedKey[] = [];
  const seen = new Set<string>();
  for (const report of reports) {
    if (report.key === null || seen.has(report.fingerprint)) continue; // the same key pasted twice is stored once
    seen.add(report.fingerprint);
    const addresses = report.userIds.map(addressOf);
    if (!addresses.includes(options.email)) {
      const has = addresses.filter((a) => a !== '').join(', ') || 'no email address';
      if (options.allowOtherUid !== true) {
        throw permanent(
          'key.invalid',
          `no user ID of key ${report.fingerprint} carries ${options.email} (it has: ${has}); ` +
            `use --allow-other-uid to store it anyway`,
        );
      }
      warnings.push(
        `key ${report.fingerprint} has no user ID with ${options.email} (it has: ${has}); ` +
          `stored because of --allow-other-uid`,
      );
    }
    await testEncryption(report);
    const summary = await summarizeKey(report, options.now);
    const within = options.warnWithinDays ?? 30;
    if (
      summary.encryptionExpires !== null &&
      summary.encryptionExpires.getTime() - options.now.getTime() <= within * 86_400_000
    ) {
      warnings.push(
        `key ${report.fingerprint} stops encrypting on ${formatDay(summary.encryptionExpires)}; ` +
          `ask the owner to extend it`,
      );
    }
    keys.push({ fingerprint: report.fingerprint, armored: report.key.armor(), summary });
  }
  return { keys, warnings };
}

/** The one-line reason a key is refused, or null when inspectKeys found it usable. */
function refusalFor(report: KeyReport, text: string, email: string, now: Date): string | null {
  const fpr = report.fingerprint;
  switch (report.problem) {
    case null:
      return null;
    case 'private':
      return (
        `this is a PRIVATE key: never hand it to the server; ` +
        `paste the public half instead (${GPG_EXPORT} ${email})`
      );
    case 'garbage':
      return splitArmorBlocks(text).length === 0
        ? `not an OpenPGP public key: no "-----BEGIN PGP PUBLIC KEY BLOCK-----" found ` +
            `(export it with ${GPG_EXPORT} ${email})`
        : 'unparsable key: the PGP PUBLIC KEY BLOCK does not parse (damaged, truncated or edited?)';
    case 'expired':
      return (
        `key ${fpr} ${report.reason ?? 'has expired'}: ` +
        `extend it (gpg --quick-set-expire ${fpr} 1y) and export it again`
      );
    case 'revoked':
      return `key ${fpr} is revoked: its owner withdrew it; ask for their current key`;
    case 'no-encryption-key':
      // A key made seconds ago on a machine whose clock runs ahead is not valid yet: say so, not "sign-only".
      if (report.created !== null && report.created > now) {
        return (
          `key ${fpr} was created in the future (${report.created.toISOString()}): ` +
          `check the clock of the machine that made it`
        );
      }
      return (
        `key ${fpr} has no usable encryption subkey ` + `(sign-only, or its encryption subkeys expired or were revoked)`
      );
    case 'weak-rsa':
      return (
        `key ${fpr} is too weak (${report.reason ?? 'RSA under 2048 bits'}): ` +
        `generate an RSA 3072 or Curve25519 key`
      );
    case 'weak-algorithm':
      return (
        `key ${fpr} uses DSA/ElGamal (${report.algorithm}), which pgpipe cannot encrypt to: ` +
        `generate an RSA 3072 or Curve25519 key`
      );
    case 'v6':
      return (
        `key ${fpr} is a v6 (RFC 9580) key that GnuPG 2.2 clients cannot use, ` +
        `and pgpipe encrypts only to v4 keys: export a v4 key`
      );
    case 'rfc9580-subkey':
      // Same reason as v6: mail encrypted to it is unreadable for GnuPG 2.2, RNP 0.16 and sqop 0.27.
      return (
        `key ${fpr} encrypts only to an ${report.algorithm.split('/').pop() ?? ''} (RFC 9580) subkey that GnuPG 2.2 ` +
        'clients cannot use: add a cv25519 or RSA 3072 encryption subkey (gpg --quick-add-key FPR cv25519 encr)'
      );
    case 'unverifiable':
      return (
        `key ${fpr} cannot be used: ${report.reason ?? 'key failed verification'}; ` +
        `export it again with gpg --export --armor`
      );
  }
}

async function testEncryption(report: KeyReport): Promise<void> {
  if (report.key === null) return;
  try {
    const armored = await encryptPayload(Buffer.from('pgpipe test encryption\r\n'), [report.key]);
    if (!armored.includes('-----BEGIN PGP MESSAGE-----')) throw new Error('no OpenPGP message produced');
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/\s+/g, ' ').slice(0, 120) : 'unknown error';
    throw permanent('key.invalid', `test encryption to key ${report.fingerprint} failed: ${why}`, error);
  }
}

/** Armored text as given; a binary export (gpg --export without --armor) is parsed and re-armored. */
async function asArmoredText(input: string | Buffer, email: string): Promise<string> {
  if (typeof input === 'string') return input;
  const first = input[0] ?? 0;
  // An OpenPGP packet header has bit 7 set; armored or pasted text never starts that way.
  if ((first & 0x80) === 0 || input.includes('-----BEGIN PGP ')) return input.toString('utf8');
  let keys;
  try {
    keys = await readKeys({ binaryKeys: new Uint8Array(input) });
  } catch {
    throw permanent('key.invalid', 'unparsable key: the binary OpenPGP data does not parse as a public key');
  }
  if (keys.some((key) => key.isPrivate())) {
    throw permanent(
      'key.invalid',
      `this is a PRIVATE key: never hand it to the server; paste the public half instead (${GPG_EXPORT} ${email})`,
    );
  }
  return keys.map((key) => key.armor()).join('\n');
}

/** The address in a user ID: `Name <a@b>` → `a@b`, a bare `a@b` → itself; lower-cased; '' when none. */
export function addressOf(userId: string): string {
  const bracketed = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(userId);
  if (bracketed) return (bracketed[1] ?? '').toLowerCase();
  const bare = userId.trim();
  return /^[^\s<>@]+@[^\s<>@]+$/.test(bare) ? bare.toLowerCase() : '';
}
