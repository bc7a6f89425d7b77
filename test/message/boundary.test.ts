import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBoundary } from '../../src/message/boundary.js';

describe('chooseBoundary', () => {
  test('draws again while the candidate occurs in any enclosed buffer', () => {
    const tokens = ['aaa', 'bbb', 'ccc'];
    const drawn: string[] = [];
    const next = (): string => {
      const token = tokens.shift() ?? 'exhausted';
      drawn.push(token);
      return token;
    };
    const body = Buffer.from('text\n--=_pgpipe_aaa\nmore', 'latin1');
    const headers = Buffer.from('Content-ID: <=_pgpipe_bbb@x>', 'latin1');
    assert.equal(chooseBoundary([body, headers], next), '=_pgpipe_ccc');
    assert.deepEqual(drawn, ['aaa', 'bbb', 'ccc']);
  });

  test('a body crafted with the fixed prefix does not stop the default random source', () => {
    const body = Buffer.from('=_pgpipe_ '.repeat(1000), 'latin1');
    const boundary = chooseBoundary([body]);
    assert.match(boundary, /^=_pgpipe_[0-9a-f]{36}$/);
    assert.equal(body.indexOf(boundary), -1);
  });

  test('boundaries differ between calls and are valid RFC 2046 boundaries (≤ 70 bchars)', () => {
    const a = chooseBoundary([]);
    const b = chooseBoundary([]);
    assert.notEqual(a, b);
    assert.ok(a.length <= 70);
    assert.match(a, /^[0-9A-Za-z'()+_,\-./:=?]+$/);
  });
});
