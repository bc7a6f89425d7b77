// Tells S/MIME enveloped (encrypted) data from signed-data, certs-only or compressed-data, which only wrap
// readable content. Looks at the smime-type parameter and at the CMS ContentInfo OID at the start of the DER.
import { contentTypeOf, transferEncodingOf } from './content-type.js';
import { decodeTransfer } from './transfer-decoding.js';
import type { HeaderField } from './types.js';

/** OID bodies (without tag/length): envelopedData 1.2.840.113549.1.7.3, authEnvelopedData 1.2.840.113549.1.9.16.1.23. */
const ENVELOPED_OIDS = [Buffer.from('2a864886f70d010703', 'hex'), Buffer.from('2a864886f70d0109100117', 'hex')];
const ENVELOPED_TYPES = new Set(['enveloped-data', 'authenveloped-data']);
/** Raw (transfer-encoded) bytes decoded to read the ContentInfo header. */
const RAW_PREFIX = 256;

/** The contentType OID body of a DER/BER ContentInfo (`30 len 06 len oid`), if the bytes start with one. */
function contentInfoOid(der: Buffer): Buffer | undefined {
  if (der[0] !== 0x30) return undefined;
  const lengthByte = der[1];
  if (lengthByte === undefined) return undefined;
  // Short form, indefinite (0x80, BER as `openssl smime` writes it) or long form with 1-4 length bytes.
  const at = lengthByte <= 0x80 ? 2 : lengthByte <= 0x84 ? 2 + (lengthByte & 0x7f) : -1;
  if (at < 0 || der[at] !== 0x06) return undefined;
  const oidLength = der[at + 1] ?? 0;
  if (oidLength === 0 || oidLength > 0x7f || der.length < at + 2 + oidLength) return undefined;
  return der.subarray(at + 2, at + 2 + oidLength);
}

/**
 * The part is CMS enveloped/authEnveloped data. A present smime-type must say so, and the DER must agree
 * (a mislabelled plaintext body is not protected); without smime-type the DER alone decides.
 */
export function isSmimeEnveloped(fields: readonly HeaderField[], body: Buffer): boolean {
  const smimeType = contentTypeOf(fields).params['smime-type']?.trim().toLowerCase();
  if (smimeType !== undefined && !ENVELOPED_TYPES.has(smimeType)) return false;
  const oid = contentInfoOid(decodeTransfer(body, transferEncodingOf(fields), RAW_PREFIX));
  return oid !== undefined && ENVELOPED_OIDS.some((known) => known.equals(oid));
}
