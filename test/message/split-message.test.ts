import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMessage } from '../../src/message/split-message.js';
import type { SplitMessage } from '../../src/message/types.js';
import { SAMPLES } from './corpus.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Puts the pieces back together; must give the input byte for byte. */
function rejoin(msg: SplitMessage): Buffer {
  const pieces = msg.fields.flatMap((field) => [field.raw, latin1(field.eol ?? '')]);
  return Buffer.concat([msg.envelope ?? latin1(''), ...pieces, latin1(msg.separator ?? ''), msg.body]);
}

describe('splitMessage', () => {
  for (const sample of SAMPLES) {
    test(`every byte is recoverable: ${sample.name}`, () => {
      const msg = splitMessage(sample.raw);
      assert.ok(rejoin(msg).equals(sample.raw));
      for (const field of msg.fields) {
        assert.equal(field.lower, field.name.toLowerCase());
        assert.ok(field.raw.toString('latin1').startsWith(field.name));
      }
    });
  }

  const cases: {
    name: string;
    raw: string;
    names: string[];
    body: string;
    eol: '\n' | '\r\n';
    hasSeparator: boolean;
  }[] = [
    { name: 'LF', raw: 'A: 1\nB: 2\n\nbody\n', names: ['A', 'B'], body: 'body\n', eol: '\n', hasSeparator: true },
    { name: 'CRLF', raw: 'A: 1\r\n\r\nb\r\n', names: ['A'], body: 'b\r\n', eol: '\r\n', hasSeparator: true },
    {
      name: 'eol from the first line',
      raw: 'A: 1\r\nB: 2\n\nb',
      names: ['A', 'B'],
      body: 'b',
      eol: '\r\n',
      hasSeparator: true,
    },
    {
      name: 'folded field is one field',
      raw: 'A: 1\n 2\n\t3\nB: x\n\n',
      names: ['A', 'B'],
      body: '',
      eol: '\n',
      hasSeparator: true,
    },
    {
      name: 'non-header line ends headers',
      raw: 'A: 1\nnot a header\nB: 2\n',
      names: ['A'],
      body: 'not a header\nB: 2\n',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'leading continuation line is body',
      raw: ' x: 1\n\nb',
      names: [],
      body: ' x: 1\n\nb',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'mbox From_ line is set aside, headers after it parsed',
      raw: 'From a@b Sat Nov 21\nA: 1\n\n',
      names: ['A'],
      body: '',
      eol: '\n',
      hasSeparator: true,
    },
    {
      name: 'From_ line alone without EOL is body',
      raw: 'From a@b Sat',
      names: [],
      body: 'From a@b Sat',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'obsolete `From :` is a header field, not an envelope',
      raw: 'From : a@b\nTo: c\n\nx',
      names: ['From', 'To'],
      body: 'x',
      eol: '\n',
      hasSeparator: true,
    },
    {
      name: 'a second From_ line ends the headers',
      raw: 'A: 1\nFrom a@b Sat\n\nx',
      names: ['A'],
      body: 'From a@b Sat\n\nx',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'obsolete space before colon',
      raw: 'Subject : x\n\n',
      names: ['Subject'],
      body: '',
      eol: '\n',
      hasSeparator: true,
    },
    { name: 'header-only', raw: 'A: 1\nB: 2\n', names: ['A', 'B'], body: '', eol: '\n', hasSeparator: false },
    { name: 'empty', raw: '', names: [], body: '', eol: '\n', hasSeparator: false },
    { name: 'separator first', raw: '\r\nbody', names: [], body: 'body', eol: '\r\n', hasSeparator: true },
    {
      name: 'whitespace-only line is a continuation',
      raw: 'A: 1\n \nB: 2\n\nx',
      names: ['A', 'B'],
      body: 'x',
      eol: '\n',
      hasSeparator: true,
    },
    {
      name: 'lone CR line is not a separator',
      raw: 'A: 1\n\r',
      names: ['A'],
      body: '\r',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'CR-only line endings: all body',
      raw: 'From: a\rTo: b\r\rbody\r',
      names: [],
      body: 'From: a\rTo: b\r\rbody\r',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'bare CR inside a field ends the headers',
      raw: 'A: 1\nB: x\rSubject: y\nC: 2\n\nb',
      names: ['A'],
      body: 'B: x\rSubject: y\nC: 2\n\nb',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: 'bare CR in a continuation line: the whole field starts the body',
      raw: 'Z: 0\nA: 1\n b\rc\n\nx',
      names: ['Z'],
      body: 'A: 1\n b\rc\n\nx',
      eol: '\n',
      hasSeparator: false,
    },
    {
      name: "bare CR in the first field's continuation: no fields",
      raw: 'A: 1\r\n\tb\rc\r\n\r\nx',
      names: [],
      body: 'A: 1\r\n\tb\rc\r\n\r\nx',
      eol: '\r\n',
      hasSeparator: false,
    },
    {
      name: 'CR CR LF is a bare CR',
      raw: 'A: 1\r\r\n\r\nx',
      names: [],
      body: 'A: 1\r\r\n\r\nx',
      eol: '\r\n',
      hasSeparator: false,
    },
    {
      name: 'bare CR in the body is body',
      raw: 'A: 1\r\n\r\nx\ry',
      names: ['A'],
      body: 'x\ry',
      eol: '\r\n',
      hasSeparator: true,
    },
    { name: 'empty name is body', raw: ': x\n\n', names: [], body: ': x\n\n', eol: '\n', hasSeparator: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const msg = splitMessage(latin1(c.raw));
      assert.deepEqual(
        msg.fields.map((f) => f.name),
        c.names,
      );
      assert.equal(msg.body.toString('latin1'), c.body);
      assert.equal(msg.eol, c.eol);
      assert.equal(msg.hasSeparator, c.hasSeparator);
    });
  }

  test('mbox From_ envelope: kept byte for byte, eol from it, headers after it parsed', () => {
    const raw = latin1(
      'From bob@example.net Mon Jan  1 00:00:00 2024\r\nFrom: Bob <bob@example.net>\r\nTo: a@x\r\n\r\nhi\r\n',
    );
    const msg = splitMessage(raw);
    assert.equal(msg.envelope?.toString('latin1'), 'From bob@example.net Mon Jan  1 00:00:00 2024\r\n');
    assert.deepEqual(
      msg.fields.map((f) => f.name),
      ['From', 'To'],
    );
    assert.equal(msg.eol, '\r\n');
    assert.equal(msg.body.toString('latin1'), 'hi\r\n');
    assert.ok(rejoin(msg).equals(raw));
    assert.equal(splitMessage(latin1('A: 1\n\n')).envelope, undefined);
  });

  test('field raw keeps folding and excludes the final EOL', () => {
    const msg = splitMessage(latin1('Subject: a\r\n b\n\tc\r\nTo: x\n\n'));
    assert.equal(msg.fields[0]?.raw.toString('latin1'), 'Subject: a\r\n b\n\tc');
    assert.equal(msg.fields[0]?.eol, '\r\n');
    assert.equal(msg.fields[1]?.raw.toString('latin1'), 'To: x');
  });

  test('the body is a view of the input, not a copy', () => {
    const raw = latin1('A: 1\n\nbody');
    const msg = splitMessage(raw);
    assert.equal(msg.body.buffer, raw.buffer);
    assert.equal(msg.body.byteOffset, raw.byteOffset + 6);
  });

  test('10,000 header fields are all found, in order', () => {
    const sample = SAMPLES.find((s) => s.name === '10,000-line header section');
    assert.ok(sample);
    const msg = splitMessage(sample.raw);
    assert.equal(msg.fields.length, 10_003);
    assert.equal(msg.fields[5_001]?.name, 'X-Filler-5000');
    assert.equal(msg.body.toString('latin1'), 'body\n');
  });
});
