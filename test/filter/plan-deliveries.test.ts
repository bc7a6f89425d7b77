import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PublicKey } from 'openpgp';
import { planDeliveries } from '../../src/filter/plan-deliveries.js';
import type { KeyState, MemberState } from '../../src/filter/ports.js';

// Stand-ins: planDeliveries only passes keys through, it never looks inside.
const key = (name: string): PublicKey => ({ name }) as unknown as PublicKey;
const keyed = (fp: string): MemberState => ({ kind: 'keys', keys: [key(fp)], fingerprints: [fp] });
const states = (entries: Record<string, KeyState>): Map<string, KeyState> => new Map(Object.entries(entries));
const defaults = { missingKey: 'deliver', unusableKey: 'defer' } as const;

describe('planDeliveries', () => {
  it('each keyed recipient gets an own copy; keyless recipients share one as-sent copy', () => {
    const plan = planDeliveries(
      ['a@x', 'b@x', 'c@x', 'd@x'],
      states({
        'a@x': keyed('AAAA'),
        'b@x': keyed('BBBB'),
        'c@x': { kind: 'no-key' },
        'd@x': { kind: 'no-key' },
      }),
      defaults,
    );
    assert.equal(plan.kind, 'send');
    assert.deepEqual(
      plan.deliveries.map((d) => [d.kind, d.recipients]),
      [
        ['encrypt', ['a@x']],
        ['encrypt', ['b@x']],
        ['as-sent', ['c@x', 'd@x']],
      ],
    );
    assert.deepEqual(
      plan.results.map((r) => [r.recipient, r.action, r.why]),
      [
        ['a@x', 'encrypted', null],
        ['b@x', 'encrypted', null],
        ['c@x', 'as-sent', 'no-key'],
        ['d@x', 'as-sent', 'no-key'],
      ],
    );
  });

  it('recipients with the same keys (an alias and its user) share one encrypted copy', () => {
    const plan = planDeliveries(
      ['me@x', 'alias@x'],
      states({ 'me@x': keyed('AAAA'), 'alias@x': keyed('AAAA') }),
      defaults,
    );
    assert.equal(plan.kind, 'send');
    assert.deepEqual(
      plan.deliveries.map((d) => d.recipients),
      [['me@x', 'alias@x']],
    );
  });

  it('looks up the unquoted form but sends to the quoted one', () => {
    const plan = planDeliveries(['"john doe"@x'], states({ 'john doe@x': keyed('AAAA') }), defaults);
    assert.equal(plan.kind, 'send');
    assert.deepEqual(plan.deliveries[0]?.recipients, ['"john doe"@x']);
  });

  const policies = [
    ['missing key, deliver', { kind: 'no-key' }, { missingKey: 'deliver' }, 'send', null],
    ['missing key, defer', { kind: 'no-key' }, { missingKey: 'defer' }, 'deferred', 'key.missing'],
    ['missing key, reject', { kind: 'no-key' }, { missingKey: 'reject' }, 'rejected', 'key.missing'],
    [
      'unusable key, defer (default)',
      { kind: 'unusable', reason: 'expired on 2025-01-01' },
      {},
      'deferred',
      'key.unusable',
    ],
    ['unusable key, deliver', { kind: 'unusable', reason: 'revoked' }, { unusableKey: 'deliver' }, 'send', null],
    [
      'unusable key, reject',
      { kind: 'unusable', reason: 'revoked' },
      { unusableKey: 'reject' },
      'rejected',
      'key.unusable',
    ],
  ] as const;
  for (const [name, state, policy, expected, code] of policies) {
    it(`policy: ${name} → ${expected}`, () => {
      const plan = planDeliveries(['k@x', 'b@x'], states({ 'k@x': keyed('KKKK'), 'b@x': state }), {
        ...defaults,
        ...policy,
      });
      if (expected === 'send') {
        assert.equal(plan.kind, 'send');
        assert.deepEqual(
          plan.deliveries.map((d) => [d.kind, d.recipients]),
          [
            ['encrypt', ['k@x']],
            ['as-sent', ['b@x']],
          ],
        );
        return;
      }
      assert.equal(plan.kind, 'refuse');
      assert.equal(plan.outcome, expected);
      assert.equal(plan.code, code);
      // Names only the recipient concerned, never the others.
      assert.match(plan.reason, /^<b@x>: /);
      assert.doesNotMatch(plan.reason, /k@x/);
      assert.deepEqual(
        plan.results.map((r) => r.action),
        ['not-sent', expected],
      );
    });
  }

  it('a deferral anywhere wins over a rejection elsewhere (nothing bounces that could succeed later)', () => {
    const plan = planDeliveries(
      ['r@x', 'd@x'],
      states({ 'r@x': { kind: 'no-key' }, 'd@x': { kind: 'unusable', reason: 'revoked' } }),
      { missingKey: 'reject', unusableKey: 'defer' },
    );
    assert.equal(plan.kind, 'refuse');
    assert.equal(plan.outcome, 'deferred');
    assert.match(plan.reason, /<d@x>: stored OpenPGP key unusable: revoked/);
  });

  it('a recipient the lookup did not answer for is an internal (temporary) error, never plaintext', () => {
    assert.throws(
      () => planDeliveries(['a@x'], states({}), defaults),
      (e: { code?: string; temporary?: boolean }) => e.code === 'internal' && e.temporary === true,
    );
  });

  describe('an alias whose members differ (issue 11.2: no plaintext to a keyed member, no unreadable copy)', () => {
    const members = (entries: [string, MemberState][]): KeyState => ({
      kind: 'members',
      members: entries.map(([address, state]) => ({ address, state })),
    });
    const noKey: MemberState = { kind: 'no-key' };
    const dead: MemberState = { kind: 'unusable', reason: 'expired on 2025-01-01' };
    const sends = (plan: ReturnType<typeof planDeliveries>) => {
      assert.equal(plan.kind, 'send');
      return plan.kind === 'send' ? plan.deliveries.map((d) => [d.kind, d.recipients, d.serves]) : [];
    };

    it('sends each member its own copy, to the member address: keyed encrypted, keyless as sent', () => {
      const plan = planDeliveries(
        ['team@x'],
        states({
          'team@x': members([
            ['alice@x', keyed('AAAA')],
            ['carol@y', noKey],
            ['dave+team@x', keyed('DDDD')],
          ]),
        }),
        defaults,
      );
      assert.deepEqual(sends(plan), [
        ['encrypt', ['alice@x'], ['team@x']],
        ['encrypt', ['dave+team@x'], ['team@x']],
        ['as-sent', ['carol@y'], ['team@x']],
      ]);
      assert.equal(plan.kind === 'send' ? plan.results[0]?.action : '', 'expanded');
      assert.deepEqual(plan.kind === 'send' ? plan.results[0]?.members?.map((m) => [m.recipient, m.action]) : [], [
        ['alice@x', 'encrypted'],
        ['carol@y', 'as-sent'],
        ['dave+team@x', 'encrypted'],
      ]);
      assert.deepEqual(plan.kind === 'send' ? plan.results[0]?.fingerprints : [], ['AAAA', 'DDDD']);
    });

    it('keeps one copy to the alias itself when every member is keyed (each can read it) or none is', () => {
      const plan = planDeliveries(
        ['team@x', 'all-plain@x'],
        states({
          'team@x': members([
            ['alice@x', keyed('AAAA')],
            ['dave@x', keyed('DDDD')],
          ]),
          'all-plain@x': members([
            ['carol@y', noKey],
            ['erin@y', noKey],
          ]),
        }),
        defaults,
      );
      assert.deepEqual(sends(plan), [
        ['encrypt', ['team@x'], ['team@x']],
        ['as-sent', ['all-plain@x'], ['all-plain@x']],
      ]);
      const [copy] = plan.kind === 'send' ? plan.deliveries : [];
      assert.deepEqual(copy?.kind === 'encrypt' ? [...copy.fingerprints].sort() : [], ['AAAA', 'DDDD']);
    });

    it('shares copies with other recipients that need the same one, and sends an address once', () => {
      const plan = planDeliveries(
        ['alice@x', 'team@x', 'bob@x'],
        states({
          'alice@x': keyed('AAAA'),
          'bob@x': noKey,
          'team@x': members([
            ['alice@x', keyed('AAAA')],
            ['carol@y', noKey],
          ]),
        }),
        defaults,
      );
      assert.deepEqual(sends(plan), [
        ['encrypt', ['alice@x'], ['alice@x', 'team@x']],
        ['as-sent', ['carol@y', 'bob@x'], ['team@x', 'bob@x']],
      ]);
    });

    it('a member under a defer or reject policy decides for the whole run, without naming the member', () => {
      for (const [state, policy, outcome, code] of [
        [noKey, { missingKey: 'defer' }, 'deferred', 'key.missing'],
        [noKey, { missingKey: 'reject' }, 'rejected', 'key.missing'],
        [dead, {}, 'deferred', 'key.unusable'],
        [dead, { unusableKey: 'reject' }, 'rejected', 'key.unusable'],
      ] as const) {
        const team = members([
          ['alice@x', keyed('AAAA')],
          ['secret-member@y', state],
        ]);
        const plan = planDeliveries(['team@x'], states({ 'team@x': team }), { ...defaults, ...policy });
        assert.equal(plan.kind, 'refuse');
        if (plan.kind !== 'refuse') continue;
        assert.deepEqual([plan.outcome, plan.code], [outcome, code]);
        assert.match(plan.reason, /^<team@x>: an alias member/);
        assert.doesNotMatch(plan.reason, /secret-member|alice/);
      }
    });

    it('an unusable member under --unusable-key deliver gets it as sent, the keyed members encrypted', () => {
      const team = members([
        ['alice@x', keyed('AAAA')],
        ['old@x', dead],
      ]);
      const plan = planDeliveries(['team@x'], states({ 'team@x': team }), { ...defaults, unusableKey: 'deliver' });
      assert.deepEqual(sends(plan), [
        ['encrypt', ['alice@x'], ['team@x']],
        ['as-sent', ['old@x'], ['team@x']],
      ]);
    });
  });
});
