// XFORWARD lines: only offered attributes, xtext, hostile values neutralised, the 512-character command limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xforwardCommands, xtext } from '../../src/adapters/xforward.js';

const ALL = 'NAME ADDR PORT PROTO HELO IDENT SOURCE';

describe('XFORWARD commands', () => {
  it('xtext: printable ASCII as is, "+", "=" and everything else as +HH', () => {
    assert.equal(xtext('mail.example.net'), 'mail.example.net');
    assert.equal(xtext('a+b=c d'), 'a+2Bb+3Dc+20d');
    assert.equal(xtext('[UNAVAILABLE]'), '[UNAVAILABLE]');
  });

  it('sends only the attributes the next hop names, in one line, in XFORWARD_README order', () => {
    const attributes = { IDENT: '4Xq1Lz0abcz', ADDR: '192.0.2.7', NAME: 'client.example.net', PROTO: 'ESMTP' };
    assert.deepEqual(xforwardCommands(attributes, ALL), [
      'XFORWARD NAME=client.example.net ADDR=192.0.2.7 PROTO=ESMTP IDENT=4Xq1Lz0abcz',
    ]);
    assert.deepEqual(xforwardCommands(attributes, 'name addr'), ['XFORWARD NAME=client.example.net ADDR=192.0.2.7']);
    assert.deepEqual(xforwardCommands(attributes, undefined), [], 'not offered: nothing');
    assert.deepEqual(xforwardCommands({}, ALL), []);
  });

  it('a value with CR, LF, spaces or non-ASCII, or too long, is left out, never sent as command text', () => {
    const attributes = {
      HELO: 'x\r\nRCPT TO:<victim@example.org>',
      NAME: 'jörg.example',
      SOURCE: '',
      IDENT: 'a'.repeat(256),
      PROTO: 'E+SMTP',
    };
    assert.deepEqual(xforwardCommands(attributes, ALL), ['XFORWARD PROTO=E+2BSMTP']);
    assert.deepEqual(xforwardCommands({ HELO: 'a b' }, ALL), []);
  });

  it('splits into several commands so that none passes 512 characters with its CRLF', () => {
    const long = 'h'.repeat(250);
    const lines = xforwardCommands({ NAME: long, HELO: long, PROTO: 'ESMTP', IDENT: 'Q1' }, ALL);
    assert.equal(lines.length, 2);
    for (const line of lines) assert.ok(line.length + 2 <= 512, `${line.length}`);
    assert.deepEqual(
      lines.map((l) => l.split(' ').map((p) => p.split('=')[0])),
      [
        ['XFORWARD', 'NAME', 'PROTO'],
        ['XFORWARD', 'HELO', 'IDENT'],
      ],
    );
  });
});
