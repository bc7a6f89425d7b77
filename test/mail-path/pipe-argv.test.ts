import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPgpipeError } from '../../src/errors.js';
import { splitPipeArgv } from '../../src/mail-path/pipe-argv.js';

describe('splitPipeArgv', () => {
  it('reads the documented form: options, -f SENDER, --, recipients', () => {
    assert.deepEqual(splitPipeArgv(['--deadline', '5000', '-f', 's@x', '--', 'a@y', 'b@y']), {
      optionArgs: ['--deadline', '5000'],
      envelope: { sender: 's@x', recipients: ['a@y', 'b@y'] },
    });
  });

  it("reads the tutorial's argv: -oi -f SENDER RECIPIENT... (no --)", () => {
    assert.deepEqual(splitPipeArgv(['-oi', '-f', 's@x', 'a@y', 'b@y']), {
      optionArgs: [],
      envelope: { sender: 's@x', recipients: ['a@y', 'b@y'] },
    });
  });

  it('never lets a hostile recipient become an option, in either form', () => {
    const hostile = ['-Vx@y', '--sendmail=/bin/sh@y', '--help', '-h', '--no-spam-check'];
    for (const form of [
      ['-oi', '-f', 's@x'],
      ['-f', 's@x', '--'],
    ]) {
      const { optionArgs, envelope } = splitPipeArgv([...form, ...hostile]);
      assert.deepEqual(optionArgs, []);
      assert.ok(!isPgpipeError(envelope));
      assert.deepEqual(envelope.recipients, hostile);
    }
  });

  it('keeps the null sender and senders that look like options', () => {
    const empty = splitPipeArgv(['-f', '', '--', 'a@y']).envelope;
    assert.ok(!isPgpipeError(empty));
    assert.equal(empty.sender, '');
    const dashy = splitPipeArgv(['-f', '-oi@x', 'a@y']).envelope;
    assert.ok(!isPgpipeError(dashy));
    assert.deepEqual([dashy.sender, dashy.recipients], ['-oi@x', ['a@y']]);
  });

  it('refuses the glued -f${sender} form, which loses a recipient when the sender is empty', () => {
    for (const args of [
      ['-fs@x', '--', 'a@y'],
      ['-oi', '-fs@x', 'a@y'],
    ]) {
      const glued = splitPipeArgv(args).envelope;
      assert.ok(isPgpipeError(glued) && glued.code === 'usage' && /two words/.test(glued.message), args.join(' '));
    }
  });

  it('options may follow the sender when -- comes later', () => {
    assert.deepEqual(splitPipeArgv(['-f', 's@x', '--no-spam-check', '--', 'a@y']), {
      optionArgs: ['--no-spam-check'],
      envelope: { sender: 's@x', recipients: ['a@y'] },
    });
  });

  for (const [name, args] of [
    ['no sender', ['--', 'a@y']],
    ['-f without value', ['-f']],
    ['no recipients', ['-f', 's@x', '--']],
    ['no recipients (tutorial form)', ['-oi', '-f', 's@x']],
    ['empty recipient', ['-f', 's@x', '--', '']],
  ] as const) {
    it(`usage error (temporary) for ${name}`, () => {
      const { envelope } = splitPipeArgv(args);
      assert.ok(isPgpipeError(envelope));
      assert.equal(envelope.code, 'usage');
      assert.equal(envelope.temporary, true);
    });
  }

  it('still returns the option words with a usage error (so --help works)', () => {
    assert.deepEqual(splitPipeArgv(['--help']).optionArgs, ['--help']);
  });
});
