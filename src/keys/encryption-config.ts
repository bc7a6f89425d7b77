// The one OpenPGP.js config used both to judge a key (inspect-keys) and to encrypt to it (encrypt-payload), so the
// subkey a report calls usable is exactly the subkey the message is encrypted to. Weak RSA and DSA/ElGamal refused.
import { config as defaults, enums } from 'openpgp';
import type { Config } from 'openpgp';

/** OpenPGP.js defaults, but RSA under 2048 bits (below 112-bit strength, NIST SP 800-131A) and DSA/ElGamal refused. */
export const ENCRYPTION_CONFIG: Config = {
  ...defaults,
  minRSABits: 2048,
  rejectPublicKeyAlgorithms: new Set([...defaults.rejectPublicKeyAlgorithms, enums.publicKey.dsa, enums.publicKey.elgamal]),
};
