// Parses a stored pgpkey text into one KeyReport per key and decides whether each key can be encrypted to.
// Runs for every message, so it does only what the verdict needs. Never returns a private key; never logs key data.
import { readKeys, readPrivateKeys, enums } from 'openpgp';
import type { Key, PublicKey, Subkey } from 'openpgp';
import type { KeyProblem, KeyReport } from './types.js';
import { splitArmorBlocks } from './armor-blocks.js';
import { ENCRYPTION_CONFIG } from './encryption-config.js';

type KeyPart = Key | Subkey;

// Relaxed only to *find* the subkey OpenPGP.js would pick if strength were not checked, so a refusal is named
// (weak-rsa / weak-algorithm) instead of a generic "no encryption key". Never used to accept a key.
const findAnyConfig = {
  ...ENCRYPTION_CONFIG,
  minRSABits: 0,
  rejectPublicKeyAlgorithms: new Set<enums.publicKey>(),
  rejectCurves: new Set<enums.curve>(),
};
const WEAK_ALGORITHMS = new Set(['dsa', 'elgamal']);
// RFC 9580's own ECDH algorithms (25, 26). Allowed on v4 keys, but GnuPG 2.2, RNP 0.16 and sqop 0.27 cannot decrypt a
// PKESK made for them; ENCRYPTION_CONFIG refuses them, so OpenPGP.js falls back to another (legacy ECDH, RSA) subkey.
const RFC9580_ALGORITHMS = new Set(['x25519', 'x448']);
const ENCRYPTION_ALGORITHMS = new Set(['rsaEncryptSign', 'rsaEncrypt', 'elgamal', 'ecdh', 'x25519', 'x448']);

/** One report per key found; a text with no parsable key gives one 'garbage' report. */
export async function inspectKeys(text: string, now: Date = new Date()): Promise<KeyReport[]> {
  const reports: KeyReport[] = [];
  for (const block of splitArmorBlocks(text)) {
    if (block.kind === 'private') reports.push(...(await privateReports(block.text)));
    else reports.push(...(await publicReports(block.text, now)));
  }
  return reports.length > 0 ? reports : [garbage('no OpenPGP public key block found')];
}

async function publicReports(armored: string, now: Date): Promise<KeyReport[]> {
  let keys: Key[];
  try {
    keys = await readKeys({ armoredKeys: armored });
  } catch {
    return [garbage('key block does not parse')];
  }
  const reports: KeyReport[] = [];
  for (const key of keys) {
    // A public block that carries secret packets is still a private key pasted by mistake.
    if (key.isPrivate()) reports.push(describeKey(key, null, 'private', 'private key stored, not a public key'));
    else reports.push(await judge(key as PublicKey, now));
  }
  return reports;
}

async function privateReports(armored: string): Promise<KeyReport[]> {
  const reason = 'private key stored, not a public key';
  try {
    // Parsed only to name the key in the report; its public half is never used.
    const keys = await readPrivateKeys({ armoredKeys: armored });
    return keys.map((key) => describeKey(key, null, 'private', reason));
  } catch {
    return [{ ...garbage(reason), problem: 'private' }];
  }
}

async function judge(key: PublicKey, now: Date): Promise<KeyReport> {
  const expires = await expirationOf(key);
  const report = (encryption: KeyPart | null, problem: KeyProblem | null, reason: string | null): KeyReport => ({
    ...describeKey(key, encryption, problem, reason),
    expires,
  });
  if (key.keyPacket.version !== 4) return report(null, 'v6', `v${key.keyPacket.version} key: GnuPG 2.2 cannot use it`);
  if (await key.isRevoked(undefined, undefined, now)) return report(null, 'revoked', 'key is revoked');
  if (expires !== null && expires <= now) return report(null, 'expired', `expired on ${day(expires)}`);
  // The verdict comes from the subkey OpenPGP.js will really encrypt to with our config (which skips weak
  // subkeys, so an older strong subkey wins over a newer weak one); encryptPayload uses the same config.
  let chosen: KeyPart | null = null;
  try {
    chosen = await key.getEncryptionKey(undefined, now, undefined, ENCRYPTION_CONFIG);
  } catch {
    // no acceptable subkey: explain below
  }
  if (chosen !== null) {
    const weak = weakness(key) ?? weakness(chosen); // belt and braces: the config already refuses both
    return weak === null ? report(chosen, null, null) : report(chosen, weak.problem, weak.reason);
  }
  // Relaxed lookup only to name the refusal: the subkey OpenPGP.js would pick if strength were not checked.
  let candidate: KeyPart;
  try {
    candidate = await key.getEncryptionKey(undefined, now, undefined, findAnyConfig);
  } catch {
    // Not "sign-only" when a part that should work could not even be checked (a signature OpenPGP.js cannot
    // verify on this platform, say): name the failure so the admin sees what is wrong.
    const failure = await uncheckablePart(key, now);
    if (failure !== null) return report(null, 'unverifiable', failure);
    return report(null, 'no-encryption-key', 'no valid encryption key (sign-only, or subkeys expired/revoked)');
  }
  const weak = weakness(key) ?? weakness(candidate);
  if (weak !== null) return report(candidate, weak.problem, weak.reason);
  return report(candidate, 'no-encryption-key', 'encryption key refused by OpenPGP.js');
}

function weakness(part: KeyPart): { problem: KeyProblem; reason: string } | null {
  const info = part.getAlgorithmInfo();
  if (WEAK_ALGORITHMS.has(info.algorithm))
    return { problem: 'weak-algorithm', reason: `${info.algorithm} key refused` };
  if (RFC9580_ALGORITHMS.has(info.algorithm)) {
    const name = info.algorithm === 'x25519' ? 'X25519' : 'X448';
    return { problem: 'rfc9580-subkey', reason: `${name} (RFC 9580) encryption subkey: GnuPG 2.2 cannot use it` };
  }
  if (info.algorithm.startsWith('rsa') && (info.bits ?? 0) < 2048) {
    return { problem: 'weak-rsa', reason: `RSA ${info.bits ?? 0} bits is below 2048` };
  }
  return null;
}

/** Why the primary key or an encryption-capable subkey failed to verify, unless it is only revoked or expired. */
async function uncheckablePart(key: PublicKey, now: Date): Promise<string | null> {
  const checks: Array<() => Promise<unknown>> = [() => key.verifyPrimaryKey(now, undefined, findAnyConfig)];
  for (const subkey of key.getSubkeys()) {
    if (!ENCRYPTION_ALGORITHMS.has(subkey.getAlgorithmInfo().algorithm)) continue;
    checks.push(() => subkey.verify(now, findAnyConfig));
  }
  for (const check of checks) {
    try {
      await check();
    } catch (error) {
      const message = innermost(error);
      // Revoked, expired or not valid yet (made on a machine whose clock runs ahead) have their own reasons.
      if (!/revoked|expired|in the future/i.test(message)) return `key failed verification (${message})`;
    }
  }
  return null;
}

/** The last cause in OpenPGP.js's "outer: inner" wrapped message, first line only, short (never key material). */
function innermost(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  const parts = text.split(': ');
  return (parts[parts.length - 1] ?? text).replace(/\s+/g, ' ').slice(0, 80);
}

async function expirationOf(key: Key): Promise<Date | null> {
  const value = await key.getExpirationTime().catch(() => null);
  return value instanceof Date ? value : null;
}

function describeKey(
  key: Key,
  encryption: KeyPart | null,
  problem: KeyProblem | null,
  reason: string | null,
): KeyReport {
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    version: key.keyPacket.version,
    algorithm: algorithmName(key, encryption),
    created: key.getCreationTime(),
    expires: null,
    userIds: key.getUserIDs(),
    usable: problem === null,
    problem,
    reason,
    key: problem === null && !key.isPrivate() ? (key as PublicKey) : null,
  };
}

function algorithmName(key: Key, encryption: KeyPart | null): string {
  const primary = describe(key);
  const enc = encryption === null || encryption === key ? primary : describe(encryption);
  return enc === primary ? primary : `${primary}/${enc}`;
}

function describe(part: KeyPart): string {
  const info = part.getAlgorithmInfo();
  if (info.bits !== undefined) return `${info.algorithm.replace(/EncryptSign$/, '')} ${info.bits}`;
  return info.curve !== undefined ? info.curve.replace(/Legacy$/, '') : info.algorithm;
}

function garbage(reason: string): KeyReport {
  return {
    fingerprint: '',
    version: 0,
    algorithm: '',
    created: null,
    expires: null,
    userIds: [],
    usable: false,
    problem: 'garbage',
    reason,
    key: null,
  };
}

const day = (date: Date): string => date.toISOString().slice(0, 10);
