// Random MIME boundaries that provably do not occur in the content they enclose.
import { randomBytes } from 'node:crypto';

const defaultToken = (): string => randomBytes(18).toString('hex');

/**
 * `=_pgpipe_<random>`: "=_" cannot occur in base64 or quoted-printable text, and the whole boundary is checked
 * against every buffer it will enclose; on a hit a new one is drawn. `nextToken` is for tests.
 */
export function chooseBoundary(enclosed: readonly Buffer[], nextToken: () => string = defaultToken): string {
  for (;;) {
    const boundary = `=_pgpipe_${nextToken()}`;
    if (enclosed.every((buf) => buf.indexOf(boundary, 0, 'latin1') === -1)) return boundary;
  }
}
