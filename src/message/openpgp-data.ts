// Tells encrypted OpenPGP data (armored or binary) from everything else, strictly: the data passes only when it is
// exactly what an encrypting client writes, so no byte of it can be readable text.
// - Binary: the whole packet sequence is read (RFC 9580 §10.3): one or more PKESK/SKESK packets (Marker packets
//   allowed among them), then exactly one encrypted-data packet (SEIPD v1/v2, or the AEAD packet GnuPG 2.3+
//   writes), then nothing. Every length must agree, the session-key packets must parse to their last byte, and
//   partial lengths are allowed only where RFC 9580 §4.2.1.4 allows them (data packets, first chunk >= 512).
//   Legacy SED (tag 9) is refused: no current client writes it, GnuPG refuses to decrypt it, and it has no
//   structure to check at all. `gpg --sign`/`--store` output (compressed or literal data) is not encrypted.
// - Armored: BEGIN line, blank line, canonical base64, an optional CRC line that must match, END line, and only
//   whitespace around it. Armor headers are readable text, so only the fixed product strings clients write pass
//   (`Version: GnuPG v1`, `Version: ProtonMail`, `Comment: https://gpgtools.org`, ...: version digits at most);
//   any other Comment:, Version: or Key: value line makes the armor "not only ciphertext". Pure and linear.

const BEGIN_MESSAGE = Buffer.from('-----BEGIN PGP MESSAGE-----', 'latin1');
const END_MESSAGE = Buffer.from('-----END PGP MESSAGE-----', 'latin1');

const isWhitespace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;

/** Offset of the first non-whitespace byte at or after `from`. */
function skipWhitespace(bytes: Buffer, from = 0): number {
  let at = from;
  while (at < bytes.length && isWhitespace(bytes[at])) at += 1;
  return at;
}

/** The bytes begin (leading whitespace allowed) with `-----BEGIN PGP MESSAGE-----`. */
export function startsWithArmor(bytes: Buffer): boolean {
  const at = skipWhitespace(bytes);
  return bytes.subarray(at, at + BEGIN_MESSAGE.length).equals(BEGIN_MESSAGE);
}

// ---- armor ----

/** RFC 4880 §6.1 CRC-24, table-driven (a bit loop costs about a second on a 20 MB message). */
const CRC24_TABLE = (() => {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte << 16;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x800000 ? (crc << 1) ^ 0x1864cfb : crc << 1;
    table[byte] = crc & 0xffffff;
  }
  return table;
})();

function crc24(bytes: Buffer): number {
  let crc = 0xb704ce;
  for (let at = 0; at < bytes.length; at += 1) {
    crc = ((crc << 8) ^ (CRC24_TABLE[((crc >> 16) ^ (bytes[at] ?? 0)) & 0xff] ?? 0)) & 0xffffff;
  }
  return crc;
}

/** One line: content [start, end) without its EOL and without trailing blanks; `next` starts the next line. */
interface Line {
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

function lineAt(text: Buffer, start: number): Line {
  const lf = text.indexOf(0x0a, start);
  const next = lf === -1 ? text.length : lf + 1;
  let end = lf === -1 ? text.length : lf;
  if (end > start && text[end - 1] === 0x0d) end -= 1;
  while (end > start && (text[end - 1] === 0x20 || text[end - 1] === 0x09)) end -= 1;
  return { start, end, next };
}

const lineEquals = (text: Buffer, line: Line, expected: Buffer): boolean =>
  line.end - line.start === expected.length && text.subarray(line.start, line.end).equals(expected);

const BASE64_CHARS = (() => {
  const table = new Uint8Array(256);
  for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') table[char.charCodeAt(0)] = 1;
  return table;
})();
const isBase64Char = (byte: number | undefined): boolean => byte !== undefined && BASE64_CHARS[byte] === 1;

/** What an armor line is: base64 data (padded or not), the CRC line, a dash line (END), or anything else. */
function lineKind(text: Buffer, line: Line): 'data' | 'padded' | 'crc' | 'dash' | 'other' {
  const first = text[line.start];
  if (first === 0x2d) return 'dash';
  if (first === 0x3d) {
    let at = line.start + 1;
    while (at < line.end && isBase64Char(text[at])) at += 1;
    return at === line.end && line.end - line.start === 5 ? 'crc' : 'other';
  }
  let at = line.start;
  while (at < line.end && isBase64Char(text[at])) at += 1;
  if (at === line.start) return 'other';
  const dataEnd = at;
  while (at < line.end && at < dataEnd + 2 && text[at] === 0x3d) at += 1;
  if (at !== line.end) return 'other';
  return at === dataEnd ? 'data' : 'padded';
}

const NUMBER = '\\d{1,2}(?:\\.\\d{1,2}){1,2}';
/**
 * Armor header lines that carry no text of the sender's: the product strings of GnuPG 1.x/2.0, ProtonMail
 * (GopenPGP), OpenPGP.js, Mailvelope, Bouncy Castle, Keybase, and the project URLs of their Comment lines.
 */
const KNOWN_ARMOR_HEADER = new RegExp(
  '^(?:' +
    [
      'Version: GnuPG v[12](?:\\.\\d{1,2}){0,2}(?: \\((?:GNU/Linux|MingW32|Darwin|Cygwin|FreeBSD|OpenBSD|NetBSD)\\))?',
      'Version: ProtonMail',
      `Version: (?:OpenPGP\\.js|Mailvelope|BCPG(?: C#)?|Keybase OpenPGP) v${NUMBER}`,
      `Version: GopenPGP ${NUMBER}`,
      'Comment: (?:GPGTools - )?https?://(?:www\\.)?(?:gnupg\\.org|gpgtools\\.org|openpgpjs\\.org|mailvelope\\.com|' +
        'protonmail\\.com|proton\\.me|gopenpgp\\.org|keybase\\.io/crypto|openkeychain\\.org)/?',
      'Comment: Using GnuPG with (?:Thunderbird|Mozilla|SeaMonkey|Icedove) - https?://(?:www\\.)?enigmail\\.net/?',
      'Charset: (?:UTF-8|US-ASCII|ISO-8859-\\d{1,2})',
    ].join('|') +
    ')$',
  'i',
);
/** More header lines than any client writes: refused. */
const MAX_ARMOR_HEADERS = 4;

/**
 * The binary data of `text` when it is exactly one PGP MESSAGE armor with only whitespace around it and no armor
 * headers; undefined for anything else (text before or after, headers, junk in the base64, a wrong CRC).
 */
export function parseArmor(text: Buffer): Buffer | undefined {
  let line = lineAt(text, skipWhitespace(text));
  if (!lineEquals(text, line, BEGIN_MESSAGE)) return undefined;
  for (let headers = 0; ; headers += 1) {
    line = lineAt(text, line.next);
    if (line.end === line.start || headers === MAX_ARMOR_HEADERS) break;
    if (!KNOWN_ARMOR_HEADER.test(text.toString('latin1', line.start, line.end))) return undefined;
  }
  if (line.end !== line.start || line.next >= text.length) return undefined; // no blank line, or nothing after
  const data = Buffer.allocUnsafe(text.length); // the base64 characters, lines joined
  let dataLength = 0;
  let crc: Buffer | undefined;
  let padded = false;
  for (line = lineAt(text, line.next); ; line = lineAt(text, line.next)) {
    if (line.start >= text.length) return undefined; // no END line
    const kind = lineKind(text, line);
    if (kind === 'dash') break;
    if (crc !== undefined || kind === 'other') return undefined; // only the END line may follow the CRC line
    if (kind === 'crc') {
      if (dataLength === 0) return undefined;
      crc = text.subarray(line.start + 1, line.end);
    } else if (padded)
      return undefined; // base64 data after the padding
    else {
      dataLength += text.copy(data, dataLength, line.start, line.end);
      padded = kind === 'padded';
    }
  }
  if (!lineEquals(text, line, END_MESSAGE) || skipWhitespace(text, line.next) !== text.length) return undefined;
  if (dataLength % 4 !== 0) return undefined; // a cut-off group (padding was checked line by line)
  const decoded = Buffer.from(data.toString('latin1', 0, dataLength), 'base64');
  if (decoded.length === 0) return undefined;
  if (crc !== undefined && Buffer.from(crc.toString('latin1'), 'base64').readUIntBE(0, 3) !== crc24(decoded)) {
    return undefined;
  }
  return decoded;
}

// ---- packets ----

interface Packet {
  readonly tag: number;
  /** The body when its length is fixed; the first chunk when it has partial lengths (>= 512 bytes). */
  readonly head: Buffer;
  /** Total body length. */
  readonly length: number;
  /** Offset after the packet. */
  readonly next: number;
}

/** Tags whose bodies may be split by partial lengths that we accept (SEIPD, AEAD). */
const PARTIAL_OK = new Set([18, 20]);
const MIN_FIRST_PARTIAL = 512;

/** The new-format body length at `at`: [length, bytes used, partial] or undefined when cut off. */
function newLength(bytes: Buffer, at: number): [number, number, boolean] | undefined {
  const b1 = bytes[at];
  if (b1 === undefined) return undefined;
  if (b1 < 192) return [b1, 1, false];
  if (b1 < 224) {
    const b2 = bytes[at + 1];
    return b2 === undefined ? undefined : [((b1 - 192) << 8) + b2 + 192, 2, false];
  }
  if (b1 === 255) return at + 5 <= bytes.length ? [bytes.readUInt32BE(at + 1), 5, false] : undefined;
  return [1 << (b1 & 0x1f), 1, true];
}

/** RFC 9580 §4.2 packet at `at` (old or new format), undefined for anything malformed or cut off. */
function readPacket(bytes: Buffer, at: number): Packet | undefined {
  const first = bytes[at];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  let tag: number;
  let start: number;
  let length: number;
  let partial = false;
  if (first & 0x40) {
    tag = first & 0x3f;
    const read = newLength(bytes, at + 1);
    if (read === undefined) return undefined;
    [length, , partial] = read;
    start = at + 1 + read[1];
  } else {
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    if (lengthType === 3) return undefined; // indeterminate: only ever used for data we do not accept
    const size = 1 << lengthType;
    if (at + 1 + size > bytes.length) return undefined;
    length = bytes.readUIntBE(at + 1, size);
    start = at + 1 + size;
  }
  if (!partial) {
    if (start + length > bytes.length) return undefined;
    return { tag, head: bytes.subarray(start, start + length), length, next: start + length };
  }
  if (!PARTIAL_OK.has(tag) || length < MIN_FIRST_PARTIAL) return undefined;
  const head = bytes.subarray(start, start + length);
  let total = 0;
  let chunkStart = start;
  for (;;) {
    if (chunkStart + length > bytes.length) return undefined;
    total += length;
    if (!partial) return { tag, head, length: total, next: chunkStart + length };
    const read = newLength(bytes, chunkStart + length);
    if (read === undefined) return undefined;
    chunkStart += length + read[1];
    [length, , partial] = read;
  }
}

/** Session-key sizes by symmetric algorithm id (IDEA, 3DES, CAST5, Blowfish, AES, Twofish, Camellia). */
const KEY_LENGTH: Record<number, number> = {
  1: 16,
  2: 24,
  3: 16,
  4: 16,
  7: 16,
  8: 24,
  9: 32,
  10: 32,
  11: 16,
  12: 24,
  13: 32,
};
const BLOCK_128 = new Set([7, 8, 9, 10, 11, 12, 13]);
/** Nonce sizes of the AEAD modes: EAX, OCB, GCM. */
const IV_LENGTH: Record<number, number> = { 1: 16, 2: 15, 3: 12 };

/** Length of the MPI at `at` (2-byte bit count + bytes), or -1 when it does not fit. */
function mpiLength(body: Buffer, at: number): number {
  if (at + 2 > body.length) return -1;
  const bits = body.readUInt16BE(at);
  const size = 2 + ((bits + 7) >> 3);
  return bits > 0 && at + size <= body.length ? size : -1;
}

/** The algorithm-specific fields of a PKESK fill `fields` exactly (RFC 9580 §5.1.3-5.1.7). */
function keyFieldsFill(algorithm: number, fields: Buffer): boolean {
  const lengthPrefixed = (at: number): boolean => at < fields.length && at + 1 + (fields[at] ?? 0) === fields.length;
  switch (algorithm) {
    case 1: // RSA
    case 2:
      return mpiLength(fields, 0) === fields.length;
    case 16: // ElGamal
    case 20: {
      const first = mpiLength(fields, 0);
      const second = first > 0 ? mpiLength(fields, first) : -1;
      return second > 0 && first + second === fields.length;
    }
    case 18: {
      // ECDH: ephemeral point MPI, then the length-prefixed wrapped session key
      const point = mpiLength(fields, 0);
      return point > 0 && lengthPrefixed(point);
    }
    case 25: // X25519 / X448: fixed ephemeral key, then length-prefixed (algorithm and) wrapped key
      return lengthPrefixed(32);
    case 26:
      return lengthPrefixed(56);
    default:
      return false;
  }
}

function isPkesk(body: Buffer): boolean {
  if (body[0] === 3) return body.length > 10 && keyFieldsFill(body[9] ?? 0, body.subarray(10));
  if (body[0] !== 6) return false;
  const keyInfo = body[1] ?? 0; // 0 (anonymous) or key version + 20/32-byte fingerprint
  if (keyInfo !== 0 && !(keyInfo === 21 && body[2] === 4) && !(keyInfo === 33 && body[2] === 6)) return false;
  return body.length > 3 + keyInfo && keyFieldsFill(body[2 + keyInfo] ?? 0, body.subarray(3 + keyInfo));
}

/** Length of the S2K specifier at `at` (simple, salted, iterated, Argon2), or -1. */
function s2kLength(body: Buffer, at: number): number {
  const size = { 0: 2, 1: 10, 3: 11, 4: 20 }[body[at] ?? -1] ?? -1;
  return size > 0 && at + size <= body.length ? size : -1;
}

function isSkesk(body: Buffer): boolean {
  const version = body[0];
  const cipher = body[version === 6 ? 2 : 1] ?? 0;
  const keyLength = KEY_LENGTH[cipher];
  if (keyLength === undefined) return false;
  if (version === 4) {
    const s2k = s2kLength(body, 2);
    const rest = body.length - 2 - s2k; // optional encrypted session key: algorithm byte + key
    return s2k > 0 && (rest === 0 || rest === 17 || rest === 25 || rest === 33);
  }
  if (version === 5) {
    const iv = IV_LENGTH[body[2] ?? 0];
    const s2k = s2kLength(body, 3);
    return iv !== undefined && s2k > 0 && body.length === 3 + s2k + iv + keyLength + 16;
  }
  if (version === 6) {
    const iv = IV_LENGTH[body[3] ?? 0];
    const s2kSize = body[4] ?? 0;
    if (iv === undefined || s2kLength(body, 5) !== s2kSize || body[1] !== 3 + s2kSize + iv) return false;
    return body.length === 5 + s2kSize + iv + keyLength + 16;
  }
  return false;
}

/** SEIPD v1/v2 (tag 18) or the LibrePGP AEAD packet (tag 20), judged by its header and total length. */
function isEncryptedData(packet: Packet): boolean {
  const { head, length } = packet;
  if (packet.tag === 18 && head[0] === 1) return length >= 1 + 10 + 22; // prefix (>= 8-byte block + 2) and MDC
  const cipher = head[1] ?? 0;
  const iv = IV_LENGTH[head[2] ?? 0];
  if (!BLOCK_128.has(cipher) || iv === undefined) return false;
  if (packet.tag === 18 && head[0] === 2) return (head[3] ?? 99) <= 16 && length >= 4 + 32 + 16 + 16 + 1;
  if (packet.tag === 20 && head[0] === 1) {
    return head[2] !== 3 && (head[3] ?? 99) <= 56 && length >= 4 + iv + 16 + 16 + 1; // EAX or OCB only
  }
  return false;
}

/** Exactly one encrypted message: session-key packets (and Markers), one encrypted-data packet, nothing after. */
export function isEncryptedMessage(bytes: Buffer): boolean {
  let sessionKeys = 0;
  let at = 0;
  while (at < bytes.length) {
    const packet = readPacket(bytes, at);
    if (packet === undefined) return false;
    at = packet.next;
    if (packet.tag === 1 && isPkesk(packet.head)) sessionKeys += 1;
    else if (packet.tag === 3 && isSkesk(packet.head)) sessionKeys += 1;
    else if (packet.tag === 10 && packet.head.toString('latin1') === 'PGP') continue;
    else return sessionKeys > 0 && at === bytes.length && isEncryptedData(packet);
  }
  return false;
}

/** Decoded part content that is one encrypted OpenPGP message: an armor, or (binary allowed) raw packets. */
export function isEncryptedOpenPgp(decoded: Buffer, allowBinary: boolean): boolean {
  if (startsWithArmor(decoded)) {
    const data = parseArmor(decoded);
    return data !== undefined && isEncryptedMessage(data);
  }
  return allowBinary && isEncryptedMessage(decoded);
}

/** Cheap first look at a decoded prefix: could this be encrypted OpenPGP data at all (an armor, or an ESK first)? */
export function mayBeEncryptedOpenPgp(prefix: Buffer, allowBinary: boolean): boolean {
  if (startsWithArmor(prefix)) return true;
  const first = prefix[0] ?? 0;
  if (!allowBinary || (first & 0x80) === 0) return false;
  const tag = first & 0x40 ? first & 0x3f : (first >> 2) & 0x0f;
  return tag === 1 || tag === 3 || tag === 10;
}
