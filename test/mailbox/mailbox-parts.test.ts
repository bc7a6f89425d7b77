// The pure parts of `mailbox encrypt`: IMAP response tokens, doveadm's batched fetch output, X-Pgpipe-Replaces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFetchedTexts } from '../../src/mailbox/doveadm.js';
import { uidSet } from '../../src/mailbox/encrypt-mailbox.js';
import { createProgress } from '../../src/mailbox/progress.js';
import { namespacePrefixes } from '../../src/mailbox/run-mailbox-encrypt.js';
import { fetchAttributes, parseValues, quote } from '../../src/mailbox/imap-tokens.js';
import { replacesOf, withReplacesField } from '../../src/mailbox/replaces-field.js';

describe('IMAP tokens', () => {
  it('reads a FETCH response with a section atom, a quoted date, flags and a literal holding CRLF and parens', () => {
    const header = 'X-Pgpipe-Replaces: g1\r\n(x) "y"\r\n\r\n';
    const raw = Buffer.from(
      `* 3 FETCH (UID 7 X-GUID 17.M1P2.vm,S=9 FLAGS (\\Seen $Work) INTERNALDATE ` +
        `"01-Mar-2021 10:00:07 +0000" BODY[HEADER.FIELDS (X-PGPIPE-REPLACES)] {${header.length}}\r\n${header})\r\n`,
    );
    const a = fetchAttributes(raw);
    assert.ok(a);
    assert.equal(a.get('UID'), '7');
    assert.equal(a.get('X-GUID'), '17.M1P2.vm,S=9');
    assert.deepEqual(a.get('FLAGS'), ['\\Seen', '$Work']);
    assert.equal(a.get('INTERNALDATE'), '01-Mar-2021 10:00:07 +0000');
    assert.equal((a.get('BODY[HEADER.FIELDS (X-PGPIPE-REPLACES)]') as Buffer).toString(), header);
  });
  it('NIL, escapes in quoted strings, and other responses are not FETCH', () => {
    assert.deepEqual(parseValues(Buffer.from('* LIST (\\HasNoChildren) "." "a \\"b\\" \\\\c"\r\n')), [
      '*',
      'LIST',
      ['\\HasNoChildren'],
      '.',
      'a "b" \\c',
    ]);
    assert.deepEqual(parseValues(Buffer.from('(NIL nil)\r\n')), [[null, null]]);
    assert.equal(fetchAttributes(Buffer.from('* 3 EXISTS\r\n')), null);
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  });
});

describe('doveadm fetch output', () => {
  it('splits records by their sizes, also when a message holds "\\f\\n" or lacks a final newline', () => {
    const one = 'Subject: a\n\nform\f\nfeed\n';
    const two = 'Subject: b\n\nno newline';
    const out = Buffer.from(
      `uid: 4\nsize.physical: ${one.length}\ntext:\n${one}\f\nuid: 9\nsize.physical: ` + `${two.length}\ntext:\n${two}`,
    );
    const texts = parseFetchedTexts(out);
    assert.deepEqual(
      [...(texts ?? new Map())].map(([uid, t]) => [uid, t.toString()]),
      [
        [4, one],
        [9, two],
      ],
    );
  });
  it('gives up (null) when the sizes do not add up', () => {
    assert.equal(parseFetchedTexts(Buffer.from('uid: 4\nsize.physical: 3\ntext:\nabcdef\f\n')), null);
    assert.equal(parseFetchedTexts(Buffer.from('uid: 4\nsize.physical: 30\ntext:\nabc')), null);
    assert.equal(parseFetchedTexts(Buffer.from('something else')), null);
    assert.deepEqual(parseFetchedTexts(Buffer.alloc(0)), new Map());
  });
});

describe('X-Pgpipe-Replaces', () => {
  it("goes first in the header, after an mbox From line, in the message's line ends, and reads back", () => {
    const lf = withReplacesField(Buffer.from('From: a\n\nbody\n'), 'g-1');
    assert.equal(lf.toString(), 'X-Pgpipe-Replaces: g-1\nFrom: a\n\nbody\n');
    const mbox = withReplacesField(Buffer.from('From a@b Tue Dec  1 07:00:00 2026\r\nFrom: a\r\n\r\nx'), 'g,2=3');
    assert.equal(mbox.toString(), 'From a@b Tue Dec  1 07:00:00 2026\r\nX-Pgpipe-Replaces: g,2=3\r\nFrom: a\r\n\r\nx');
    assert.equal(replacesOf(lf), 'g-1');
    assert.equal(replacesOf(mbox), 'g,2=3');
    assert.equal(replacesOf(Buffer.from('From: a\n\n')), null);
    assert.throws(() => withReplacesField(Buffer.from('x'), 'a b\nX-Evil: 1'));
  });
});

describe('APPENDUID uid sets', () => {
  it('expands ranges and lists in order', () => {
    assert.deepEqual(uidSet('7'), [7]);
    assert.deepEqual(uidSet('7:9'), [7, 8, 9]);
    assert.deepEqual(uidSet('3,7:8,12'), [3, 7, 8, 12]);
  });
});

describe('progress on stderr', () => {
  const stream = (tty: boolean) => {
    const written: string[] = [];
    return { written, stream: { isTTY: tty, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream };
  };
  it('on a terminal: one redrawn line with counts, rate and ETA, made permanent at the end', () => {
    let now = 0;
    const out = stream(true);
    const progress = createProgress(out.stream, () => now);
    progress.update('INBOX', 0, 100);
    now = 10_000;
    progress.update('INBOX', 50, 100);
    progress.finish('INBOX', 'pgpipe: INBOX: done');
    assert.deepEqual(out.written, [
      '\r\x1b[Kpgpipe: INBOX: 0/100, 0.0 msg/s',
      '\r\x1b[Kpgpipe: INBOX: 50/100, 5.0 msg/s ETA 0:10',
      '\r\x1b[Kpgpipe: INBOX: done\n',
    ]);
  });
  it('elsewhere: plain lines, one per mailbox and every 1,000 messages', () => {
    let now = 0;
    const out = stream(false);
    const progress = createProgress(out.stream, () => now);
    progress.update('Sent', 0, 2500);
    for (let done = 1; done <= 2500; done++) {
      now += 10;
      progress.update('Sent', done, 2500);
    }
    progress.finish('Sent', 'pgpipe: Sent: done');
    assert.deepEqual(out.written, [
      'pgpipe: Sent: 2500 message(s)\n',
      'pgpipe: Sent: 1000/2500, 100.0 msg/s ETA 0:15\n',
      'pgpipe: Sent: 2000/2500, 100.0 msg/s ETA 0:05\n',
      'pgpipe: Sent: done\n',
    ]);
  });
});

describe('namespaces', () => {
  it("names the other users' and shared prefixes, never the personal one", () => {
    const line = Buffer.from('* NAMESPACE (("" ".")) (("shared." "." "X-PARAM" ("a"))) (("Public/" "/"))\r\n');
    assert.deepEqual(namespacePrefixes(line), ['shared.', 'Public/']);
    assert.deepEqual(namespacePrefixes(Buffer.from('* NAMESPACE (("" ".")) NIL NIL\r\n')), []);
  });
});
