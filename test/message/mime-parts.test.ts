import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mimeLeaves, multipartChildren, multipartSections, type MultipartFrame } from '../../src/message/mime-parts.js';
import { splitMessage } from '../../src/message/split-message.js';
import { nestedMultipart, SAMPLES } from './corpus.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const children = (body: string, boundary: string): string[] =>
  [...multipartChildren(latin1(body), boundary)].map((part) => part.toString('latin1'));

describe('multipartChildren', () => {
  const cases: [string, string, string, string[]][] = [
    ['two parts, LF', 'pre\n--b\nA: 1\n\none\n--b\n\ntwo\n--b--\nepilogue', 'b', ['A: 1\n\none', '\ntwo']],
    ['CRLF, body CRLF kept before the delimiter EOL', '--b\r\n\r\nx\r\n\r\n--b--\r\n', 'b', ['\r\nx\r\n']],
    ['missing close: last part runs to the end', '--b\n\none\n--b\n\ntwo\n', 'b', ['\none', '\ntwo\n']],
    ['no delimiter at all', 'just text\n', 'b', []],
    ['delimiter not at a line start is text', '--b\n\nx --b\n--b--', 'b', ['\nx --b']],
    ['longer boundary with the same prefix is text', '--b\n\n--bc\n--b--', 'b', ['\n--bc']],
    ['transport padding after the delimiter', '--b \t\n\nx\n--b-- \n', 'b', ['\nx']],
    ['empty part', '--b\n--b\n\nx\n--b--', 'b', ['', '\nx']],
    ['closing delimiter at end without EOL', '--b\n\nx\n--b--', 'b', ['\nx']],
    ['empty boundary yields nothing', '--\n\nx\n----', '', []],
    ['boundary with regex characters', '--a.b*c\n\nx\n--a.b*c--', 'a.b*c', ['\nx']],
  ];
  for (const [name, body, boundary, expected] of cases) {
    test(name, () => assert.deepEqual(children(body, boundary), expected));
  }

  test('is lazy: stopping early does not need the rest of the body', () => {
    const iterator = multipartChildren(latin1('--b\n\nfirst\n--b\n\nsecond\n--b--'), 'b');
    assert.equal(iterator.next().value?.toString('latin1'), '\nfirst');
  });
});

describe('mimeLeaves', () => {
  const leavesOf = (raw: Buffer, maxDepth = 20, maxParts = 500) => {
    const msg = splitMessage(raw);
    return [...mimeLeaves(msg.fields, msg.body, { maxDepth, maxParts })].map((leaf) => ({
      body: leaf.body.toString('latin1'),
      depth: leaf.depth,
    }));
  };

  test('single part: the message is the only leaf', () =>
    assert.deepEqual(leavesOf(latin1('Subject: x\n\nbody')), [{ body: 'body', depth: 0 }]));

  test('depth-first order through nested multiparts', () => {
    const raw = latin1(
      'Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; boundary=i\n\n' +
        '--i\n\nA\n--i\n\nB\n--i--\n--o\n\nC\n--o--\n',
    );
    assert.deepEqual(leavesOf(raw), [
      { body: 'A', depth: 2 },
      { body: 'B', depth: 2 },
      { body: 'C', depth: 1 },
    ]);
  });

  test('multipart without boundary is a leaf', () => {
    const sample = SAMPLES.find((s) => s.name === 'boundary param absent');
    assert.ok(sample);
    assert.equal(leavesOf(sample.raw).length, 1);
  });

  const depthCases: [number, number, number][] = [
    [5, 20, 1],
    [20, 20, 1],
    [21, 20, 0],
    [50, 20, 0],
  ];
  for (const [nesting, maxDepth, expected] of depthCases) {
    test(`${nesting}-deep nesting with maxDepth ${maxDepth} → ${expected} leaf`, () =>
      assert.equal(leavesOf(latin1(nestedMultipart(nesting, 'leaf')), maxDepth).length, expected));
  }

  test('the part budget stops the walk', () => {
    const parts = Array.from({ length: 100 }, (_, i) => `--b\n\n${i}\n`).join('');
    const raw = latin1(`Content-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`);
    assert.equal(leavesOf(raw, 20, 10).length, 9); // the root counts as one part
    assert.equal(leavesOf(raw).length, 100);
  });

  for (const sample of SAMPLES) {
    test(`never throws: ${sample.name}`, () => {
      assert.doesNotThrow(() => leavesOf(sample.raw));
    });
  }
});

describe('multipartSections / onMultipart: the text around the parts is seen too', () => {
  const sections = (body: string): string[] =>
    [...multipartSections(latin1(body), 'b')].map((s) => `${s.kind}:${s.bytes.toString('latin1')}`);
  test('preamble, parts, epilogue', () =>
    assert.deepEqual(sections('pre\n--b\n\none\n--b--\nafter\n'), ['preamble:pre', 'part:\none', 'epilogue:after\n']));
  test('no closing delimiter: no epilogue', () =>
    assert.deepEqual(sections('--b\n\none\n'), ['preamble:', 'part:\none\n']));
  test('no delimiter at all: everything is preamble', () => assert.deepEqual(sections('text\n'), ['preamble:text\n']));
  test('a closing delimiter before any part: the text after it is still reported', () =>
    assert.deepEqual(sections('--b--\nhidden\n'), ['preamble:', 'epilogue:hidden\n']));
  test('mimeLeaves reports every multipart frame, nested ones included', () => {
    const msg = splitMessage(
      latin1(
        'Content-Type: multipart/mixed; boundary=o\n\nP1\n--o\n' +
          'Content-Type: multipart/alternative; boundary=i\n\nP2\n--i\n\nleaf\n--i--\nE2\n--o--\nE1',
      ),
    );
    const frames: MultipartFrame[] = [];
    const leaves = [...mimeLeaves(msg.fields, msg.body, undefined, undefined, (frame) => frames.push(frame))];
    assert.deepEqual(
      leaves.map((leaf) => leaf.body.toString('latin1')),
      ['leaf'],
    );
    const around = frames.map((f) => [f.preamble.toString('latin1'), f.epilogue?.toString('latin1')]);
    assert.deepEqual(around, [
      ['P2', 'E2'],
      ['P1', 'E1'],
    ]);
  });
});
