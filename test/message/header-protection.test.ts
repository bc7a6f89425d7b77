import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isContentField, outerSubjectValue, PROTECTED_FIELDS } from '../../src/message/header-protection.js';
import { splitMessage } from '../../src/message/split-message.js';

describe('outerSubjectValue', () => {
  const cases: [boolean, string | null, string | null][] = [
    [true, '[...]', '[...]'],
    [true, null, null],
    [false, '[...]', null],
    [true, '', ''],
    [true, 'Verschlüsselt', '=?UTF-8?B?VmVyc2NobMO8c3NlbHQ=?='],
  ];
  for (const [enabled, subjectPlaceholder, expected] of cases) {
    test(`enabled=${enabled} placeholder=${JSON.stringify(subjectPlaceholder)}`, () =>
      assert.equal(outerSubjectValue({ enabled, subjectPlaceholder }), expected));
  }
});

describe('field classes', () => {
  const msg = splitMessage(
    Buffer.from('Content-Type: a/b\nCONTENT-ID: x\nContent: y\nMIME-Version: 1.0\nSubject: s\nX-Content-Foo: z\n\n'),
  );
  const cases: [string, boolean, boolean][] = [
    ['Content-Type', true, false],
    ['CONTENT-ID', true, false],
    ['Content', false, false],
    ['MIME-Version', false, false],
    ['Subject', false, true],
    ['X-Content-Foo', false, false],
  ];
  for (const [name, content, protectedField] of cases) {
    test(name, () => {
      const field = msg.fields.find((f) => f.name === name);
      assert.ok(field);
      assert.equal(isContentField(field), content);
      assert.equal(PROTECTED_FIELDS.has(field.lower), protectedField);
    });
  }
  test('the protected set is exactly the nine fields', () =>
    assert.deepEqual([...PROTECTED_FIELDS].sort(), [
      'cc',
      'date',
      'from',
      'in-reply-to',
      'message-id',
      'references',
      'reply-to',
      'subject',
      'to',
    ]));
});
