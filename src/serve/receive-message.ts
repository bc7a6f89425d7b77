// Reads one message's DATA stream (smtp-server has already removed the dot-stuffing and stops only at CRLF.CRLF)
// into memory under the transaction's Reservation of the shared budget and the size limit. Over either, it keeps
// reading to the end (the client must get its reply after the final dot) but holds nothing more, and says why.
import type { Readable } from 'node:stream';
import type { Reservation } from './memory-budget.js';

export type Received =
  /** The whole message; the reservation covers it until the caller releases it. */
  | { readonly kind: 'message'; readonly raw: Buffer }
  /** Over the size limit (message_size_limit): nothing held. */
  | { readonly kind: 'too-big'; readonly bytes: number }
  /** The budget was exhausted by all connections together: nothing held. */
  | { readonly kind: 'over-budget'; readonly bytes: number }
  /** The connection broke before the final dot: nothing held, nothing to answer. */
  | { readonly kind: 'broken' }
  /** No final dot within the deadline (a client trickling bytes): nothing held; the caller drops the session. */
  | { readonly kind: 'timed-out'; readonly bytes: number };

/**
 * `sizeLimit` 0 = none; `deadlineMs` bounds the whole DATA (smtp-server's own timer is only for inactivity, which a
 * byte every few seconds never reaches). Never rejects. Bytes are counted against what the reservation already holds
 * (MAIL FROM SIZE=) before it grows; on any refusal the reservation is released.
 */
export function receiveMessage(
  stream: Readable,
  reservation: Reservation,
  sizeLimit: number,
  deadlineMs: number,
): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let refusal: 'too-big' | 'over-budget' | null = null;
    const drop = (why: 'too-big' | 'over-budget'): void => {
      refusal = why;
      chunks.length = 0;
      reservation.release();
    };
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (refusal !== null) return;
      if (sizeLimit > 0 && bytes > sizeLimit) return drop('too-big');
      if (!reservation.ensure(bytes)) return drop('over-budget');
      chunks.push(chunk);
    });
    let settled = false;
    const settle = (result: Received): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      drop('too-big'); // holds nothing more; the kind below is what the caller sees
      settle({ kind: 'timed-out', bytes });
    }, deadlineMs);
    stream.once('end', () => {
      if (refusal !== null) return settle({ kind: refusal, bytes });
      settle({ kind: 'message', raw: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
    });
    stream.once('close', () => {
      if (settled) return;
      reservation.release();
      settle({ kind: 'broken' });
    });
    stream.once('error', () => {
      if (settled) return;
      reservation.release();
      settle({ kind: 'broken' });
    });
  });
}
