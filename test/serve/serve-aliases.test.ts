// Alias members in serve's per-recipient answers: an address that serves several envelope recipients (a member of
// two aliases) answers for each; an alias is 250 only when every copy for it was answered 2xx, never because no
// answer carried its name.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runDelivery } from '../../src/deliver/run-deliver.js';
import type { DeliverDeps, LmtpResult } from '../../src/deliver/ports.js';
import type { Envelope } from '../../src/filter/ports.js';
import { recipientReplies } from '../../src/serve/replies.js';
import { DEFAULT_POLICY, fakeDeps, userKey, type FakeOptions } from '../filter/fake-ports.js';

it('a keyless member shared by two aliases and deferred by the next hop defers both aliases', async () => {
  const [k1, k2] = await Promise.all([userKey('k1@example.org'), userKey('k2@example.org')]);
  const carol = { address: 'carol@example.org', state: { kind: 'no-key' } } as const;
  const states: FakeOptions['states'] = {
    'team1@example.org': { kind: 'members', members: [{ address: 'k1@example.org', state: k1.state }, carol] },
    'team2@example.org': { kind: 'members', members: [{ address: 'k2@example.org', state: k2.state }, carol] },
  };
  const { deps } = fakeDeps({ states });
  for (const [code, enhanced] of [
    [452, '4.2.2'],
    [550, '5.1.1'],
  ] as const) {
    const lmtp = {
      async deliver(_raw: Buffer, envelope: Envelope): Promise<LmtpResult> {
        return {
          kind: 'replied',
          replies: envelope.recipients.map((recipient) =>
            recipient === carol.address
              ? { recipient, code, enhanced, text: 'no' }
              : { recipient, code: 250, enhanced: '2.0.0', text: 'Saved' },
          ),
        };
      },
    };
    const recipients = ['team1@example.org', 'team2@example.org'];
    const run = await runDelivery(
      {
        raw: Buffer.from('From: a@example.net\nSubject: s\n\nbody\n'),
        envelope: { sender: 'a@example.net', recipients },
        policy: { ...DEFAULT_POLICY, spamCheck: false, deliverSpamCheck: 'never' },
        deadlineAt: Date.now() + 60_000,
      },
      { keys: deps.keys, spamc: deps.spamc, encryptor: deps.encryptor, now: deps.now, uid: 1, lmtp },
      AbortSignal.timeout(30_000),
    );
    const answers = recipientReplies(run, recipients).map((r) => r.code);
    assert.deepEqual(answers, [code, code], `carol answered ${code}: neither alias may be told 250`);
  }
});
