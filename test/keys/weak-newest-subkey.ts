// Test key for review #8: an older strong RSA-2048 encryption subkey plus a newer weak RSA-1024 one (as made by
// `gpg --expert --quick-add-key FPR rsa1024 encr`). Generated at test time, cached per process.
import * as openpgp from 'openpgp';

export interface TwoSubkeyKey {
  readonly publicArmored: string;
  readonly privateArmored: string;
  readonly strongKeyId: string; // hex key ID of the older RSA-2048 encryption subkey
  readonly weakKeyId: string; // hex key ID of the newer RSA-1024 encryption subkey
}

const HOUR = 3_600_000;
const cache = new Map<string, Promise<TwoSubkeyKey>>();

/**
 * strongExpired: the strong subkey expired long ago, so only the weak one is still valid. weakBits: 1024, or 2047
 * (below our 2048 line but accepted by OpenPGP.js's default minRSABits of 2047).
 */
export function weakNewestSubkeyKey(strongExpired = false, weakBits = 1024): Promise<TwoSubkeyKey> {
  const id = `${strongExpired}/${weakBits}`;
  let key = cache.get(id);
  if (key === undefined) {
    key = make(strongExpired, weakBits);
    cache.set(id, key);
  }
  return key;
}

async function make(strongExpired: boolean, weakBits: number): Promise<TwoSubkeyKey> {
  const past = new Date(Date.now() - 30 * 24 * HOUR);
  const { privateKey } = await openpgp.generateKey({
    type: 'rsa',
    rsaBits: 2048,
    userIDs: [{ name: 'Test', email: `weak${weakBits}${strongExpired ? '-only' : ''}@example.org` }],
    subkeys: [strongExpired ? { keyExpirationTime: 3600 } : {}],
    date: past,
    format: 'object',
  });
  const withWeak = await privateKey.addSubkey({
    type: 'rsa',
    rsaBits: weakBits,
    date: new Date(past.getTime() + HOUR), // newer: OpenPGP.js prefers the most recent subkey
    config: { minRSABits: 1024 },
  });
  const [strong, weak] = withWeak.subkeys;
  if (strong === undefined || weak === undefined) throw new Error('expected two subkeys');
  return {
    publicArmored: withWeak.toPublic().armor(),
    privateArmored: withWeak.armor(),
    strongKeyId: strong.getKeyID().toHex(),
    weakKeyId: weak.getKeyID().toHex(),
  };
}
