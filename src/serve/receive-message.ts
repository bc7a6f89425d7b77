// Reads one message's DATA stream (smtp-server has already removed the dot-stuffing and stops only at CRLF.CRLF)
// into memory under the shared MemoryBudget and the size limit. Over either, it keeps reading to the end (the client
// must get its reply after the final dot) but holds nothing more, and says why.
import type { Readable } from 'node:stream';
import type { MemoryBudget } from './memory-budget.js';

export type Received =
  /** The whole message; `reserved` bytes of the budget are held for it until the caller releases them. */
  | { readonly kind: 'message'; readonly raw: Buffer; readonly reserved: number }
  /** Over the size limit (message_size_limit): nothing held. */
  | { readonly kind: 'too-big'; readonly bytes: number }
  /** The budget was exhausted by all connections together: nothing held. */
  | { readonly kind: 'over-budget'; readonly bytes: number }
  /** The connection broke before the final dot: nothing held, nothing to answer. */
  | { readonly kind: 'broken' };

/** `sizeLimit` 0 = none. Never rejects; always leaves the budget as it found it unless it returns a message. */
export function receiveMessage(stream: Readable, budget: MemoryBudget, sizeLimit: number): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let reserved = 0;
    let refusal: 'too-big' | 'over-budget' | null = null;
    const drop = (why: 'too-big' | 'over-budget'): void => {
      refusal = why;
      chunks.length = 0;
      budget.release(reserved);
      reserved = 0;
    };
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (refusal !== null) return;
      if (sizeLimit > 0 && bytes > sizeLimit) return drop('too-big');
      if (!budget.tryReserve(chunk.length)) return drop('over-budget');
      reserved += chunk.length;
      chunks.push(chunk);
    });
    let settled = false;
    const settle = (result: Received): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    stream.once('end', () => {
      if (refusal !== null) return settle({ kind: refusal, bytes });
      settle({ kind: 'message', raw: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), reserved });
    });
    stream.once('close', () => {
      if (settled) return;
      budget.release(reserved);
      settle({ kind: 'broken' });
    });
    stream.once('error', () => {
      if (settled) return;
      budget.release(reserved);
      settle({ kind: 'broken' });
    });
  });
}
