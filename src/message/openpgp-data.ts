// Tells encrypted OpenPGP data (armored or binary) from signed-only or plain data by its first packet.
// Encrypted means the first packet is a PKESK (tag 1), an SKESK (tag 3) or a Marker (tag 10) with a plausible
// header and start; `gpg --sign` output (compressed/one-pass-signature first) is NOT encrypted. Pure, bounded.

const BEGIN_MESSAGE = Buffer.from('-----BEGIN PGP MESSAGE-----', 'latin1');
/** Base64 characters of the armor body that are decoded: 48 bytes cover every check below. */
const ARMOR_B64_CHARS = 64;
/** Armor lines looked at (header lines + blank line + first data lines) before giving up. */
const ARMOR_LINES = 40;

const isWhitespace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/** Offset of the first non-whitespace byte. */
function skipWhitespace(bytes: Buffer): number {
  let at = 0;
  while (at < bytes.length && isWhitespace(bytes[at])) at += 1;
  return at;
}

/** The bytes begin (leading whitespace allowed) with `-----BEGIN PGP MESSAGE-----`. */
export function startsWithArmor(bytes: Buffer): boolean {
  const at = skipWhitespace(bytes);
  return bytes.subarray(at, at + BEGIN_MESSAGE.length).equals(BEGIN_MESSAGE);
}

interface PacketHeader {
  readonly tag: number;
  /** Body length, or -1 for partial/indeterminate lengths (never used by session-key packets). */
  readonly length: number;
  readonly headerLength: number;
}

/** RFC 4880/9580 §4.2 packet header, old and new format; undefined when the first byte is no packet tag. */
function packetHeader(bytes: Buffer): PacketHeader | undefined {
  const first = bytes[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  if (first & 0x40) {
    const tag = first & 0x3f;
    const b1 = bytes[1];
    if (b1 === undefined) return { tag, length: -1, headerLength: 1 };
    if (b1 < 192) return { tag, length: b1, headerLength: 2 };
    if (b1 < 224) return { tag, length: ((b1 - 192) << 8) + (bytes[2] ?? 0) + 192, headerLength: 3 };
    if (b1 === 255 && bytes.length >= 6) return { tag, length: bytes.readUInt32BE(2), headerLength: 6 };
    return { tag, length: -1, headerLength: 2 }; // partial body length
  }
  const tag = (first >> 2) & 0x0f;
  const lengthType = first & 0x03;
  if (lengthType === 3) return { tag, length: -1, headerLength: 1 }; // indeterminate
  const size = 1 << lengthType; // 1, 2 or 4 length bytes
  if (bytes.length < 1 + size) return { tag, length: -1, headerLength: 1 };
  return { tag, length: bytes.readUIntBE(1, size), headerLength: 1 + size };
}

/** Public-key algorithm ids a v3 PKESK may name (RSA, ElGamal, ECDH, X25519, X448 and experimental). */
const isPublicKeyAlgorithm = (id: number | undefined): boolean =>
  id !== undefined && ([1, 2, 16, 18, 20, 25, 26].includes(id) || (id >= 100 && id <= 110));

/** The first packet of binary OpenPGP data is a session-key packet (or a Marker), i.e. the data is encrypted. */
export function startsWithEncryptedPacket(bytes: Buffer): boolean {
  const header = packetHeader(bytes);
  if (header === undefined || header.length < 0) return false;
  const body = bytes.subarray(header.headerLength);
  switch (header.tag) {
    case 1: // PKESK: v3 = version, 8-byte key id, algorithm; v6 (RFC 9580) = version, length-prefixed fields
      if (body[0] === 3) return header.length >= 10 && isPublicKeyAlgorithm(body[9]);
      return body[0] === 6 && header.length >= 3;
    case 3: // SKESK: v4 = version, cipher, S2K type; v5/v6 (AEAD)
      if (body[0] === 4) {
        const cipher = body[1] ?? 0;
        return header.length >= 3 && cipher >= 1 && cipher <= 13 && [0, 1, 3, 4].includes(body[2] ?? -1);
      }
      return (body[0] === 5 || body[0] === 6) && header.length >= 3;
    case 10: // Marker: literally "PGP"
      return header.length === 3 && body.subarray(0, 3).toString('latin1') === 'PGP';
    default:
      return false;
  }
}

/** The armored block that starts `text` (leading whitespace allowed) holds encrypted data (first packet check). */
export function armorIsEncrypted(text: Buffer): boolean {
  if (!startsWithArmor(text)) return false;
  const lines = text.subarray(skipWhitespace(text), skipWhitespace(text) + 8192).toString('latin1').split('\n');
  let at = 1; // after the BEGIN line
  const line = (index: number): string => (lines[index] ?? '').replace(/\r$/, '');
  while (at < lines.length && at < ARMOR_LINES && line(at).includes(':')) at += 1; // armor headers
  while (at < lines.length && at < ARMOR_LINES && line(at).trim() === '') at += 1;
  let base64 = '';
  while (at < lines.length && at < ARMOR_LINES && base64.length < ARMOR_B64_CHARS) {
    const data = line(at).trim();
    if (data === '' || data.startsWith('=') || data.startsWith('-') || !/^[A-Za-z0-9+/=]+$/.test(data)) break;
    base64 += data;
    at += 1;
  }
  const usable = base64.length - (base64.length % 4);
  return startsWithEncryptedPacket(Buffer.from(base64.slice(0, usable), 'base64'));
}

/** Decoded part content that is encrypted OpenPGP data: an encrypted armor, or (binary allowed) raw packets. */
export function isEncryptedOpenPgp(decoded: Buffer, allowBinary: boolean): boolean {
  if (startsWithArmor(decoded)) return armorIsEncrypted(decoded);
  return allowBinary && startsWithEncryptedPacket(decoded);
}
