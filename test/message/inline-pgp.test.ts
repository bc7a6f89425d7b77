// Inline PGP (gpgit's --encrypt-mode prefer-inline / inline-or-plain): which messages inline PGP can carry, what
// their decoded text is (charset bytes untouched), and the message built around the armor.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildInlineMessage, inlineText } from '../../src/message/inline-pgp.js';
import { flattenAlternative, FLATTENED_FIELD } from '../../src/message/flatten-alternative.js';
import { minimumEncryptedSize, planEncryption } from '../../src/encrypt/encrypt-message.js';
import { splitMessage } from '../../src/message/split-message.js';

const msg = (text: string | Buffer) => splitMessage(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
const text = (raw: string | Buffer): string | null => inlineText(msg(raw))?.toString('latin1') ?? null;
const ARMOR = '-----BEGIN PGP MESSAGE-----\n\nwV4DAAAAAAAAAAASAQdA\n-----END PGP MESSAGE-----\n';

describe('inlineText: the decoded text of a single text/plain message', () => {
  it('decodes quoted-printable, keeping the charset bytes (latin1 é stays one byte 0xE9)', () => {
    const raw =
      'Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n' +
      'Content-Transfer-Encoding: quoted-printable\n\n' +
      'caf=E9 soft=\nbreak\n';
    assert.equal(text(raw), 'caf\xe9 softbreak\n');
  });

  it('decodes base64 to the exact bytes, CRLF inside the text included (UTF-8 stays UTF-8, not transcoded)', () => {
    const body = Buffer.from('Grüße\r\nzweite Zeile\r\n', 'utf8');
    const raw =
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      `${body.toString('base64')}\r\n`;
    assert.deepEqual(inlineText(msg(raw)), body);
  });

  it('takes an 8bit body and LF line ends byte for byte', () => {
    const body = Buffer.from('8-bit: \xff\xfe\x80 and NUL \x00 stay\nline two\n', 'latin1');
    const head = Buffer.from('Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n');
    const raw = Buffer.concat([head, body]);
    assert.deepEqual(inlineText(msg(raw)), body);
  });

  it('takes format=flowed text as written (soft line ends kept for the reader to unflow)', () => {
    const raw = 'Content-Type: text/plain; charset=us-ascii; format=flowed; delsp=yes\n\nflowed line \ncontinues\n';
    assert.equal(text(raw), 'flowed line \ncontinues\n');
  });

  it('takes a message without Content-Type (text/plain by RFC 2045) and an empty body', () => {
    assert.equal(text('From: a@x\nSubject: plain\n\nhello\n'), 'hello\n');
    assert.equal(text('Subject: empty\nContent-Type: text/plain\n\n'), '');
  });

  it('refuses multipart, HTML, attachments, UTF-16/UTF-7, two Content-Types, x-uuencode', () => {
    const cases = [
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b--\n',
      'Content-Type: multipart/alternative; boundary=b\n\n--b\n\nhi\n--b--\n',
      'Content-Type: text/html\n\n<p>hi</p>\n',
      'Content-Type: text/plain\nContent-Disposition: attachment; filename="notes.txt"\n\nfile\n',
      'Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n//5oAGkA\n',
      'Content-Type: text/plain; charset="UTF-7"\n\nhi +AKM-\n',
      'Content-Type: text/plain\nContent-Type: text/html\n\n<p>which?</p>\n',
      'Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n',
      'Content-Type: application/octet-stream\n\nbinary\n',
    ];
    for (const raw of cases) assert.equal(text(raw), null, raw);
  });

  it('takes Content-Disposition: inline like none at all', () => {
    assert.equal(text('Content-Type: text/plain\nContent-Disposition: inline\n\nshown\n'), 'shown\n');
  });
});

describe('buildInlineMessage: the armor in place of the body', () => {
  it('keeps every header in order (Subject visible), makes the transfer encoding 7bit in place, drops DKIM', () => {
    const raw =
      'Received: from x\nDKIM-Signature: v=1; bh=abc; b=def\nFrom: a@x\nSubject: the real subject\n' +
      'MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1; format=flowed\n' +
      'Content-Transfer-Encoding: quoted-printable\nContent-MD5: Q2hlY2s=\nX-Spam-Status: No\n\ncaf=E9\n';
    const out = buildInlineMessage(msg(raw), ARMOR).toString('latin1');
    assert.equal(
      out,
      'Received: from x\nFrom: a@x\nSubject: the real subject\nMIME-Version: 1.0\n' +
        'Content-Type: text/plain; charset=iso-8859-1; format=flowed\nContent-Transfer-Encoding: 7bit\n' +
        `X-Spam-Status: No\n\n${ARMOR.replace('\n', '\nCharset: ISO-8859-1\n')}`,
    );
  });

  it("names an ISO-8859 charset in the armor (mutt reads that, not the part's label); no header for the rest", () => {
    const armorOf = (charset: string): string =>
      splitMessage(
        buildInlineMessage(msg(`Content-Type: text/plain; charset="${charset}"\n\nx\n`), ARMOR),
      ).body.toString('latin1');
    assert.match(armorOf('iso_8859-15'), /^-----BEGIN PGP MESSAGE-----\nCharset: ISO-8859-15\n\n/);
    for (const other of ['utf-8', 'us-ascii', 'windows-1252', 'koi8-r']) assert.equal(armorOf(other), ARMOR, other);
  });

  it('writes CRLF throughout for CRLF input (armor included) and adds 7bit after a Content-Type without one', () => {
    const raw = 'From: a@x\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n';
    const out = buildInlineMessage(msg(raw), ARMOR).toString('latin1');
    assert.equal(
      out,
      'From: a@x\r\nSubject: s\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        `Content-Transfer-Encoding: 7bit\r\n\r\n${ARMOR.replace(/\n/g, '\r\n')}`,
    );
  });

  it('adds no MIME fields to a message that had none, keeps a leading mbox From line, joins armor chunks', () => {
    const raw = 'From sender@x Tue Dec  1 10:00:00 2026\nFrom: a@x\nSubject: s\n\nhi\n';
    const chunks = [Buffer.from(ARMOR.slice(0, 20), 'latin1'), Buffer.from(ARMOR.slice(20), 'latin1')];
    const out = buildInlineMessage(msg(raw), chunks).toString('latin1');
    assert.equal(out, `From sender@x Tue Dec  1 10:00:00 2026\nFrom: a@x\nSubject: s\n\n${ARMOR}`);
  });
});

describe('flattenAlternative (--inline-flatten): text/plain + text/html becomes the text part', () => {
  const alternative = (plain: string, extra = '') =>
    'From: a@x\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"\n\n' +
    `--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${plain}\n` +
    `--b\nContent-Type: text/html; charset=utf-8\n\n<p>hello</p>\n${extra}--b--\n`;

  it("keeps the outer headers, takes the text part's Content-* fields and body, and says what was dropped", () => {
    const flat = flattenAlternative(msg(alternative('Hello there, Bob=21')));
    assert.ok(flat !== null);
    const names = flat.fields.map((f) => f.raw.toString('latin1'));
    assert.deepEqual(names, [
      'From: a@x',
      'Subject: s',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      FLATTENED_FIELD,
    ]);
    assert.equal(inlineText(flat)?.toString('latin1'), 'Hello there, Bob!');
  });

  it('keeps the HTML when the text half is not useful (under 10 characters once whitespace goes)', () => {
    assert.equal(flattenAlternative(msg(alternative('  short  \n\n'))), null);
    assert.equal(flattenAlternative(msg(alternative(''))), null);
  });

  it('applies only to exactly text/plain then text/html', () => {
    const three = alternative('Hello there, Bob', '--b\nContent-Type: text/enriched\n\nhi\n');
    assert.equal(flattenAlternative(msg(three)), null);
    const swapped = alternative('Hello there, Bob').replace('text/html', 'text/xhtml');
    assert.equal(flattenAlternative(msg(swapped)), null);
    const mixed = 'Content-Type: multipart/mixed; boundary=b\n\n--b\n\nHello there\n--b--\n';
    assert.equal(flattenAlternative(msg(mixed)), null);
  });

  it('planEncryption: inline for single text, flattened inline only when asked, PGP/MIME otherwise', () => {
    const single = msg('Subject: s\n\nhello\n');
    assert.equal(planEncryption(single, 'pgpmime', true).kind, 'pgpmime');
    assert.equal(planEncryption(single, 'prefer-inline', false).kind, 'inline');
    const alt = msg(alternative('Hello there, Bob'));
    assert.equal(planEncryption(alt, 'prefer-inline', false).kind, 'pgpmime');
    const flat = planEncryption(alt, 'inline-or-plain', true);
    assert.ok(flat.kind === 'inline' && flat.flattened);
    assert.equal(flat.text.toString(), 'Hello there, Bob');
  });

  it('minimumEncryptedSize: 4/3 of the body for PGP/MIME, 4/3 of the decoded text when it goes inline', () => {
    const body = Buffer.alloc(3000, 'x').toString('base64'); // 4000 bytes, 3000 decoded
    const m = msg(`Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n${body}`);
    const hp = { enabled: true, subjectPlaceholder: '[...]' };
    assert.equal(minimumEncryptedSize(m, { hp, mode: 'pgpmime', inlineFlatten: false }), 5334);
    assert.equal(minimumEncryptedSize(m, { hp, mode: 'prefer-inline', inlineFlatten: false }), 4000);
    const html = msg(`Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n${body}`);
    assert.equal(minimumEncryptedSize(html, { hp, mode: 'prefer-inline', inlineFlatten: false }), 5334);
  });
});
