// Splits a stored users.pgpkey value into one piece per key so `key remove` can drop exactly one.
// Parsable keys are re-armored one by one; a block that does not parse is kept verbatim (fingerprint '').
import { readKeys } from 'openpgp';
import { splitArmorBlocks } from '../keys/armor-blocks.js';

export interface StoredKey {
  /** Upper-case hex; '' for a block that does not parse. */
  readonly fingerprint: string;
  readonly armored: string;
}

export async function splitStoredKeys(pgpkey: string): Promise<StoredKey[]> {
  const pieces: StoredKey[] = [];
  for (const block of splitArmorBlocks(pgpkey)) {
    try {
      // readKeys reads public and private blocks alike: a private key stored by mistake can be removed too.
      const keys = await readKeys({ armoredKeys: block.text });
      for (const key of keys) pieces.push({ fingerprint: key.getFingerprint().toUpperCase(), armored: key.armor() });
    } catch {
      pieces.push({ fingerprint: '', armored: block.text });
    }
  }
  return pieces;
}

/** Blocks joined the way pgpipe stores several keys: armored blocks one after another. */
export function joinArmored(blocks: readonly string[]): string {
  return blocks.map((b) => (b.endsWith('\n') ? b : `${b}\n`)).join('');
}

/** `0xABCD EF01 ...` → `ABCDEF01...`; what the admin typed for a fingerprint or 16-digit key ID. */
export function normalizeFingerprint(text: string): string {
  return text.replace(/^0x/i, '').replace(/\s+/g, '').toUpperCase();
}
