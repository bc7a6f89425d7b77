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

  /** A new limit (SIGHUP): applies to the next reservation; what is held stays held. */
  setLimit(limitBytes: number): void {
    this.limitBytes = limitBytes;
  }

  /** An empty reservation, to grow as bytes arrive; release() gives everything back once. */
  open(): Reservation {
    return new Reservation(this);
  }

  /** @internal Reservation's side of the bookkeeping; `force` for the one transaction that holds all of it. */
  take(bytes: number, force = false): boolean {
    if (bytes < 0 || (!force && this.heldBytes + bytes > this.limitBytes)) return false;
    this.heldBytes += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}

/** One transaction's share of the budget (taken at MAIL FROM SIZE=, grown while DATA arrives). */
export class Reservation {
  private reserved = 0;
  private readonly budget: MemoryBudget;

  constructor(budget: MemoryBudget) {
    this.budget = budget;
  }

  get bytes(): number {
    return this.reserved;
  }

  /**
   * Makes the reservation at least `bytes`; false (and unchanged) when the budget cannot give the difference. A
   * transaction that holds the budget alone always gets it, even past the limit: a message that needs more than the
   * whole budget would otherwise be refused on every retry until it bounces as expired.
   */
  ensure(bytes: number): boolean {
    if (bytes <= this.reserved) return true;
    const alone = this.budget.held === this.reserved;
    if (!this.budget.take(bytes - this.reserved, alone)) return false;
    this.reserved = bytes;
    return true;
  }

  release(): void {
    this.budget.give(this.reserved);
    this.reserved = 0;
  }
}
