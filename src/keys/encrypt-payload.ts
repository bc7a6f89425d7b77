// Encrypts one canonical MIME payload to several public keys as an armored OpenPGP message.
// Always SEIPDv1 + v3 PKESK (RFC 4880) so GnuPG 2.2 can read it, whatever the keys advertise. No I/O.
import { createMessage, encrypt, generateSessionKey } from 'openpgp';
import type { PublicKey } from 'openpgp';
import { temporary } from '../errors.js';
import { ENCRYPTION_CONFIG } from './encryption-config.js';

/**
 * One PKESK per key, binary literal data. NOTE: passing a session key without aeadAlgorithm is what forces
 * SEIPDv1; letting OpenPGP.js choose gives SEIPDv2 when every key advertises it (pgp-mime.md §3).
 * ENCRYPTION_CONFIG is the config inspectKeys judged each key with, so OpenPGP.js picks the very subkey reported
 * usable and never a newer weak one (OpenPGP.js's own default accepts RSA-2047).
 * Throws temporary('encrypt.failed') (defer, never bounce) for no keys; OpenPGP.js errors propagate wrapped the same way.
 */
export async function encryptPayload(payload: Buffer, keys: PublicKey[]): Promise<string> {
  if (keys.length === 0) throw temporary('encrypt.failed', 'no encryption keys');
  try {
    const sessionKey = await generateSessionKey({ encryptionKeys: keys, config: ENCRYPTION_CONFIG });
    const message = await createMessage({ binary: new Uint8Array(payload.buffer, payload.byteOffset, payload.length) });
    return await encrypt({
      message,
      encryptionKeys: keys,
      sessionKey: { data: sessionKey.data, algorithm: sessionKey.algorithm },
      format: 'armored',
      config: ENCRYPTION_CONFIG,
    });
  } catch (error) {
    throw temporary('encrypt.failed', `encryption failed: ${(error as Error).message.slice(0, 120)}`, error);
  }
}
