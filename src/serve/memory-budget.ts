// The bytes of mail the service holds at once, across every connection: what is being received, and what a
// received message is expected to cost while it is encrypted and handed on. A reservation that would go over the
// limit is refused (the caller answers 452 4.3.1 and Postfix retries later), so many concurrent large messages
// cannot exhaust the heap. Pure bookkeeping; single-threaded, so no locking.
export class MemoryBudget {
  private heldBytes = 0;
  private limitBytes: number;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  /** Bytes currently reserved. */
  get held(): number {
    return this.heldBytes;
  }

  get limit(): number {
    return this.limitBytes;
  }

  /** A new limit (SIGHUP): applies to the next reservation; what is held stays held. */
  setLimit(limitBytes: number): void {
    this.limitBytes = limitBytes;
  }

  /** Whether `bytes` more could be reserved now (used to refuse MAIL FROM SIZE= early). */
  fits(bytes: number): boolean {
    return this.heldBytes + bytes <= this.limitBytes;
  }

  /** Reserves `bytes` if they fit; true when reserved (the caller must release them). */
  tryReserve(bytes: number): boolean {
    if (bytes < 0 || !this.fits(bytes)) return false;
    this.heldBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}
