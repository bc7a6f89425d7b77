// splitArmorBlocks finds every key block (OpenPGP.js readKeys stops after the first one).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitArmorBlocks } from '../../src/keys/armor-blocks.js';

const pub = (body: string) => `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${body}\n-----END PGP PUBLIC KEY BLOCK-----`;
const priv = (body: string) => `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${body}\n-----END PGP PRIVATE KEY BLOCK-----`;

describe('splitArmorBlocks', () => {
  it('returns every public and private block in order, with the text around them dropped', () => {
    const blocks = splitArmorBlocks(`intro\n${pub('AAAA')}\nmiddle\n${priv('BBBB')}\n${pub('CCCC')}\ntrailer`);
    assert.deepEqual(
      blocks.map((b) => b.kind),
      ['public', 'private', 'public'],
    );
    assert.match(
      blocks[0]?.text ?? '',
      /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n$/,
    );
    assert.match(blocks[1]?.text ?? '', /BBBB/);
    assert.match(blocks[2]?.text ?? '', /CCCC/);
  });

  it('treats the old SECRET KEY BLOCK spelling as private', () => {
    const text = '-----BEGIN PGP SECRET KEY BLOCK-----\n\nx\n-----END PGP SECRET KEY BLOCK-----';
    assert.deepEqual(
      splitArmorBlocks(text).map((b) => b.kind),
      ['private'],
    );
  });

  it('ignores messages and signatures', () => {
    const text = '-----BEGIN PGP MESSAGE-----\n\nx\n-----END PGP MESSAGE-----\n-----BEGIN PGP SIGNATURE-----\n';
    assert.deepEqual(splitArmorBlocks(text), []);
  });

  it('keeps a truncated block (to be reported, not silently dropped)', () => {
    const blocks = splitArmorBlocks(`${pub('AAAA')}\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nBBBB`);
    assert.equal(blocks.length, 2);
    assert.match(blocks[1]?.text ?? '', /BBBB\n$/);
  });

  it('ends a truncated block at the next BEGIN, so a complete block after it is still found', () => {
    const truncated = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nHALF';
    const blocks = splitArmorBlocks(`${truncated}\n${pub('WHOLE')}\n${priv('SECRET')}`);
    assert.deepEqual(
      blocks.map((b) => b.kind),
      ['public', 'public', 'private'],
    );
    assert.equal(blocks[0]?.text, `${truncated}\n\n`);
    assert.equal(blocks[1]?.text, `${pub('WHOLE')}\n`);
    assert.match(blocks[2]?.text ?? '', /SECRET/);
    // A non-key armor (message/signature) also ends the truncated block: nothing after it is swallowed.
    const [cut] = splitArmorBlocks(`${truncated}\n-----BEGIN PGP MESSAGE-----\n\nM\n-----END PGP MESSAGE-----`);
    assert.doesNotMatch(cut?.text ?? '', /MESSAGE/);
  });

  it('makes one block of many consecutive truncated BEGINs (private wins), in linear time', () => {
    const begin = (kind: string) => `-----BEGIN PGP ${kind} KEY BLOCK-----\n`;
    const many = splitArmorBlocks(
      `${begin('PUBLIC').repeat(50_000)}${begin('PRIVATE')}${begin('PUBLIC')}\n${pub('LAST')}`,
    );
    assert.deepEqual(
      many.map((b) => b.kind),
      ['private', 'public'],
    );
    assert.match(many[1]?.text ?? '', /LAST/);
  });

  it('undoes indentation and CRLF line ends', () => {
    const [block] = splitArmorBlocks(
      `   -----BEGIN PGP PUBLIC KEY BLOCK-----\r\n   \r\n   AAAA  \r\n   -----END PGP PUBLIC KEY BLOCK-----\r\n`,
    );
    assert.equal(block?.text, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n');
  });

  it('finds nothing in garbage, including 5 MB of it', () => {
    assert.deepEqual(splitArmorBlocks(''), []);
    assert.deepEqual(splitArmorBlocks('-----BEGIN PGP '.repeat(400_000)), []);
  });
});
