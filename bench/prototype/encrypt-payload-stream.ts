// PROTOTYPE (bench only; a proposal for src/keys/encrypt-payload.ts): the same OpenPGP message as encryptPayload
// (SEIPDv1 + v3 PKESK, binary literal data, armored), but streamed through OpenPGP.js in 64 KiB pieces and returned
// as LF-armor Buffer chunks, so a 20 MB message is never held as one armored string plus its copies.
import { createMessage, encrypt, generateSessionKey } from 'openpgp';
import type { PublicKey } from 'openpgp';

// 64 KiB: the armor comes back as ~87 KB strings that die young; 1 MiB pieces give ~1.4 MB strings that sit in
// V8's large-object space until a full GC (20 MB message, real CLI: 64 KiB 173 MB peak RSS, 256 KiB 198-208, 1 MiB 226).
const PIECE = 1 << 16;

/** A Web ReadableStream over `payload` without copying it (OpenPGP.js v6 takes Web streams, not Node streams). */
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

/** Armored OpenPGP message as LF-terminated latin1 Buffer chunks (concatenated, they equal encryptPayload's text). */
// In src, keep passing `config: ENCRYPTION_CONFIG` to generateSessionKey and encrypt as encrypt-payload.ts does now.
export async function encryptPayloadChunks(payload: Buffer, keys: PublicKey[]): Promise<Buffer[]> {
  const sessionKey = await generateSessionKey({ encryptionKeys: keys });
  const message = await createMessage({ binary: piecesOf(payload) });
  const armored = await encrypt({
    message,
    encryptionKeys: keys,
    // NOTE: a session key without aeadAlgorithm is what forces SEIPDv1 (pgp-mime.md §3).
    sessionKey: { data: sessionKey.data, algorithm: sessionKey.algorithm },
    format: 'armored',
  });
  const chunks: Buffer[] = [];
  // Streamed input gives a ReadableStream<string> of armor text (ASCII only).
  for await (const text of armored as unknown as AsyncIterable<string>) chunks.push(Buffer.from(text, 'latin1'));
  return chunks;
}
