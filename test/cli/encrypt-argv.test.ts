// orderEncryptArgv: recipient words that look like options go behind "--", known options and their values stay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { orderEncryptArgv } from '../../src/commands/encrypt-argv.js';

const table = {
  known: new Set(['--to', '--db', '-v', '--verbose', '-h', '--help', '--encrypt-mode']),
  valued: new Set(['--to', '--db', '--encrypt-mode']),
};
const order = (...args: string[]): string[] => orderEncryptArgv(args, table);

describe('orderEncryptArgv', () => {
  it('leaves ordinary command lines as they are', () => {
    assert.deepEqual(order('--to', 'a@x', 'b@y', '-v'), ['--to', 'a@x', 'b@y', '-v']);
    assert.deepEqual(order('--', '-a@x'), ['--', '-a@x']);
    // An unknown option without @ stays for commander to refuse.
    assert.deepEqual(order('--frob', 'a@x'), ['--frob', 'a@x']);
  });

  it('moves dash-looking addresses behind --, keeping what was already after it', () => {
    assert.deepEqual(order('-v', '-a@x', 'b@y', '--', '--c@z'), ['-v', 'b@y', '--', '-a@x', '--c@z']);
    assert.deepEqual(order('--to=x@y', '--help@example.org'), ['--to=x@y', '--', '--help@example.org']);
    assert.deepEqual(order('-v@example.org'), ['--', '-v@example.org']);
  });

  it("never takes an option's value for a recipient, or a recipient for an option's value", () => {
    assert.deepEqual(order('--to', '-a@x', '-b@y'), ['--to', '-a@x', '--', '-b@y']);
    const mode = ['--encrypt-mode', 'prefer-inline'];
    assert.deepEqual(order(...mode, '-b@y'), [...mode, '--', '-b@y']);
    assert.deepEqual(order('--db=postgresql://u@h/d', '-b@y'), ['--db=postgresql://u@h/d', '--', '-b@y']);
  });
});
