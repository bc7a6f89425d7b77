// Test keypairs generated at test time (never committed, so fixtures never silently expire), cached per process.
// OpenPGP.js for everything it can make; gpg (temp GNUPGHOME) for DSA/ElGamal, which OpenPGP.js cannot generate.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';

const run = promisify(execFile);

/** ECC curves made by `gpg --quick-gen-key UID CURVE` + `--quick-add-key FPR CURVE encr` (ECDSA + ECDH subkey). */
export const GPG_CURVES = ['brainpoolP256r1', 'brainpoolP384r1', 'brainpoolP512r1', 'secp256k1', 'nistp256'] as const;
export type GpgCurve = (typeof GPG_CURVES)[number];

export interface KeySpec {
  /** x25519/x448: a v4 key with RFC 9580 Ed25519/Ed448 primary and X25519/X448 encryption subkey. */
  kind: 'curve25519' | 'rsa2048' | 'rsa3072' | 'rsa1024' | 'dsa' | 'x25519' | 'x448' | GpgCurve;
  email: string;
  /** Created 30 days ago, expired 20 days ago. */
  expired?: boolean;
  expiresInDays?: number;
  revoked?: boolean;
  /** Primary (signing) key only. */
  signOnly?: boolean;
  /** RFC 9580 v6 key (curve25519 only). */
  v6?: boolean;
  /** Self-signature advertises SEIPDv2 (features 0x09), as OpenPGP.js does with aeadProtect. */
  aead?: boolean;
  /** Two encryption subkeys: the first expired 20 days ago, the second valid. */
  expiredSubkeyPlusValid?: boolean;
  /** One encryption subkey, expired 20 days ago; primary valid. */
  onlySubkeyExpired?: boolean;
  /** x25519 only: legacy EdDSA primary, a legacy cv25519 subkey and a newer X25519 subkey (newest wins by default). */
  legacySubkeyToo?: boolean;
}

export interface TestKey {
  publicArmored: string;
  privateArmored: string;
  fingerprint: string;
}

const cache = new Map<string, Promise<TestKey>>();
const DAY = 86_400;

export function makeKey(spec: KeySpec): Promise<TestKey> {
  const id = JSON.stringify(spec, Object.keys(spec).sort());
  let key = cache.get(id);
  if (key === undefined) {
    key =
      spec.kind === 'dsa'
        ? gpgDsaKey(spec.email)
        : (GPG_CURVES as readonly string[]).includes(spec.kind)
          ? gpgCurveKey(spec.kind as GpgCurve, spec.email)
          : spec.kind === 'x25519' || spec.kind === 'x448'
            ? rfc9580SubkeyKey(spec)
            : openpgpKey(spec);
    cache.set(id, key);
  }
  return key;
}

async function openpgpKey(spec: KeySpec): Promise<TestKey> {
  const past = new Date(Date.now() - 30 * DAY * 1000);
  const rsaBits = { rsa1024: 1024, rsa2048: 2048, rsa3072: 3072 } as Record<string, number>;
  const type = spec.kind === 'curve25519' ? (spec.v6 === true ? 'curve25519' : 'ecc') : 'rsa';
  const subkeyAge = spec.expiredSubkeyPlusValid === true || spec.onlySubkeyExpired === true;
  const dead = { keyExpirationTime: 10 * DAY };
  const subkeys =
    spec.signOnly === true
      ? []
      : spec.expiredSubkeyPlusValid === true
        ? [dead, {}]
        : spec.onlySubkeyExpired === true
          ? [dead]
          : [{}];
  const { privateKey, publicKey } = await openpgp.generateKey({
    type,
    ...(type === 'ecc' ? { curve: 'curve25519Legacy' as const } : {}),
    ...(type === 'rsa' ? { rsaBits: rsaBits[spec.kind] ?? 3072 } : {}),
    userIDs: [{ name: 'Test', email: spec.email }],
    subkeys,
    ...(spec.expired === true || subkeyAge ? { date: past } : {}),
    keyExpirationTime: spec.expired === true ? 10 * DAY : (spec.expiresInDays ?? 0) * DAY,
    format: 'armored',
    config: {
      minRSABits: 1024,
      v6Keys: spec.v6 === true,
      aeadProtect: spec.aead === true,
    },
  });
  let pub = publicKey;
  if (spec.revoked === true) {
    const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
    const revoked = await openpgp.revokeKey({ key, format: 'armored' });
    pub = revoked.publicKey;
  }
  const parsed = await openpgp.readKey({ armoredKey: pub });
  return { publicArmored: pub, privateArmored: privateKey, fingerprint: parsed.getFingerprint().toUpperCase() };
}

/** A v4 key whose encryption subkey uses RFC 9580's X25519/X448 algorithm (what OpenPGP.js 6 makes by default). */
async function rfc9580SubkeyKey(spec: KeySpec): Promise<TestKey> {
  const hourAgo = new Date(Date.now() - 3_600_000);
  const type = spec.kind === 'x448' ? ('curve448' as const) : ('curve25519' as const);
  const options =
    spec.legacySubkeyToo === true
      ? {
          type: 'ecc' as const,
          curve: 'curve25519Legacy' as const,
          date: hourAgo,
          subkeys: [
            { type: 'ecc' as const, curve: 'curve25519Legacy' as const, date: hourAgo },
            { type, date: new Date() },
          ],
        }
      : { type };
  const { privateKey, publicKey } = await openpgp.generateKey({
    ...options,
    userIDs: [{ name: 'Test', email: spec.email }],
    format: 'armored',
  });
  const parsed = await openpgp.readKey({ armoredKey: publicKey });
  return { publicArmored: publicKey, privateArmored: privateKey, fingerprint: parsed.getFingerprint().toUpperCase() };
}

/** What a smartcard or `gpg --quick-gen-key UID CURVE` user holds: ECDSA primary + ECDH subkey on the same curve. */
async function gpgCurveKey(curve: GpgCurve, email: string): Promise<TestKey> {
  const home = await mkdtemp(join(tmpdir(), 'pgpipe-gpg-'));
  try {
    const gpg = (...args: string[]) =>
      run('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
    await gpg('--quick-gen-key', `Test <${email}>`, curve, 'default', 'never');
    const { stdout: colons } = await gpg('--with-colons', '--fingerprint', email);
    const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(colons)?.[1] ?? '';
    await gpg('--quick-add-key', fingerprint, curve, 'encr', 'never');
    const { stdout: publicArmored } = await gpg('--armor', '--export', email);
    const { stdout: privateArmored } = await gpg('--armor', '--export-secret-keys', email);
    return { publicArmored, privateArmored, fingerprint };
  } finally {
    await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * DSA-1024 primary + ElGamal-1024 (small: ElGamal prime generation is slow) encryption subkey, as GnuPG 1.x made
 * by default.
 */
async function gpgDsaKey(email: string): Promise<TestKey> {
  const home = await mkdtemp(join(tmpdir(), 'pgpipe-gpg-'));
  try {
    const gpg = (...args: string[]) =>
      run('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
    const params =
      `Key-Type: DSA\nKey-Length: 1024\nSubkey-Type: ELG-E\nSubkey-Length: 1024\n` +
      `Name-Real: Test\nName-Email: ${email}\nExpire-Date: 0\n%no-protection\n%commit\n`;
    const child = execFile('gpg', ['--homedir', home, '--batch', '--gen-key']);
    const done = new Promise<void>((resolve, reject) =>
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`gpg --gen-key exited ${code}`)))),
    );
    child.stdin?.end(params);
    await done;
    const { stdout: publicArmored } = await gpg('--armor', '--export', email);
    const { stdout: privateArmored } = await gpg('--armor', '--export-secret-keys', email);
    const { stdout: colons } = await gpg('--with-colons', '--fingerprint', email);
    const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(colons)?.[1] ?? '';
    return { publicArmored, privateArmored, fingerprint };
  } finally {
    await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
}

/** A throwaway GNUPGHOME for assertions; `gpg(...)` runs batch gpg in it. */
export async function tempGnupg(): Promise<{
  home: string;
  gpg(args: string[], input?: string | Buffer): Promise<{ stdout: Buffer; stderr: string; code: number }>;
  close(): Promise<void>;
}> {
  const home = await mkdtemp(join(tmpdir(), 'pgpipe-gpg-'));
  const gpg = (args: string[], input?: string | Buffer) =>
    new Promise<{ stdout: Buffer; stderr: string; code: number }>((resolve, reject) => {
      const child = execFile(
        'gpg',
        ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          if (error !== null && typeof error.code !== 'number') reject(error);
          else resolve({ stdout, stderr: stderr.toString('utf8'), code });
        },
      );
      child.stdin?.end(input ?? '');
    });
  const close = async () => {
    await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  };
  return { home, gpg, close };
}
