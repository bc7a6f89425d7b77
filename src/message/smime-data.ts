// Tells S/MIME enveloped (encrypted) data from signed-data, certs-only, compressed-data or anything that merely
// starts like enveloped data. Strict: the part's whole transfer-decoded content must be one BER/DER ContentInfo
// that parses to its last byte, holding EnvelopedData (RFC 5652 §6.1) or AuthEnvelopedData (RFC 5083) with the
// encrypted content present, and nothing after it. The optional fields that carry readable data in clear
// (originatorInfo certificates, unprotected/authenticated/unauthenticated attributes) are refused: `openssl smime`,
// `openssl cms`, Thunderbird (NSS) and Outlook do not write them, and an encrypted copy costs nothing.
import { contentTypeOf, transferEncodingOf } from './content-type.js';
import { decodeTransferStrict } from './transfer-decoding.js';
import type { HeaderField } from './types.js';

/** OID bodies: envelopedData 1.2.840.113549.1.7.3, authEnvelopedData 1.2.840.113549.1.9.16.1.23. */
const ENVELOPED_OID = Buffer.from('2a864886f70d010703', 'hex');
const AUTH_ENVELOPED_OID = Buffer.from('2a864886f70d0109100117', 'hex');
const ENVELOPED_TYPES = new Set(['enveloped-data', 'authenveloped-data']);
/** BER nesting followed before giving up (CMS enveloped data nests about a dozen levels). */
const MAX_DEPTH = 40;

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const OID = 0x06;
const OCTET_STRING = 0x04;
const OCTET_STRING_CONSTRUCTED = 0x24;
const CONTEXT_0_CONSTRUCTED = 0xa0;
const CONTEXT_0_PRIMITIVE = 0x80;

interface Tlv {
  /** The identifier octet (low tag numbers only; CMS uses no others). */
  readonly tag: number;
  /** Content range; for an indefinite length it ends before the end-of-contents octets. */
  readonly start: number;
  readonly end: number;
  readonly next: number;
  readonly children: readonly Tlv[];
}

/** One BER TLV at `at` that ends by `limit`, with every constructed element's children parsed; else undefined. */
function readTlv(der: Buffer, at: number, limit: number, depth: number): Tlv | undefined {
  const tag = der[at];
  const lengthByte = der[at + 1];
  if (
    at + 2 > limit ||
    tag === undefined ||
    lengthByte === undefined ||
    tag === 0 ||
    (tag & 0x1f) === 0x1f ||
    depth > MAX_DEPTH
  ) {
    return undefined;
  }
  const constructed = (tag & 0x20) !== 0;
  let start = at + 2;
  let end: number | undefined;
  if (lengthByte < 0x80) end = start + lengthByte;
  else if (lengthByte > 0x80 && lengthByte <= 0x84) {
    const size = lengthByte & 0x7f;
    if (start + size > limit) return undefined;
    end = start + size + der.readUIntBE(start, size);
    start += size;
  } else if (lengthByte !== 0x80 || !constructed) return undefined; // indefinite only for constructed elements
  if (end !== undefined && end > limit) return undefined;
  const children: Tlv[] = [];
  if (!constructed) return end === undefined ? undefined : { tag, start, end, next: end, children };
  let child = start;
  for (;;) {
    if (end === undefined && der[child] === 0 && der[child + 1] === 0 && child + 2 <= limit) {
      return { tag, start, end: child, next: child + 2, children };
    }
    if (end !== undefined && child === end) return { tag, start, end, next: end, children };
    const parsed = readTlv(der, child, end ?? limit, depth + 1);
    if (parsed === undefined) return undefined;
    children.push(parsed);
    child = parsed.next;
  }
}

const tags = (tlv: Tlv): number[] => tlv.children.map((child) => child.tag);
const sameTags = (tlv: Tlv, expected: readonly number[]): boolean =>
  tlv.children.length === expected.length && tags(tlv).every((tag, index) => tag === expected[index]);

/** encryptedContent: primitive [0], or constructed [0] of (possibly constructed) OCTET STRING chunks. */
function isOctetChunks(tlv: Tlv): boolean {
  return tlv.children.every(
    (child) => child.tag === OCTET_STRING || (child.tag === OCTET_STRING_CONSTRUCTED && isOctetChunks(child)),
  );
}

/** EncryptedContentInfo with its encrypted content present: SEQUENCE { OID, AlgorithmIdentifier, [0] content }. */
function isEncryptedContentInfo(tlv: Tlv | undefined): boolean {
  if (tlv === undefined || tlv.children.length !== 3) return false;
  const [type, algorithm, content] = tlv.children as [Tlv, Tlv, Tlv];
  if (type.tag !== OID || algorithm.tag !== SEQUENCE) return false;
  return content.tag === CONTEXT_0_PRIMITIVE || (content.tag === CONTEXT_0_CONSTRUCTED && isOctetChunks(content));
}

/** The whole DER is one ContentInfo holding EnvelopedData or AuthEnvelopedData, and nothing trails it. */
export function isEnvelopedDer(der: Buffer): boolean {
  const info = readTlv(der, 0, der.length, 0);
  if (info === undefined || info.next !== der.length || info.tag !== SEQUENCE) return false;
  if (!sameTags(info, [OID, CONTEXT_0_CONSTRUCTED])) return false;
  const [oid, explicit] = info.children as [Tlv, Tlv];
  const inner = explicit.children.length === 1 ? explicit.children[0] : undefined;
  if (inner === undefined || inner.tag !== SEQUENCE) return false;
  const oidBody = der.subarray(oid.start, oid.end);
  const recipients = inner.children[1];
  if (recipients === undefined || recipients.children.length === 0) return false;
  // version, recipientInfos, encryptedContentInfo (+ mac for AuthEnvelopedData); no optional fields in clear
  if (oidBody.equals(ENVELOPED_OID)) {
    return sameTags(inner, [INTEGER, SET, SEQUENCE]) && isEncryptedContentInfo(inner.children[2]);
  }
  if (oidBody.equals(AUTH_ENVELOPED_OID)) {
    return sameTags(inner, [INTEGER, SET, SEQUENCE, OCTET_STRING]) && isEncryptedContentInfo(inner.children[2]);
  }
  return false;
}

/**
 * The part is CMS enveloped/authEnveloped data. A present smime-type must say so, and the DER must agree
 * (a mislabelled plaintext body is not protected); without smime-type the DER alone decides.
 */
export function isSmimeEnveloped(fields: readonly HeaderField[], body: Buffer): boolean {
  const smimeType = contentTypeOf(fields).params['smime-type']?.trim().toLowerCase();
  if (smimeType !== undefined && !ENVELOPED_TYPES.has(smimeType)) return false;
  const der = decodeTransferStrict(body, transferEncodingOf(fields));
  return der !== undefined && isEnvelopedDer(der);
}
