import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOuterMessage } from '../../src/message/build-outer-message.js';
import { contentTypeOf } from '../../src/message/content-type.js';
import { multipartChildren } from '../../src/message/mime-parts.js';
import { splitMessage } from '../../src/message/split-message.js';
import type { HeaderField, HeaderProtectionOptions } from '../../src/message/types.js';
import { SAMPLES } from './corpus.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const ARMOR = '-----BEGIN PGP MESSAGE-----\n\nwV4DTdGhCFKW1m8SAQdA\n=TQ3b\n-----END PGP MESSAGE-----\n';
const ON: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: '[...]' };
const VISIBLE: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: null };
const OFF: HeaderProtectionOptions = { enabled: false, subjectPlaceholder: '[...]' };
const DROPPED = ['mime-version', 'dkim-signature', 'domainkey-signature'];
const kept = (f: HeaderField): boolean => !f.lower.startsWith('content-') && !DROPPED.includes(f.lower);
const withEol = (text: string, eol: string): string => text.replace(/\r?\n/g, eol);

describe('buildOuterMessage: every kept header in order, valid RFC 3156 body', () => {
  for (const sample of SAMPLES) {
    for (const [label, hp] of [
      ['placeholder', ON],
      ['protection off', OFF],
    ] as const) {
      test(`${label}: ${sample.name}`, () => {
        const msg = splitMessage(sample.raw);
        const outer = splitMessage(buildOuterMessage(msg, ARMOR, hp));
        assert.equal(outer.eol, msg.eol);
        assert.ok(outer.hasSeparator);

        const expected = msg.fields.filter(kept).map((f) => {
          if (f.lower === 'subject' && hp.enabled) return 'Subject: [...]';
          return withEol(f.raw.toString('latin1'), msg.eol);
        });
        const names = outer.fields.map((f) => f.lower);
        assert.deepEqual(
          outer.fields.slice(0, -2).map((f) => f.raw.toString('latin1')),
          expected,
        );
        assert.deepEqual(names.slice(-2), ['mime-version', 'content-type']);
        assert.equal(names.filter((n) => n.startsWith('content-') || DROPPED.includes(n)).length, 2);

        const type = contentTypeOf(outer.fields);
        assert.equal(type.type, 'multipart/encrypted');
        assert.equal(type.params['protocol'], 'application/pgp-encrypted');
        const parts = [...multipartChildren(outer.body, type.params['boundary'] ?? '')].map(splitMessage);
        assert.equal(parts.length, 2);
        assert.equal(contentTypeOf(parts[0]?.fields ?? []).type, 'application/pgp-encrypted');
        assert.equal(parts[0]?.body.toString('latin1'), `Version: 1${msg.eol}`);
        assert.equal(contentTypeOf(parts[1]?.fields ?? []).type, 'application/octet-stream');
        assert.equal(parts[1]?.body.toString('latin1'), withEol(ARMOR, msg.eol));
      });
    }
  }
});

describe('buildOuterMessage: layout', () => {
  const raw = latin1(
    'DKIM-Signature: v=1;\n b=x\nFrom: a@example.org\nSubject: secret\n plans\nTo: b@example.org\n' +
      'MIME-Version: 1.0\nContent-Type: text/plain\nX-Spam-Flag: NO\n\nbody\n',
  );
  const expected = (subject: string): string =>
    `From: a@example.org\n${subject}\nTo: b@example.org\nX-Spam-Flag: NO\nMIME-Version: 1.0\n` +
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="=_pgpipe_T"\n\n' +
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n--=_pgpipe_T\n' +
    'Content-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\n' +
    'Version: 1\n\n--=_pgpipe_T\nContent-Type: application/octet-stream; name="encrypted.asc"\n' +
    'Content-Description: OpenPGP encrypted message\nContent-Disposition: inline; filename="encrypted.asc"\n\n' +
    `${ARMOR}\n--=_pgpipe_T--\n`;
  const cases: [string, HeaderProtectionOptions, string][] = [
    ['placeholder replaces the Subject', ON, 'Subject: [...]'],
    ['subject kept visible', VISIBLE, 'Subject: secret\n plans'],
    ['header protection off keeps the Subject', OFF, 'Subject: secret\n plans'],
  ];
  for (const [name, hp, subject] of cases) {
    test(name, () => {
      const outer = buildOuterMessage(splitMessage(raw), ARMOR, hp, { nextToken: () => 'T' });
      assert.equal(outer.toString('latin1'), expected(subject));
    });
  }

  test('every Subject field is replaced in place, spelled "Subject"', () => {
    const msg = splitMessage(latin1('SUBJECT: one\nX-A: 1\nsubject: two\n\nbody'));
    const outer = splitMessage(buildOuterMessage(msg, ARMOR, ON));
    assert.deepEqual(outer.fields.map((f) => f.raw.toString('latin1')).slice(0, 3), [
      'Subject: [...]',
      'X-A: 1',
      'Subject: [...]',
    ]);
  });

  const copies = latin1(
    'From: a@example.org\nSubject: Board minutes\nX-Spam-Prev-Subject: Board minutes\nthread-topic: Board\n' +
      ' minutes\nX-ASG-Orig-Subj: Board minutes\nOriginal-Subject: Board minutes\nX-Spam-Flag: YES\n\nbody\n',
  );

  test('hidden Subject: the fields copying it leave the outside', () => {
    const outer = buildOuterMessage(splitMessage(copies), ARMOR, ON);
    assert.ok(!outer.toString('latin1').includes('Board'));
    assert.deepEqual(
      splitMessage(outer)
        .fields.map((f) => f.name)
        .slice(0, 3),
      ['From', 'Subject', 'X-Spam-Flag'],
    );
  });

  for (const [name, hp] of [
    ['visible Subject', VISIBLE],
    ['header protection off', OFF],
  ] as const) {
    test(`${name}: the fields copying the Subject stay outside`, () => {
      const outer = splitMessage(buildOuterMessage(splitMessage(copies), ARMOR, hp));
      assert.deepEqual(outer.fields.map((f) => f.lower).slice(0, 7), [
        'from',
        'subject',
        'x-spam-prev-subject',
        'thread-topic',
        'x-asg-orig-subj',
        'original-subject',
        'x-spam-flag',
      ]);
    });
  }

  test('an mbox From_ envelope line stays first, unchanged, and the headers after it are kept', () => {
    const envelope = 'From bob@example.net Mon Jan  1 00:00:00 2024\n';
    const msg = splitMessage(latin1(`${envelope}From: bob@example.net\nTo: a@example.org\nSubject: s\n\nbody\n`));
    const outer = buildOuterMessage(msg, ARMOR, ON).toString('latin1');
    assert.ok(
      outer.startsWith(`${envelope}From: bob@example.net\nTo: a@example.org\nSubject: [...]\nMIME-Version: 1.0\n`),
    );
    const crlf = splitMessage(latin1(withEol(`${envelope}From: b@x\n\nbody\n`, '\r\n')));
    assert.ok(
      buildOuterMessage(crlf, ARMOR, ON)
        .toString('latin1')
        .startsWith(withEol(`${envelope}From: b@x\n`, '\r\n')),
    );
  });

  test('a non-ASCII placeholder is written as an RFC 2047 word', () => {
    const outer = buildOuterMessage(splitMessage(raw), ARMOR, { enabled: true, subjectPlaceholder: 'geheim ✓' });
    assert.ok(outer.toString('latin1').includes('\nSubject: =?UTF-8?B?Z2VoZWltIOKckw==?=\n'));
  });

  test('CRLF input gives CRLF output, armor included', () => {
    const outer = buildOuterMessage(splitMessage(latin1(withEol(raw.toString('latin1'), '\r\n'))), ARMOR, ON, {
      nextToken: () => 'T',
    });
    assert.equal(outer.toString('latin1'), withEol(expected('Subject: [...]'), '\r\n'));
  });

  test('armor without final EOL, or with CRLF, is framed the same way', () => {
    for (const armor of [ARMOR.trimEnd(), withEol(ARMOR, '\r\n'), `${ARMOR}\n\n`]) {
      const outer = buildOuterMessage(splitMessage(raw), armor, ON, { nextToken: () => 'T' });
      assert.equal(outer.toString('latin1'), expected('Subject: [...]'));
    }
  });

  for (const name of ['CR-only line endings', 'bare CR hiding a field', 'bare CR in a folded field']) {
    test(`text behind a bare CR in the header never stays outside: ${name}`, () => {
      const sample = SAMPLES.find((s) => s.name === name);
      assert.ok(sample);
      const outer = buildOuterMessage(splitMessage(sample.raw), ARMOR, OFF).toString('latin1');
      assert.ok(!/hidden|old mac|body/.test(outer));
    });
  }

  test('the boundary is drawn again when the armor contains it', () => {
    const tokens = ['aaa', 'bbb'];
    const armor = `${ARMOR}=_pgpipe_aaa\n`;
    const outer = splitMessage(
      buildOuterMessage(splitMessage(raw), armor, ON, { nextToken: () => tokens.shift() ?? 'z' }),
    );
    assert.equal(contentTypeOf(outer.fields).params['boundary'], '=_pgpipe_bbb');
  });

  test('mailparser reads the result as a two-part PGP/MIME message', async () => {
    // mailparser ships no types; this is the only place it is used.
    const { simpleParser } = (await import('mailparser' as string)) as {
      simpleParser: (input: Buffer) => Promise<{
        subject?: string;
        headers: Map<string, unknown>;
        attachments: { contentType: string; content: Buffer }[];
      }>;
    };
    const sample = SAMPLES.find((s) => s.name.startsWith('signatures'));
    assert.ok(sample);
    const parsed = await simpleParser(buildOuterMessage(splitMessage(sample.raw), ARMOR, ON));
    assert.equal(parsed.subject, '[...]');
    assert.equal((parsed.headers.get('content-type') as { value: string }).value, 'multipart/encrypted');
    assert.deepEqual(
      parsed.attachments.map((a) => a.contentType),
      ['application/pgp-encrypted', 'application/octet-stream'],
    );
    assert.match(parsed.attachments[0]?.content.toString('latin1') ?? '', /^Version: 1\r?\n?$/);
    assert.equal(parsed.attachments[1]?.content.toString('latin1').trim(), withEol(ARMOR, '\r\n').trim());
  });
});
