// Issue 11 items 6 and 7: what of the header may stay outside the encryption. RFC 9788's default policy
// hcp_baseline (Subject -> "[...]", Keywords and Comments removed, the rest unchanged, HP-Outer for what is outside),
// --keep-subject as hcp_no_confidentiality, and every signature over the plaintext (bh= body hash, signed Subject)
// dropped, whatever it is called. Thunderbird's reading rule (protected-headers="v1" on the root) still holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildInnerPayload } from '../../src/message/build-inner-payload.js';
import { buildOuterMessage } from '../../src/message/build-outer-message.js';
import { contentTypeOf } from '../../src/message/content-type.js';
import { isPlaintextSignature } from '../../src/message/header-protection.js';
import { splitMessage } from '../../src/message/split-message.js';
import type { HeaderProtectionOptions } from '../../src/message/types.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const ARMOR = '-----BEGIN PGP MESSAGE-----\n\nwV4DTdGhCFKW1m8SAQdA\n=TQ3b\n-----END PGP MESSAGE-----\n';
const ON: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: '[...]' };
const VISIBLE: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: null };
const OFF: HeaderProtectionOptions = { enabled: false, subjectPlaceholder: '[...]' };
const MODES = [
  ['hcp_baseline', ON],
  ['--keep-subject', VISIBLE],
  ['--no-protect-headers', OFF],
] as const;
const outerNames = (raw: Buffer, hp: HeaderProtectionOptions): string[] =>
  splitMessage(buildOuterMessage(splitMessage(raw), ARMOR, hp)).fields.map((f) => f.lower);
const innerRoot = (raw: Buffer, hp: HeaderProtectionOptions) =>
  splitMessage(buildInnerPayload(splitMessage(raw), hp, { nextToken: () => 'T' }));
const fieldsText = (msg: ReturnType<typeof splitMessage>): string[] => msg.fields.map((f) => f.raw.toString('latin1'));

describe('hcp_baseline: Keywords and Comments', () => {
  const variants: [string, string][] = [
    ['one each', 'Keywords: merger, Jones\nComments: board only\n'],
    ['folded, odd case, repeated', 'KEYWORDS: merger,\n Jones\ncomments: board\n\tonly\nKeywords: second\n'],
    ['CRLF', 'Keywords: merger, Jones\r\nComments: board only\r\n'],
    ['empty values', 'Keywords:\nComments: \n'],
  ];
  for (const [name, fields] of variants) {
    const eol = fields.includes('\r\n') ? '\r\n' : '\n';
    const raw = latin1(`From: a@example.org${eol}Subject: s${eol}${fields}To: b@example.org${eol}${eol}body${eol}`);
    const original = splitMessage(raw).fields.filter((f) => f.lower === 'keywords' || f.lower === 'comments');

    test(`${name}: removed outside, copied inside verbatim, no HP-Outer line`, () => {
      assert.deepEqual(
        outerNames(raw, ON).filter((n) => n === 'keywords' || n === 'comments'),
        [],
      );
      const outer = buildOuterMessage(splitMessage(raw), ARMOR, ON).toString('latin1');
      assert.doesNotMatch(outer, /merger|board/);
      const root = innerRoot(raw, ON);
      const inside = root.fields.filter((f) => f.lower === 'keywords' || f.lower === 'comments');
      assert.deepEqual(
        inside.map((f) => f.raw.toString('latin1')),
        original.map((f) => f.raw.toString('latin1').replace(/\r?\n/g, '\r\n')),
      );
      const hpOuter = fieldsText(root).filter((t) => /^HP-Outer:/i.test(t));
      assert.deepEqual(hpOuter, [
        'HP-Outer: From: a@example.org',
        'HP-Outer: Subject: [...]',
        'HP-Outer: To: b@example.org',
      ]);
      // Thunderbird's rule: the decrypted root's Content-Type carries protected-headers="v1" (and hp="cipher").
      const type = contentTypeOf(root.fields);
      assert.equal(root.fields[0]?.lower, 'content-type');
      assert.equal(type.params['protected-headers'], 'v1');
      assert.equal(type.params['hp'], 'cipher');
    });

    test(`${name}: --keep-subject (hcp_no_confidentiality) and --no-protect-headers leave them outside`, () => {
      for (const hp of [VISIBLE, OFF]) {
        assert.deepEqual(
          outerNames(raw, hp).filter((n) => n === 'keywords' || n === 'comments'),
          original.map((f) => f.lower),
        );
        const inner = buildInnerPayload(splitMessage(raw), hp).toString('latin1');
        assert.doesNotMatch(inner, /^(keywords|comments):/im, 'not copied inside: nothing is hidden');
      }
    });
  }

  test('--keep-subject still shows the real Subject outside, and HP-Outer says so', () => {
    const raw = latin1('From: a@example.org\nSubject: Jones vote\nKeywords: k\n\nbody\n');
    const outer = buildOuterMessage(splitMessage(raw), ARMOR, VISIBLE).toString('latin1');
    assert.match(outer, /^Subject: Jones vote$/m);
    assert.ok(fieldsText(innerRoot(raw, VISIBLE)).includes('HP-Outer: Subject: Jones vote'));
  });

  test('Message-ID, Date, From, To, Cc, References and In-Reply-To are kept outside with HP-Outer lines', () => {
    const raw = latin1(
      'From: a@example.org\nTo: b@example.org\nCc: c@example.org\n' +
        'Date: Sat, 21 Nov 2026 07:00:00 +0000\nMessage-ID: <m@x>\nIn-Reply-To: <p@x>\nReferences: <p@x>\n' +
        'Subject: s\nKeywords: k\n\nbody\n',
    );
    assert.deepEqual(outerNames(raw, ON).slice(0, 8), [
      'from',
      'to',
      'cc',
      'date',
      'message-id',
      'in-reply-to',
      'references',
      'subject',
    ]);
    const hpOuter = fieldsText(innerRoot(raw, ON))
      .filter((t) => t.startsWith('HP-Outer:'))
      .map((t) => t.split(':')[1]?.trim());
    assert.deepEqual(hpOuter, ['From', 'To', 'Cc', 'Date', 'Message-ID', 'In-Reply-To', 'References', 'Subject']);
  });
});

describe('signatures over the plaintext leave the outside', () => {
  const fixture = readFileSync(new URL('../fixtures/mail/arc-signed.eml', import.meta.url));
  const SIGNATURES = [
    'arc-seal',
    'arc-message-signature',
    'arc-authentication-results',
    'x-google-dkim-signature',
    'x-original-dkim-signature',
    'x-gateway-signature',
    'dkim-signature',
  ];

  for (const [mode, hp] of MODES) {
    test(`${mode}: the ARC set, DKIM under any name and any bh=/b= field are dropped; the rest stays`, () => {
      const names = outerNames(fixture, hp);
      assert.deepEqual(
        names.filter((n) => SIGNATURES.includes(n)),
        [],
      );
      const stay = ['return-path', 'received', 'authentication-results', 'x-gm-message-state', 'from', 'to', 'date'];
      for (const kept of stay) {
        assert.ok(names.includes(kept), `${kept} stays outside`);
      }
      const outer = buildOuterMessage(splitMessage(fixture), ARMOR, hp).toString('latin1');
      assert.ok(!outer.includes('Bq7TY3ulsA9jFgBpWQR1bH'), 'no body hash outside');
    });
  }

  test('hcp_baseline: nothing outside lets a guess of the Subject or body be confirmed', () => {
    const outer = buildOuterMessage(splitMessage(fixture), ARMOR, ON).toString('latin1');
    assert.doesNotMatch(outer, /Jones|acquisition|bh\s*=|board only/i);
  });

  const field = (text: string) => splitMessage(latin1(`${text}\n\nbody`)).fields[0]!;
  const cases: [string, boolean][] = [
    ['ARC-Seal: i=1; a=rsa-sha256; cv=none; b=x', true],
    ['ARC-Message-Signature: i=1; bh=x; b=y', true],
    ['arc-authentication-results: i=1; spf=pass', true],
    ['X-Google-DKIM-Signature: v=1; b=AAAA', true],
    ['X-Forwarded-DKIM-Signature: v=1; bh=x; b=y', true],
    ['DomainKey-Signature: a=rsa-sha1; b=x', true],
    ['X-Vendor-Sig: v=1; d=x;\n\tbh\t=\tabc; b=def', true],
    ['X-Note: see bh=1 and b=2 in the text', false], // no tag-list: "bh=" must start a tag
    ['X-Only-Hash: bh=abc', false], // a body hash without a signature commits to nothing signed
    ['Subject: pay; bh=1; b=2', false], // a protected field is never taken for a signature
    ['Keywords: bh=1; b=2', false],
    ['Authentication-Results: mx; dkim=pass header.b="kQ3c0fXx"', false],
    ['Autocrypt-Gossip: addr=a@example.org; keydata=AAAA', false], // a key, no commitment to this message
    ['X-MS-Exchange-AntiSpam-MessageData-0: opaqueblob', false], // encrypted to Microsoft, not verifiable by anyone
  ];
  for (const [text, dropped] of cases) {
    test(`${dropped ? 'drops' : 'keeps'} ${JSON.stringify(text.slice(0, 50))}`, () =>
      assert.equal(isPlaintextSignature(field(text)), dropped));
  }

  test('a 200,000-character hostile field is judged in linear time', () => {
    const started = Date.now();
    assert.equal(isPlaintextSignature(field(`X-Evil: bh${' '.repeat(200_000)}x; ${';'.repeat(50_000)}`)), false);
    assert.equal(isPlaintextSignature(field(`X-Evil: ${'bh= ;'.repeat(40_000)} b=1`)), true);
    assert.ok(Date.now() - started < 500, `${Date.now() - started} ms`);
  });
});
