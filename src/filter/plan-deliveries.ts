// Decides who gets what: an own encrypted copy, the message as sent, or a refusal of the whole invocation.
// Pure ("decide, then do"). One invocation has one exit status, so nothing is sent unless every recipient can be.
import type { PublicKey } from 'openpgp';
import { temporary } from '../errors.js';
import type { RecipientResult } from '../mail-path/outcome.js';
import type { FilterPolicy, KeyState, MemberState } from './ports.js';
import { unquoteAddress } from './unquote-address.js';

export type Delivery =
  | {
      readonly kind: 'encrypt';
      readonly recipients: readonly string[];
      readonly keys: readonly PublicKey[];
      readonly fingerprints: readonly string[];
      /** The envelope recipients this copy serves (an alias's members are sent to, the alias is served). */
      readonly serves: readonly string[];
    }
  | { readonly kind: 'as-sent'; readonly recipients: readonly string[]; readonly serves: readonly string[] };

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

/** An alias whose members need different copies: each member gets its own, sent to the member's address. */
type Expansion = { action: 'expand'; members: readonly { address: string; decision: Decision }[] };

function decide(state: MemberState, policy: Pick<FilterPolicy, 'missingKey' | 'unusableKey'>): Decision {
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
 * An alias with several final addresses. A member that must be deferred or rejected decides for the alias (its
 * detail does not name the member: the line can reach the sender, who may not know who is behind the alias).
 * Members that all get the same kind of copy share one sent to the alias itself (all keyed: encrypted to every
 * member's keys, each can read it; all keyless: as sent), which Postfix expands as before. Otherwise the alias is
 * expanded here: nobody with a key may get plaintext, and nobody without one a copy they cannot read.
 */
function decideAlias(
  members: readonly { address: string; state: MemberState }[],
  policy: Pick<FilterPolicy, 'missingKey' | 'unusableKey'>,
): Decision | Expansion {
  const decided = members.map((m) => ({ address: m.address, decision: decide(m.state, policy) }));
  for (const wanted of ['defer', 'reject'] as const) {
    const hit = decided.find((m) => m.decision.action === wanted)?.decision;
    if (hit === undefined || hit.action === 'encrypt') continue;
    const detail =
      hit.why === 'no-key' ? 'an alias member has no OpenPGP key on file' : `an alias member's ${hit.detail}`;
    return { ...hit, detail };
  }
  const encrypted = decided.flatMap((m) => (m.decision.action === 'encrypt' ? [m.decision] : []));
  if (encrypted.length === decided.length) {
    const byFingerprint = new Map<string, PublicKey>();
    for (const d of encrypted) {
      d.fingerprints.forEach((fp, i) => {
        const key = d.keys[i];
        if (key !== undefined) byFingerprint.set(fp, key);
      });
    }
    return { action: 'encrypt', keys: [...byFingerprint.values()], fingerprints: [...byFingerprint.keys()] };
  }
  if (encrypted.length === 0) {
    const noKey = decided.some((m) => m.decision.action === 'as-sent' && m.decision.why === 'no-key');
    return { action: 'as-sent', why: noKey ? 'no-key' : 'unusable-key', detail: 'no alias member has a usable key' };
  }
  return { action: 'expand', members: decided };
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
    const decision = state.kind === 'members' ? decideAlias(state.members, policy) : decide(state, policy);
    return { recipient, decision };
  });

  for (const wanted of ['defer', 'reject'] as const) {
    const hit = decisions.find((d) => d.decision.action === wanted);
    if (hit === undefined || hit.decision.action === 'encrypt' || hit.decision.action === 'expand') continue;
    const code = hit.decision.why === 'no-key' ? 'key.missing' : 'key.unusable';
    const outcome = wanted === 'defer' ? 'deferred' : 'rejected';
    const results = decisions.map(({ recipient }): RecipientResult => {
      if (recipient !== hit.recipient) return { recipient, action: 'not-sent', why: null, fingerprints: [] };
      return { recipient, action: outcome, why: why(hit.decision), fingerprints: [] };
    });
    const tail = wanted === 'defer' ? 'mail held until it is fixed' : 'plaintext delivery refused by policy';
    const reason = `<${hit.recipient}>: ${hit.decision.detail}; ${tail}`;
    return { kind: 'refuse', outcome, code, reason, results };
  }

  const groups = new Groups();
  const results = decisions.map(({ recipient, decision }): RecipientResult => {
    if (decision.action !== 'expand') return groups.add(recipient, recipient, decision);
    const members = decision.members.map((m) => groups.add(m.address, recipient, m.decision));
    const fingerprints = [...new Set(members.flatMap((m) => m.fingerprints))];
    return { recipient, action: 'expanded', why: null, fingerprints, members };
  });
  return { kind: 'send', deliveries: groups.deliveries(), results };
}

/** Copies by content: one per distinct key set, one as-sent copy; each lists whom it goes to and whom it serves. */
class Groups {
  private readonly encrypted = new Map<
    string,
    {
      recipients: string[];
      serves: string[];
      keys: readonly PublicKey[];
      fingerprints: readonly string[];
    }
  >();
  private readonly plain = { recipients: [] as string[], serves: [] as string[] };

  add(to: string, serves: string, decision: Decision): RecipientResult {
    if (decision.action === 'encrypt') {
      const groupKey = [...decision.fingerprints].sort().join(',');
      let group = this.encrypted.get(groupKey);
      if (group === undefined) {
        group = { recipients: [], serves: [], keys: decision.keys, fingerprints: decision.fingerprints };
        this.encrypted.set(groupKey, group);
      }
      pushNew(group.recipients, to);
      pushNew(group.serves, serves);
      return { recipient: to, action: 'encrypted', why: null, fingerprints: decision.fingerprints };
    }
    pushNew(this.plain.recipients, to);
    pushNew(this.plain.serves, serves);
    return { recipient: to, action: 'as-sent', why: decision.why, fingerprints: [] };
  }

  deliveries(): Delivery[] {
    const list: Delivery[] = [...this.encrypted.values()].map((group) => ({ kind: 'encrypt', ...group }));
    if (this.plain.recipients.length > 0) list.push({ kind: 'as-sent', ...this.plain });
    return list;
  }
}

const why = (decision: Decision | Expansion): 'no-key' | 'unusable-key' | null =>
  decision.action === 'encrypt' || decision.action === 'expand' ? null : decision.why;

/** An address given twice (a user directly and through an alias) gets one copy, as Postfix would deliver one. */
function pushNew(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}
