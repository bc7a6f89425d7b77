// Creates the bench's recipient keys with gpg, once per run, in throwaway GNUPGHOMEs under the run's temp dir:
// `secret` (keys with secret halves, only used to check that outputs decrypt) and `public` (the reference's
// keyring, public keys only, as on a gpgit server). Never touches the user's own ~/.gnupg.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_SPECS = [
  { name: 'cv25519', label: 'Curve25519', email: 'cv25519@supersecure.example', primary: 'ed25519', sub: 'cv25519' },
  { name: 'rsa3072', label: 'RSA-3072', email: 'rsa3072@supersecure.example', primary: 'rsa3072', sub: 'rsa3072' },
];

export function gpg(home, args, input) {
  return execFileSync('gpg', ['--homedir', home, '--batch', '--no-tty', '--quiet', ...args], {
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
}

function newHome(path) {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  // No agent auto-start surprises, no network: the bench only encrypts (and decrypts unprotected keys).
  writeFileSync(join(path, 'gpg.conf'), 'no-auto-key-locate\nno-auto-key-retrieve\n');
  return path;
}

/**
 * @returns {{ secretHome: string, publicHome: string, keys: { name, label, email, fingerprint, publicArmored }[] }}
 */
export function createKeyrings(dir) {
  const secretHome = newHome(join(dir, 'gnupg-secret'));
  const publicHome = newHome(join(dir, 'gnupg-public'));
  const keys = KEY_SPECS.map((spec) => {
    const uid = `Bench ${spec.label} <${spec.email}>`;
    gpg(secretHome, [
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-gen-key',
      uid,
      spec.primary,
      'cert,sign',
      'never',
    ]);
    const fingerprint = gpg(secretHome, ['--with-colons', '--list-keys', spec.email])
      .toString()
      .split('\n')
      .find((line) => line.startsWith('fpr:'))
      ?.split(':')[9];
    if (!fingerprint) throw new Error(`gpg did not create a key for ${spec.email}`);
    gpg(secretHome, [
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-add-key',
      fingerprint,
      spec.sub,
      'encr',
      'never',
    ]);
    const publicArmored = gpg(secretHome, ['--armor', '--export', fingerprint]).toString();
    gpg(publicHome, ['--import'], publicArmored);
    return { ...spec, fingerprint, publicArmored };
  });
  return { secretHome, publicHome, keys };
}
