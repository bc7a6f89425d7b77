import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInnerPayload } from '../../src/message/build-inner-payload.js';
import { canonicalizeCrlf, countBareLf } from '../../src/message/canonical-eol.js';
import { contentTypeOf } from '../../src/message/content-type.js';
import { multipartChildren } from '../../src/message/mime-parts.js';
import { splitMessage } from '../../src/message/split-message.js';
import type { HeaderProtectionOptions, SplitMessage } from '../../src/message/types.js';
import { SAMPLES } from './corpus.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const PROTECTED = ['from', 'to', 'cc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references'];
const ON: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: '[...]' };
const VISIBLE: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: null };
const OFF: HeaderProtectionOptions = { enabled: false, subjectPlaceholder: '[...]' };
const raws = (fields: SplitMessage['fields']): string[] => fields.map((f) => f.raw.toString('latin1'));
const canonicalRaws = (fields: SplitMessage['fields']): string[] =>
  fields.map((f) => canonicalizeCrlf(f.raw).toString('latin1'));

/** The entity holding the original body: its Content-* fields must be the originals, its body the canonical body. */
function assertBodyEntity(entity: Buffer, original: SplitMessage): void {
  const part = splitMessage(entity);
  const contentFields = original.fields.filter((f) => f.lower.startsWith('content-'));
  const expected = canonicalRaws(contentFields);
  if (!contentFields.some((f) => f.lower === 'content-type'))
    expected.unshift('Content-Type: text/plain; charset=us-ascii');
  assert.deepEqual(raws(part.fields), expected);
  assert.ok(part.hasSeparator);
  assert.ok(part.body.equals(canonicalizeCrlf(original.body)), 'body bytes differ');
}

describe('buildInnerPayload: every byte recoverable', () => {
  for (const sample of SAMPLES) {
    test(`header protection on: ${sample.name}`, () => {
      const msg = splitMessage(sample.raw);
      const inner = buildInnerPayload(msg, ON);
      assert.equal(countBareLf(inner), 0, 'inner entity must be CRLF-canonical');

      const root = splitMessage(inner);
      const rootType = contentTypeOf(root.fields);
      assert.equal(rootType.type, 'multipart/mixed');
      assert.equal(rootType.params['protected-headers'], 'v1');
      assert.equal(rootType.params['hp'], 'cipher');
      const boundary = rootType.params['boundary'] ?? '';
      assert.ok(boundary.length > 0);
      assert.equal(msg.body.indexOf(boundary), -1);

      const copies = msg.fields.filter((f) => PROTECTED.includes(f.lower));
      assert.deepEqual(raws(root.fields.filter((f) => PROTECTED.includes(f.lower))), canonicalRaws(copies));
      assert.equal(root.fields.filter((f) => f.lower === 'hp-outer').length, copies.length);
      assert.equal(root.fields.length, 1 + 2 * copies.length);

      assert.ok(root.body.subarray(-(boundary.length + 8)).equals(latin1(`\r\n--${boundary}--\r\n`)));
      const children = [...multipartChildren(root.body, boundary)];
      assert.equal(children.length, 1);
      assertBodyEntity(children[0] ?? Buffer.alloc(0), msg);
    });

    test(`header protection off: ${sample.name}`, () => {
      const msg = splitMessage(sample.raw);
      const inner = buildInnerPayload(msg, OFF);
      assert.equal(countBareLf(inner), 0);
      assert.ok(!inner.toString('latin1').includes('protected-headers'));
      assertBodyEntity(inner, msg);
    });
  }
});

describe('buildInnerPayload: layout', () => {
  const raw = latin1(
    'Received: x\nFrom: Alice <a@example.org>\nTo: b@example.org\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n' +
      ' =?UTF-8?Q?_more?=\nTo: c@example.org\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n' +
      'X-Spam-Flag: NO\nContent-Transfer-Encoding: 8bit\n\nHallo \xc3\xbc\n',
  );
  const token = (): string => 'T';

  test('header protection with the placeholder', () => {
    const expected =
      'Content-Type: multipart/mixed; boundary="=_pgpipe_T"; protected-headers="v1"; hp="cipher"\r\n' +
      'From: Alice <a@example.org>\r\nTo: b@example.org\r\n' +
      'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n =?UTF-8?Q?_more?=\r\nTo: c@example.org\r\n' +
      'HP-Outer: From: Alice <a@example.org>\r\nHP-Outer: To: b@example.org\r\nHP-Outer: Subject: [...]\r\n' +
      'HP-Outer: To: c@example.org\r\n\r\n--=_pgpipe_T\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHallo \xc3\xbc\r\n' +
      '\r\n--=_pgpipe_T--\r\n';
    assert.equal(buildInnerPayload(splitMessage(raw), ON, { nextToken: token }).toString('latin1'), expected);
  });

  test('subject kept visible: HP-Outer shows the original subject, folded as it came', () => {
    const inner = buildInnerPayload(splitMessage(raw), VISIBLE, { nextToken: token }).toString('latin1');
    assert.ok(inner.includes('HP-Outer: Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n =?UTF-8?Q?_more?=\r\n'));
    assert.ok(!inner.includes('[...]'));
  });

  // SpamAssassin's rewrite_header adds X-Spam-Prev-Subject; Outlook/Exchange add Thread-Topic. Both copy the Subject.
  const copies = latin1(
    'Received: x\nFrom: a@example.org\nSubject: Board minutes\nX-Spam-Prev-Subject: Board minutes\n' +
      'Thread-Topic: Board minutes\nX-Original-Subject: Board minutes\nX-Spam-Flag: YES\n\nbody\n',
  );

  test('hidden Subject: its copies move inside, in order, with no HP-Outer line (removed outside)', () => {
    const inner = buildInnerPayload(splitMessage(copies), ON, { nextToken: token }).toString('latin1');
    const root = splitMessage(latin1(inner));
    assert.deepEqual(raws(root.fields), [
      'Content-Type: multipart/mixed; boundary="=_pgpipe_T"; protected-headers="v1"; hp="cipher"',
      'From: a@example.org',
      'Subject: Board minutes',
      'X-Spam-Prev-Subject: Board minutes',
      'Thread-Topic: Board minutes',
      'X-Original-Subject: Board minutes',
      'HP-Outer: From: a@example.org',
      'HP-Outer: Subject: [...]',
    ]);
  });

  test('visible Subject: its copies stay outside only (not copied, no HP-Outer)', () => {
    const inner = buildInnerPayload(splitMessage(copies), VISIBLE, { nextToken: token }).toString('latin1');
    assert.ok(!/Thread-Topic|X-Spam-Prev-Subject|X-Original-Subject/i.test(inner));
    assert.ok(inner.includes('HP-Outer: Subject: Board minutes\r\n'));
  });

  test('mbox From_ envelope: not inside, and the real header fields after it are protected', () => {
    const msg = splitMessage(
      latin1('From bob@example.net Mon Jan  1 00:00:00 2024\nFrom: bob@example.net\nSubject: s\n\nbody\n'),
    );
    const inner = buildInnerPayload(msg, ON, { nextToken: token }).toString('latin1');
    assert.ok(!inner.includes('Mon Jan'));
    assert.ok(inner.includes('\r\nFrom: bob@example.net\r\nSubject: s\r\nHP-Outer: From: bob@example.net\r\n'));
    assert.ok(inner.endsWith('\r\n\r\nbody\r\n\r\n--=_pgpipe_T--\r\n'));
  });

  test('header protection off: only the Content-* fields and the body', () => {
    const expected =
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHallo \xc3\xbc\r\n';
    assert.equal(buildInnerPayload(splitMessage(raw), OFF).toString('latin1'), expected);
  });

  test('no Content-Type: an explicit text/plain; charset=us-ascii is written', () => {
    const inner = buildInnerPayload(splitMessage(latin1('Subject: s\n\nx')), OFF).toString('latin1');
    assert.equal(inner, 'Content-Type: text/plain; charset=us-ascii\r\n\r\nx');
  });

  test('a non-ASCII placeholder is an encoded word in HP-Outer', () => {
    const hp = { enabled: true, subjectPlaceholder: 'verschlüsselt' };
    const inner = buildInnerPayload(splitMessage(raw), hp).toString('latin1');
    assert.ok(inner.includes('HP-Outer: Subject: =?UTF-8?B?dmVyc2NobMO8c3NlbHQ=?=\r\n'));
  });

  test('the boundary is drawn again when the body contains it', () => {
    const tokens = ['aaa', 'bbb'];
    const msg = splitMessage(latin1('Subject: s\n\ncrafted\n--=_pgpipe_aaa\nand =_pgpipe_aaa--\n'));
    const inner = buildInnerPayload(msg, ON, { nextToken: () => tokens.shift() ?? 'zzz' });
    assert.equal(contentTypeOf(splitMessage(inner).fields).params['boundary'], '=_pgpipe_bbb');
  });

  test('the boundary is drawn again when a Content-* field contains it', () => {
    const tokens = ['aaa', 'bbb'];
    const msg = splitMessage(latin1('Content-ID: <=_pgpipe_aaa@x>\n\nbody'));
    const inner = buildInnerPayload(msg, ON, { nextToken: () => tokens.shift() ?? 'zzz' });
    assert.equal(contentTypeOf(splitMessage(inner).fields).params['boundary'], '=_pgpipe_bbb');
  });

  test('a 20 MB LF body comes out CRLF and otherwise identical', () => {
    const line = latin1(`${'q'.repeat(75)}\n`);
    const body = Buffer.concat(Array.from({ length: 280_000 }, () => line));
    const msg = splitMessage(Buffer.concat([latin1('Subject: big\nContent-Type: text/plain\n\n'), body]));
    const inner = buildInnerPayload(msg, ON);
    const root = splitMessage(inner);
    const boundary = contentTypeOf(root.fields).params['boundary'] ?? '';
    const [child] = [...multipartChildren(root.body, boundary)];
    assert.ok(child);
    assert.ok(splitMessage(child).body.equals(canonicalizeCrlf(body)));
  });
});
