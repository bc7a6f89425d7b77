// Which envelope recipients a run has served so far, for the outcome's log: shared by filter and deliver. A
// recipient keeps its planned action once every copy serving it (one per alias member group) was handed off;
// until then it is "not sent" (deferred and rejected ones keep theirs: they name why the run stopped).
import type { RecipientResult } from '../mail-path/outcome.js';
import type { Delivery } from './plan-deliveries.js';

const notSent = (recipient: string): RecipientResult => ({
  recipient,
  action: 'not-sent',
  why: null,
  fingerprints: [],
});

export class RecipientProgress {
  private planned: readonly RecipientResult[];
  private readonly pending = new Map<string, number>();
  private readonly served = new Set<string>();

  constructor(recipients: readonly string[]) {
    this.planned = recipients.map(notSent);
  }

  /** What the plan decided per recipient (before any copy is handed off). */
  plan(planned: readonly RecipientResult[]): void {
    this.planned = planned;
  }

  /** The copies that will be handed off; each counts once for every recipient it serves. */
  expect(deliveries: readonly Delivery[]): void {
    for (const d of deliveries) for (const r of d.serves) this.pending.set(r, (this.pending.get(r) ?? 0) + 1);
  }

  /** One copy serving `recipient` was handed off (queued by sendmail, or stored by Dovecot). */
  copyDone(recipient: string): void {
    const left = (this.pending.get(recipient) ?? 1) - 1;
    this.pending.set(recipient, left);
    if (left === 0) this.served.add(recipient);
  }

  /** The recipients every copy of which was handed off. */
  servedRecipients(): ReadonlySet<string> {
    return this.served;
  }

  results(): RecipientResult[] {
    return this.planned.map((r) =>
      this.served.has(r.recipient) || r.action === 'deferred' || r.action === 'rejected' ? r : notSent(r.recipient),
    );
  }
}
