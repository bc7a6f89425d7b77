// Predicts the size of the queue file Postfix's sendmail/postdrop would write, to compare with message_size_limit
// before calling sendmail (over the limit, sendmail exits 69 and a blind pass-through would bounce). Pure.
import type { Envelope } from './ports.js';

/** Postfix line_length_limit default: longer lines are stored as several records. */
const RECORD_DATA_MAX = 2048;
/** Arrival time, size record, attributes, end markers; generous so we err on the side of "too big". */
const FIXED_OVERHEAD = 512;

/** Bytes of Postfix's record length prefix (7 bits per byte). */
const lengthBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4);

const recordSize = (dataLength: number): number => 1 + lengthBytes(dataLength) + dataLength;

/**
 * message_size_limit applies to the queue file "including envelope information" (postconf(5)): postdrop stores every
 * line as a record (type byte, length, text without its line ending; sendmail drops CR) plus envelope records.
 */
export function estimateQueueFileSize(payload: Buffer, envelope: Envelope): number {
  let size = FIXED_OVERHEAD + recordSize(Buffer.byteLength(envelope.sender));
  for (const r of envelope.recipients) size += 2 * recordSize(Buffer.byteLength(r)); // recipient + original recipient
  let start = 0;
  while (start <= payload.length) {
    let end = payload.indexOf(0x0a, start);
    const last = end === -1;
    if (last) end = payload.length;
    if (last && start === payload.length) break; // no trailing partial line
    let length = end - start;
    if (length > 0 && payload[end - 1] === 0x0d) length--;
    do {
      const piece = Math.min(length, RECORD_DATA_MAX);
      size += recordSize(piece);
      length -= piece;
    } while (length > 0);
    start = end + 1;
  }
  return size;
}
