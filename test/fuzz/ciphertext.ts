// Seeded stand-ins for real encrypted data in fuzz inputs: OpenPGP packet sequences and S/MIME DER that have
// exactly the structure an encrypting client writes (session-key packets, one SEIPD with exact or partial lengths;
// a whole EnvelopedData ContentInfo), filled with random bytes. pgpipe passes them unchanged; the mutators then
// add readable text around or inside them. Deterministic; no crypto (nobody needs to decrypt them).
import { oid, tlv } from '../helpers/der.js';
import type { Rng } from './prng.js';

/** New-format packet header + body; `partial` splits the body into one 512-byte partial chunk and the rest. */
export function packet(tag: number, body: Buffer, partial = false): Buffer {
  const lengthOf = (n: number): Buffer =>
    n < 192
      ? Buffer.from([n])
      : n < 8384
        ? Buffer.from([((n - 192) >> 8) + 192, (n - 192) & 0xff])
        : Buffer.from([255, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  if (partial && body.length > 512) {
    const first = Buffer.from([0xc0 | tag, 224 + 9]); // a 512-byte partial chunk
    return Buffer.concat([first, body.subarray(0, 512), lengthOf(body.length - 512), body.subarray(512)]);
  }
  return Buffer.concat([Buffer.from([0xc0 | tag]), lengthOf(body.length), body]);
}

const mpi = (rng: Rng, bytes: number): Buffer => {
  const value = rng.bytes(bytes);
  value[0] = (value[0] ?? 0) | 0x80;
  return Buffer.concat([Buffer.from([(bytes * 8) >> 8, (bytes * 8) & 0xff]), value]);
};

/** One PKESK (RSA or ECDH, v3) or an SKESK, then one SEIPDv1 packet of random ciphertext. */
export function encryptedPackets(rng: Rng): Buffer {
  const esks: Buffer[] = [];
  for (let n = rng.range(1, 3); n > 0; n -= 1) {
    const keyId = rng.bytes(8);
    const roll = rng.int(3);
    if (roll === 0) esks.push(packet(1, Buffer.concat([Buffer.from([3]), keyId, Buffer.from([1]), mpi(rng, 256)])));
    else if (roll === 1) {
      const ecdh = [mpi(rng, 33), Buffer.from([48]), rng.bytes(48)];
      esks.push(packet(1, Buffer.concat([Buffer.from([3]), keyId, Buffer.from([18]), ...ecdh])));
    } else esks.push(packet(3, Buffer.concat([Buffer.from([4, 9, 3, 8]), rng.bytes(8), Buffer.from([0x60])])));
  }
  const body = Buffer.concat([Buffer.from([1]), rng.bytes(rng.range(40, 3000))]);
  return Buffer.concat([...esks, packet(18, body, rng.chance(0.3))]);
}

function crc24(bytes: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of bytes) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit += 1) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** ASCII armor as gpg writes it: BEGIN, blank line, 64-column base64, a CRC line (sometimes), END. */
export function armor(data: Buffer, eol: string, rng: Rng): string {
  const lines = data.toString('base64').match(/.{1,64}/g) ?? [];
  const crc = Buffer.alloc(3);
  crc.writeUIntBE(crc24(data), 0, 3);
  const crcLine = rng.chance(0.7) ? [`=${crc.toString('base64')}`] : [];
  return ['-----BEGIN PGP MESSAGE-----', '', ...lines, ...crcLine, '-----END PGP MESSAGE-----', ''].join(eol);
}

/** A definite-length EnvelopedData ContentInfo: one RSA recipient, AES-256-CBC content of random bytes. */
export function envelopedDer(rng: Rng): Buffer {
  const issuerAndSerial = tlv(0x30, tlv(0x30), tlv(0x02, Buffer.from([1 + rng.int(100)])));
  const recipient = tlv(
    0x30,
    tlv(0x02, Buffer.from([0])),
    issuerAndSerial,
    tlv(0x30, oid('2a864886f70d010101'), tlv(0x05)),
    tlv(0x04, rng.bytes(256)),
  );
  const content = tlv(
    0x30,
    oid('2a864886f70d010701'),
    tlv(0x30, oid('60864801650304012a'), tlv(0x04, rng.bytes(16))),
    tlv(0x80, rng.bytes(16 * rng.range(2, 40))),
  );
  const enveloped = tlv(0x30, tlv(0x02, Buffer.from([0])), tlv(0x31, recipient), content);
  return tlv(0x30, oid('2a864886f70d010703'), tlv(0xa0, enveloped));
}

export const base64Lines = (bytes: Buffer, eol: string): string =>
  `${(bytes.toString('base64').match(/.{1,76}/g) ?? []).join(eol)}${eol}`;
