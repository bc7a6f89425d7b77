// Fixed inputs for defects the fuzz suite found, judged by the same oracle through the in-process pipeline, so each
// stays covered whatever seed the quick slice uses. D1: a header field holding a bare CR kept text outside the
// encryption that some readers show as body (now such a field starts the body). D4: removing forged X-Spam-* fields
// dropped body bytes after such a field (now both use splitMessage's header end).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFuzzStore, type FuzzStore } from './fuzz-store.js';
import { inProcessHarness, type SpamMode } from '../helpers/in-process.js';
import { judgeRun } from '../helpers/oracle.js';
import { armor, base64Lines, encryptedPackets } from './ciphertext.js';
import { createRng } from './prng.js';

// Issue 11: structurally real ciphertext with a readable token beside it (what the issue-11 mutators make).
const rng = createRng(11);
const ARMOR = armor(encryptedPackets(rng), '\n', rng);
/** The armor with an LF added when needed so that its base64 ends in `=` padding. */
const PADDED = ARMOR.length % 3 === 0 ? `${ARMOR}\n` : ARMOR;
const pgpMime = (preamble: string, control: string, data: string, epilogue = ''): string =>
  'From: a@example.org\nSubject: ZQSi11n0Z\n' +
  'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e\n\n' +
  `${preamble}--e\nContent-Type: application/pgp-encrypted\n\n${control}\n` +
  `--e\nContent-Type: application/octet-stream\n\n` +
  `${data}--e--\n${epilogue}`;
const ISSUE_11: { name: string; raw: string; spam?: SpamMode }[] = [
  { name: 'issue 11: preamble token', raw: pgpMime('ZQBi11n1Z\n', 'Version: 1', ARMOR) },
  { name: 'issue 11: control-part token', raw: pgpMime('', 'Version: 1\nZQBi11n2Z', ARMOR) },
  { name: 'issue 11: token after the armor', raw: pgpMime('', 'Version: 1', `${ARMOR}ZQBi11n3Z\n`) },
  { name: 'issue 11: epilogue token', raw: pgpMime('', 'Version: 1', ARMOR, 'ZQBi11n4Z\n') },
  {
    name: 'issue 11: base64 inline PGP, token after the padding',
    raw:
      `Subject: x\nContent-Transfer-Encoding: base64\n\n${base64Lines(Buffer.from(PADDED), '\n')}` +
      base64Lines(Buffer.from(' ZQBi11n5Z '), '\n'),
  },
  {
    name: 'issue 11: Comment armor header',
    raw: `Subject: x\n\n${ARMOR.replace('-----\n\n', '-----\nComment: ZQBi11n6Z\n\n')}`,
  },
];

const CASES: { name: string; raw: string; spam?: SpamMode }[] = [
  {
    name: 'D1: CR-only line ends (the whole message one "field")',
    raw: 'From: a@example.org\rSubject: ZQSd1n1Z plans\r\rThe body ZQBd1n1Z\r',
  },
  {
    name: 'D1: a bare CR inside To: smuggling a Subject',
    raw: 'To: x@example.org\rSubject: ZQSd1n2Z\nFrom: a@b\n\nbody ZQBd1n2Z\n',
  },
  {
    name: 'D4: a bare-CR field followed by X-Spam-* (body bytes by the D1 rule)',
    raw: 'Subject: a\rb ZQSd4n1Z\nX-Spam-Note: part of the body\n\nbody ZQBd4n1Z\n',
  },
  { name: 'D4 with the spam check on', raw: 'X-Spam-Flag: YES\rx\nSubject: ZQSd4n2Z\n\nbody ZQBd4n2Z\n', spam: 'scan' },
  {
    name: 'mbox From line first',
    raw: 'From someone@example.org Sat Nov 21 06:00:00 2026\nSubject: ZQSmbn1Z\nX-Spam-Flag: YES\n\nZQBmbn1Z\n',
  },
];

describe('fuzz regressions (fixed inputs)', () => {
  let store: FuzzStore;
  before(async () => {
    store = await startFuzzStore();
  });
  after(async () => {
    await store?.pg.stop();
  });

  for (const c of [...CASES, ...ISSUE_11]) {
    test(c.name, async () => {
      const harness = inProcessHarness(store.pg.url, 20_000);
      const recipients = [store.pool[0]!, store.pool[2]!]; // alice (keyed), carol (no key)
      const hp = { enabled: true, subjectPlaceholder: '[...]' };
      const input = Buffer.from(c.raw, 'latin1');
      const r = await harness.run(
        input,
        'sender@example.org',
        recipients.map((x) => x.address),
        hp,
        'none',
        c.spam ?? 'off',
      );
      const verdict = await judgeRun(input, 'sender@example.org', recipients, r, hp);
      assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
    });
  }
});
