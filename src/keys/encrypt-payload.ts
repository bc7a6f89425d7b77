// Encrypts one canonical MIME payload to several public keys as an armored OpenPGP message.
// Always SEIPDv1 + v3 PKESK (RFC 4880) so GnuPG 2.2 can read it, whatever the keys advertise. No I/O.
import { createMessage, encrypt, generateSessionKey } from 'openpgp';
import type { PublicKey } from 'openpgp';
import { temporary } from '../errors.js';
import { ENCRYPTION_CONFIG } from './encryption-config.js';

/** Armor as one string (small payloads) or as LF-armor latin1 chunks that concatenate to the same text (large). */
export type Armor = string | readonly Buffer[];

/** From this payload size on, encryption is streamed (below it the stream machinery costs more than it saves). */
export const STREAM_THRESHOLD = 1 << 20;

// 64 KiB pieces: OpenPGP.js then hands back ~87 KB armor strings that die young. 1 MiB pieces give ~1.4 MB strings
// that sit in V8's large-object space until a full GC (20 MB message: 64 KiB ≈ 200 MB peak RSS, 1 MiB ≈ 250 MB).
const PIECE = 1 << 16;

/**
 * One PKESK per key, binary literal data. NOTE: passing a session key without aeadAlgorithm is what forces
 * SEIPDv1; letting OpenPGP.js choose gives SEIPDv2 when every key advertises it
 * (AEAD feature flag), which GnuPG 2.2 cannot decrypt.
 * ENCRYPTION_CONFIG is the config inspectKeys judged each key with, so OpenPGP.js picks the very subkey reported
 * usable and never a newer weak one (OpenPGP.js's own default accepts RSA-2047).
 * Throws temporary('encrypt.failed') (defer, never bounce) for no keys; OpenPGP.js errors propagate wrapped the
 * same way.
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
    throw wrapped(error);
  }
}

/**
 * The same message as encryptPayload, but payloads of STREAM_THRESHOLD bytes or more are streamed through
 * OpenPGP.js and come back as chunks, so a 20 MB message is never held as one armored string plus its copies
 * (peak RSS 440 → ~200 MB). `forceStream` is for tests of the streamed path on small payloads.
 */
export async function encryptPayloadArmor(payload: Buffer, keys: PublicKey[], forceStream = false): Promise<Armor> {
  if (!forceStream && payload.length < STREAM_THRESHOLD) return encryptPayload(payload, keys);
  if (keys.length === 0) throw temporary('encrypt.failed', 'no encryption keys');
  try {
    const sessionKey = await generateSessionKey({ encryptionKeys: keys, config: ENCRYPTION_CONFIG });
    const message = await createMessage({ binary: piecesOf(payload) });
    const armored = await encrypt({
      message,
      encryptionKeys: keys,
      sessionKey: { data: sessionKey.data, algorithm: sessionKey.algorithm },
      format: 'armored',
      config: ENCRYPTION_CONFIG,
    });
    // Streamed input gives a ReadableStream<string> of armor text (ASCII only, so latin1 is exact).
    const chunks: Buffer[] = [];
    for await (const text of armored as unknown as AsyncIterable<string>) chunks.push(Buffer.from(text, 'latin1'));
    return chunks;
  } catch (error) {
    throw wrapped(error);
  }
}

/** A Web ReadableStream over `payload` in PIECE-sized views, no copy (OpenPGP.js v6 takes Web streams only). */
function piecesOf(payload: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= payload.length) {
        controller.close();
        return;
      }
      const length = Math.min(PIECE, payload.length - offset);
      controller.enqueue(new Uint8Array(payload.buffer, payload.byteOffset + offset, length));
      offset += length;
    },
  });
}

const wrapped = (error: unknown) =>
  temporary('encrypt.failed', `encryption failed: ${(error as Error).message.slice(0, 120)}`, error);
