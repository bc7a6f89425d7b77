// The one OpenPGP.js config used both to judge a key (inspect-keys) and to encrypt to it (encrypt-payload), so the
// subkey a report calls usable is exactly the subkey the message is encrypted to. Weak RSA and DSA/ElGamal refused.
import { config as defaults, enums } from 'openpgp';
import type { Config } from 'openpgp';

/**
 * OpenPGP.js defaults, but RSA under 2048 bits (below 112-bit strength, NIST SP 800-131A) and DSA/ElGamal are
 * refused; so are RFC 9580's X25519/X448 encryption subkeys, which GnuPG 2.2, RNP 0.16 and sqop 0.27 cannot
 * decrypt (another subkey of the same key is used instead when there is one). secp256k1 is allowed (OpenPGP.js
 * rejects it by default as "non-standard"), because GnuPG and RNP read it and users hold such keys.
 */
export const ENCRYPTION_CONFIG: Config = {
  ...defaults,
  minRSABits: 2048,
  rejectPublicKeyAlgorithms: new Set([
    ...defaults.rejectPublicKeyAlgorithms,
    enums.publicKey.dsa,
    enums.publicKey.elgamal,
    enums.publicKey.x25519,
    enums.publicKey.x448,
  ]),
  rejectCurves: new Set(),
};
