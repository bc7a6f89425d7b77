// buildOuterMessage with streamed armor chunks: byte for byte the message the one-string armor gives, whatever
// the chunking, the trailing line endings or the message's EOL; a boundary is never found inside the armor.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOuterMessage } from '../../src/message/build-outer-message.js';
import { splitMessage } from '../../src/message/split-message.js';
import type { HeaderProtectionOptions } from '../../src/message/types.js';

const HP: HeaderProtectionOptions = { enabled: true, subjectPlaceholder: '[...]' };
const LINES = Array.from({ length: 200 }, (_, i) => `wV4DTdGhCFKW1m8SAQdA${String(i).padStart(44, 'x')}`);
const ARMOR = `-----BEGIN PGP MESSAGE-----\n\n${LINES.join('\n')}\n=TQ3b\n-----END PGP MESSAGE-----\n`;
const token = (): (() => string) => () => 'fixed';

/** Cuts `text` into latin1 Buffers at the given sizes (cycled). */
function cut(text: string, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < text.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    out.push(Buffer.from(text.slice(at, at + size), 'latin1'));
    at += size;
  }
  return out;
}

describe('buildOuterMessage: armor as chunks', () => {
  for (const eol of ['\n', '\r\n']) {
    const msg = splitMessage(Buffer.from(`From: a@example.org${eol}Subject: s${eol}${eol}body${eol}`, 'latin1'));
    const expected = buildOuterMessage(msg, ARMOR, HP, { nextToken: token() });
    for (const [label, chunks] of [
      ['one chunk', [Buffer.from(ARMOR, 'latin1')]],
      ['1-byte chunks', cut(ARMOR, [1])],
      ['uneven chunks', cut(ARMOR, [7, 1000, 3, 64])],
      [
        'empty chunks and a trailing newline-only chunk',
        [Buffer.alloc(0), ...cut(ARMOR.trimEnd(), [500]), Buffer.alloc(0), Buffer.from('\n\n')],
      ],
      ['no trailing newline', cut(ARMOR.trimEnd(), [333])],
    ] as const) {
      test(`${JSON.stringify(eol)}: ${label}`, () => {
        const out = buildOuterMessage(msg, chunks, HP, { nextToken: token() });
        assert.ok(out.equals(expected), 'same bytes as the string path');
      });
    }
    test(`${JSON.stringify(eol)}: CRLF armor in chunks (CR and LF in different chunks) comes out the same`, () => {
      const crlf = ARMOR.replace(/\n/g, '\r\n');
      const chunks = cut(crlf, [29]); // 29 = "-----BEGIN PGP MESSAGE-----\r" splits the first CRLF
      assert.ok(buildOuterMessage(msg, chunks, HP, { nextToken: token() }).equals(expected));
    });
  }

  test('does not reuse the chunks: the result is a fresh buffer', () => {
    const msg = splitMessage(Buffer.from('From: a@example.org\n\nbody\n', 'latin1'));
    const chunks = cut(ARMOR, [100]);
    const out = buildOuterMessage(msg, chunks, HP, { nextToken: token() });
    chunks[1]?.fill(0x41);
    assert.ok(out.equals(buildOuterMessage(msg, ARMOR, HP, { nextToken: token() })));
  });

  test('a boundary straddling two chunks is rejected and another drawn', () => {
    const msg = splitMessage(Buffer.from('From: a@example.org\n\nbody\n', 'latin1'));
    // Not real armor (armor never holds "=_"), but the check must not depend on that.
    const clash = '=_pgpipe_first';
    const chunks = [Buffer.from('AAAA=_pgp', 'latin1'), Buffer.from('ipe_first\nBBBB\n', 'latin1')];
    const tokens = ['first', 'second'];
    const out = buildOuterMessage(msg, chunks, HP, { nextToken: () => tokens.shift() ?? 'third' }).toString('latin1');
    assert.match(out, /boundary="=_pgpipe_second"/);
    assert.ok(out.includes(clash), 'the armor itself is kept');
  });
});
