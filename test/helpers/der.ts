// A tiny DER writer for the S/MIME stand-ins the tests build (fuzz ciphertext, cleartext shapes): definite lengths
// up to 65,535 bytes, low tag numbers only.
export const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  const n = body.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
};

/** An OBJECT IDENTIFIER from its encoded bytes in hex. */
export const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, 'hex'));
