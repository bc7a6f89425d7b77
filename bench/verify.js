// Correctness checks for the bench: a pgpipe output counts only if it is PGP/MIME, hides the body, and decrypts
// with gpg to a payload holding the original body (bare LF made CRLF). A fast wrong answer is a failure.
import { readFileSync } from 'node:fs';
import { gpg } from './keyring.js';

const BEGIN = Buffer.from('-----BEGIN PGP MESSAGE-----');
const END = Buffer.from('-----END PGP MESSAGE-----');

function bodyOf(raw) {
  const lf = raw.indexOf('\n\n');
  const crlf = raw.indexOf('\r\n\r\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return raw.subarray(crlf + 4);
  return lf === -1 ? Buffer.alloc(0) : raw.subarray(lf + 2);
}

function toCrlf(buf) {
  return Buffer.from(buf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** Decrypts the armored block of a PGP/MIME output with the secret keyring; returns the plaintext. */
export function decryptOutput(output, secretHome) {
  const begin = output.indexOf(BEGIN);
  const end = output.indexOf(END, begin);
  if (begin === -1 || end === -1) throw new Error('no PGP MESSAGE block in the output');
  return gpg(secretHome, ['--decrypt'], output.subarray(begin, end + END.length));
}

/**
 * Throws unless `outputPath` is a correct encryption of `original`.
 * @param {{ outputPath: string, original: Buffer, secretHome: string, exact: boolean }} check
 *   exact: the payload must hold the original body byte for byte (pgpipe); the reference re-encodes MIME parts.
 */
export function checkEncrypted({ outputPath, original, secretHome, exact }) {
  const output = readFileSync(outputPath);
  const header = output.subarray(0, bodyOf(output).byteOffset - output.byteOffset).toString('latin1');
  if (!/^content-type:\s*multipart\/encrypted;/im.test(header)) throw new Error('output is not multipart/encrypted');
  const body = bodyOf(original);
  // A stretch from the middle of the body (the start may be a MIME preamble the reference keeps outside).
  const middle = Math.floor(body.length / 2);
  const probe = body.subarray(middle, Math.min(middle + 64, body.length));
  if (probe.length > 0 && output.includes(probe)) throw new Error('output still contains the plaintext body');
  const plain = decryptOutput(output, secretHome);
  if (exact && !plain.includes(toCrlf(body))) throw new Error('decrypted payload does not hold the original body');
  if (!exact && plain.length < body.length / 2) throw new Error('decrypted payload is too short');
}
