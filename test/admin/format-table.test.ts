import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDay, formatTable, printable } from '../../src/admin/format-table.js';

describe('formatTable', () => {
  it('aligns columns under a header and a rule', () => {
    const text = formatTable(
      ['EMAIL', 'KEYS'],
      [
        ['a@example.org', '1'],
        ['longer.name@example.org', '12'],
      ],
    );
    assert.equal(
      text,
      [
        'EMAIL                    KEYS',
        '-----------------------  ----',
        'a@example.org            1',
        'longer.name@example.org  12',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header for no rows, and grows a row for multi-line cells', () => {
    assert.equal(formatTable(['A', 'B'], []), 'A  B\n-  -\n');
    assert.equal(formatTable(['FPR', 'UIDS'], [['F1', 'one\ntwo']]), 'FPR  UIDS\n---  ----\nF1   one\n     two\n');
  });

  it('never emits control characters from stored text', () => {
    const text = formatTable(['UID'], [['evil\u001b[2J\rname']]);
    assert.doesNotMatch(text, /[\u001b\r]/);
    assert.match(text, /evil\\x1b\[2J\\x0dname/);
    assert.equal(printable('ok'), 'ok');
  });
});

describe('formatDay', () => {
  it('formats UTC days and a fallback', () => {
    assert.equal(formatDay(new Date('2026-03-04T23:59:00Z')), '2026-03-04');
    assert.equal(formatDay(null), 'never');
  });
});
