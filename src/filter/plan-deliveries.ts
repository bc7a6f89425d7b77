// Decides who gets what: an own encrypted copy, the message as sent, or a refusal of the whole invocation.
// Pure ("decide, then do"). One invocation has one exit status, so nothing is sent unless every recipient can be.
import type { PublicKey } from 'openpgp';
import { temporary } from '../errors.js';
import type { RecipientResult } from '../mail-path/outcome.js';
import type { FilterPolicy, KeyState } from './ports.js';
import { unquoteAddress } from './unquote-address.js';

export type Delivery =
  | {
      readonly kind: 'encrypt';
      readonly recipients: readonly string[];
      readonly keys: readonly PublicKey[];
      readonly fingerprints: readonly string[];
    }
  | { readonly kind: 'as-sent'; readonly recipients: readonly string[] };

export type Plan =
  | { readonly kind: 'send'; readonly deliveries: readonly Delivery[]; readonly results: readonly RecipientResult[] }
  | {
      readonly kind: 'refuse';
      readonly outcome: 'deferred' | 'rejected';
      readonly code: 'key.missing' | 'key.unusable';
      readonly reason: string;
      readonly results: readonly RecipientResult[];
    };

type Decision =
  | { action: 'encrypt'; keys: readonly PublicKey[]; fingerprints: readonly string[] }
  | { action: 'as-sent' | 'defer' | 'reject'; why: 'no-key' | 'unusable-key'; detail: string };

function decide(state: KeyState, policy: Pick<FilterPolicy, 'missingKey' | 'unusableKey'>): Decision {
  switch (state.kind) {
    case 'keys':
      return { action: 'encrypt', keys: state.keys, fingerprints: state.fingerprints };
    case 'no-key': {
      const action = policy.missingKey === 'deliver' ? 'as-sent' : policy.missingKey;
      return { action, why: 'no-key', detail: 'no OpenPGP key on file' };
    }
    case 'unusable': {
      const action = policy.unusableKey === 'deliver' ? 'as-sent' : policy.unusableKey;
      return { action, why: 'unusable-key', detail: `stored OpenPGP key unusable: ${state.reason}` };
    }
  }
}

/**
 * `recipients` as Postfix passed them; `states` keyed by the unquoted address. Recipients sharing exactly the same
 * keys share one encrypted copy; all plaintext recipients share one copy. A deferral anywhere defers everyone
 * (nothing is sent, so the retry makes no duplicates); otherwise a rejection anywhere rejects the invocation.
 */
export function planDeliveries(
  recipients: readonly string[],
  states: ReadonlyMap<string, KeyState>,
  policy: Pick<FilterPolicy, 'missingKey' | 'unusableKey'>,
): Plan {
  const decisions = recipients.map((recipient) => {
    const state = states.get(unquoteAddress(recipient));
    // A lookup that skipped an address is a bug; never let it turn into plaintext.
    if (state === undefined) throw temporary('internal', 'key lookup returned no answer for a recipient');
    return { recipient, decision: decide(state, policy) };
  });

  for (const wanted of ['defer', 'reject'] as const) {
    const hit = decisions.find((d) => d.decision.action === wanted);
    if (hit === undefined || hit.decision.action === 'encrypt') continue;
    const code = hit.decision.why === 'no-key' ? 'key.missing' : 'key.unusable';
    const outcome = wanted === 'defer' ? 'deferred' : 'rejected';
    const results = decisions.map(({ recipient, decision }): RecipientResult => {
      if (recipient !== hit.recipient) return { recipient, action: 'not-sent', why: null, fingerprints: [] };
      return { recipient, action: outcome, why: hit.decision.action === 'encrypt' ? null : hit.decision.why, fingerprints: [] };
    });
    const tail = wanted === 'defer' ? 'mail held until it is fixed' : 'plaintext delivery refused by policy';
    const reason = `<${hit.recipient}>: ${hit.decision.detail}; ${tail}`;
    return { kind: 'refuse', outcome, code, reason, results };
  }

  const deliveries: Delivery[] = [];
  const encryptGroups = new Map<string, { recipients: string[]; keys: readonly PublicKey[]; fingerprints: readonly string[] }>();
  const plain: string[] = [];
  const results: RecipientResult[] = [];
  for (const { recipient, decision } of decisions) {
    if (decision.action === 'encrypt') {
      const groupKey = [...decision.fingerprints].sort().join(',');
      const group = encryptGroups.get(groupKey);
      if (group) group.recipients.push(recipient);
      else encryptGroups.set(groupKey, { recipients: [recipient], keys: decision.keys, fingerprints: decision.fingerprints });
      results.push({ recipient, action: 'encrypted', why: null, fingerprints: decision.fingerprints });
    } else {
      plain.push(recipient);
      results.push({ recipient, action: 'as-sent', why: decision.why, fingerprints: [] });
    }
  }
  for (const group of encryptGroups.values()) deliveries.push({ kind: 'encrypt', ...group });
  if (plain.length > 0) deliveries.push({ kind: 'as-sent', recipients: plain });
  return { kind: 'send', deliveries, results };
}
