// Fixed inputs for defects the fuzz suite found, judged by the same oracle through the in-process pipeline, so each
// stays covered whatever seed the quick slice uses. D1: a header field holding a bare CR kept text outside the
// encryption that some readers show as body (now such a field starts the body). D4: removing forged X-Spam-* fields
// dropped body bytes after such a field (now both use splitMessage's header end).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { oracleOptions } from './fuzz-run.js';
import { startFuzzStore, type FuzzStore } from './fuzz-store.js';
import { inProcessHarness, type SpamMode } from './in-process.js';
import { judge } from './oracle.js';

const CASES: { name: string; raw: string; spam?: SpamMode }[] = [
  { name: 'D1: CR-only line ends (the whole message one "field")',
    raw: 'From: a@example.org\rSubject: ZQSd1n1Z plans\r\rThe body ZQBd1n1Z\r' },
  { name: 'D1: a bare CR inside To: smuggling a Subject', raw: 'To: x@example.org\rSubject: ZQSd1n2Z\nFrom: a@b\n\nbody ZQBd1n2Z\n' },
  { name: 'D4: a bare-CR field followed by X-Spam-* (body bytes by the D1 rule)',
    raw: 'Subject: a\rb ZQSd4n1Z\nX-Spam-Note: part of the body\n\nbody ZQBd4n1Z\n' },
  { name: 'D4 with the spam check on', raw: 'X-Spam-Flag: YES\rx\nSubject: ZQSd4n2Z\n\nbody ZQBd4n2Z\n', spam: 'scan' },
  { name: 'mbox From line first', raw: 'From someone@example.org Sat Nov 21 06:00:00 2026\nSubject: ZQSmbn1Z\nX-Spam-Flag: YES\n\nZQBmbn1Z\n' },
];

describe('fuzz regressions (fixed inputs)', () => {
  let store: FuzzStore;
  before(async () => {
    store = await startFuzzStore();
  });
  after(async () => {
    await store?.pg.stop();
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const harness = inProcessHarness(store.pg.url, 20_000);
      const recipients = [store.pool[0]!, store.pool[2]!]; // alice (keyed), carol (no key)
      const hp = { enabled: true, subjectPlaceholder: '[...]' };
      const input = Buffer.from(c.raw, 'latin1');
      const r = await harness.run(input, 'sender@example.org', recipients.map((x) => x.address), hp, 'none', c.spam ?? 'off');
      const verdict = await judge({ input, sender: 'sender@example.org', recipients, exitCode: r.exitCode, handoffs: r.handoffs,
        diagnostics: r.diagnostics }, oracleOptions(hp));
      assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
    });
  }
});
