// The copies one message becomes, shared by filter and deliver: already protected (everyone gets it unchanged) or
// the key lookup and planDeliveries; the size decision; every copy encrypted and checked before the first hand-off,
// so a failure leaves nothing half-sent. Only the hand-off after it (sendmail, LMTP) differs between the modes.
import type { PolicyCode, RecipientResult } from '../mail-path/outcome.js';
import { untilAborted } from '../mail-path/until-aborted.js';
import { detectProtection } from '../message/detect-protection.js';
import { splitMessage } from '../message/split-message.js';
import { planDeliveries, type Delivery } from './plan-deliveries.js';
import type { Encryptor, Envelope, FilterPolicy, KeyLookup } from './ports.js';
import { unquoteAddress } from './unquote-address.js';

export type Copies =
  | {
      readonly kind: 'copies';
      readonly deliveries: readonly Delivery[];
      /** One per delivery, in order. */
      readonly payloads: readonly Buffer[];
      readonly planned: readonly RecipientResult[];
    }
  /** A policy refuses the whole run (a key policy, or a copy over message_size_limit). */
  | {
      readonly kind: 'refused';
      readonly outcome: 'deferred' | 'rejected';
      readonly code: PolicyCode;
      readonly reason: string;
      readonly planned: readonly RecipientResult[];
    };

export interface CopyOptions {
  /** What message_size_limit is compared with for one copy (a queue file's size, or the bytes handed over). */
  readonly sizeOf: (payload: Buffer, delivery: Delivery) => number;
  /** The hand-off in the oversize reason: "message too big to re-inject". */
  readonly handOff: string;
}

export async function buildCopies(
  raw: Buffer,
  envelope: Envelope,
  policy: FilterPolicy,
  deps: { readonly keys: KeyLookup; readonly encryptor: Encryptor },
  signal: AbortSignal,
  options: CopyOptions,
): Promise<Copies> {
  const message = splitMessage(raw);
  let deliveries: readonly Delivery[];
  let planned: readonly RecipientResult[];
  if (detectProtection(message).kind !== 'none') {
    // Already end-to-end protected: everyone gets it unchanged in one call, and the key store is not needed.
    deliveries = [{ kind: 'as-sent', recipients: envelope.recipients, serves: envelope.recipients }];
    planned = envelope.recipients.map((recipient) => ({
      recipient,
      action: 'unchanged',
      why: 'protected',
      fingerprints: [],
    }));
  } else {
    const addresses = [...new Set(envelope.recipients.map(unquoteAddress))];
    const states = await untilAborted(deps.keys.lookup(addresses, signal), signal);
    const plan = planDeliveries(envelope.recipients, states, policy);
    planned = plan.results;
    if (plan.kind === 'refuse') return { ...plan, kind: 'refused', planned };
    deliveries = plan.deliveries;
  }

  const tooBig = (delivery: Delivery, size: number): Copies => {
    // Named by the envelope recipient it serves: an alias member's address must not reach the sender's DSN.
    const who = delivery.serves.length === 1 ? `<${delivery.serves[0]}>: ` : '';
    const what =
      delivery.kind === 'encrypt' ? 'message too big after encryption' : `message too big to ${options.handOff}`;
    const reason = `${who}${what} (about ${size} bytes, limit ${policy.messageSizeLimit})`;
    const outcome = policy.oversize === 'reject' ? 'rejected' : 'deferred';
    return { kind: 'refused', outcome, code: 'size.exceeded', reason, planned };
  };
  // Armor is at least 4/3 of what it encrypts (the encryptor knows what that is: the body, or inline PGP's decoded
  // text): a message that cannot fit is decided before spending the time and memory to encrypt it (a huge message
  // must not exhaust the heap on its way to a certain refusal).
  const doomed = deliveries.find((d) => d.kind === 'encrypt');
  if (policy.messageSizeLimit > 0 && doomed !== undefined) {
    const atLeast = await deps.encryptor.minimumSize(message);
    if (atLeast > policy.messageSizeLimit) return tooBig(doomed, atLeast);
  }

  const payloads: Buffer[] = [];
  for (const delivery of deliveries) {
    const encrypted = delivery.kind === 'encrypt' ? deps.encryptor.encrypt(message, delivery.keys) : null;
    payloads.push(encrypted === null ? raw : await untilAborted(encrypted, signal));
    signal.throwIfAborted();
  }
  if (policy.messageSizeLimit > 0) {
    for (const [index, delivery] of deliveries.entries()) {
      const size = options.sizeOf(payloads[index] as Buffer, delivery);
      if (size > policy.messageSizeLimit) return tooBig(delivery, size);
    }
  }
  return { kind: 'copies', deliveries, payloads, planned };
}
