// A wrong master.cf argv must defer every message (75, 4.3.5) so nothing bounces while the operator fixes it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { modeFor } from '../../src/modes.js';
import { runCli } from '../helpers/run-cli.js';

const message = 'From: a@example.net\nTo: x@example.org\nSubject: argv\n\nbody\n';

for (const args of [
  ['--config', '/dev/null', 'filter', '-f', 'a@example.net', '--', 'x@example.org'], // option before the command
  ['filtr', '-f', 'a@example.net', '--', 'x@example.org'], // misspelt command
  ['-oi', '-f', 'a@example.net', 'x@example.org'], // the tutorial's argv without `filter`
  ['filter', '-oi', '-fa@example.net', 'x@example.org'], // glued -f${sender}: loses a recipient for the null sender
]) {
  it(`defers: pgpipe ${args.join(' ')}`, async () => {
    const result = await runCli(args, { input: message });
    assert.equal(result.code, 75);
    assert.match(result.stderr, /^4\.3\.5 pgpipe: [^\n]+\n$/);
    assert.equal(result.stdout.length, 0);
  });
}

it('tells hand-run commands from Postfix argv', () => {
  const kind = (argv: string[]): string => modeFor(argv).kind;
  assert.equal(kind(['encrypt', '--to', 'a@b']), 'hand');
  assert.equal(kind(['user', 'add', 'a@b', '--key', 'k.asc']), 'hand');
  assert.equal(kind(['encrypt', '--to', 'a@b', '--', '-f']), 'hand', 'words after -- never count');
  assert.equal(kind(['filter', '-f', 'a@b', '--', 'c@d']), 'pipe');
  assert.deepEqual(modeFor(['filter', '-oi', '-f', 'a@b', 'c@d']), { kind: 'pipe', name: 'filter' });
  assert.deepEqual(modeFor(['deliver', '--lmtp', 'unix:/x', '-f', 'a@b', '--', 'c@d']), {
    kind: 'pipe',
    name: 'deliver',
  });
  const mistakes = [
    ['--config', 'x', 'filter', '-f', 'a', '--', 'b'],
    ['filtr', '-f', 'a', '--', 'b'],
    ['-oi', '-f', 'a', 'b'],
    ['--lmtp', 'unix:/x', 'deliver', '-f', 'a@b', '--', 'c@d'],
  ];
  for (const mistake of mistakes) {
    assert.equal(kind(mistake), 'pipe-mistake', mistake.join(' '));
  }
  // A person asking for help: no envelope, so nothing can be lost; with an envelope it is a master.cf mistake.
  assert.equal(kind(['filter', '--help']), 'hand');
  assert.equal(kind(['help', 'filter']), 'hand');
  assert.equal(kind(['filter', '--help', '-f', 'a', '--', 'b']), 'pipe');
  // setup is run by hand, never by pipe(8): the word after --mode names a pipe mode, and -f may follow.
  assert.equal(kind(['setup', 'postfix', '--mode', 'deliver']), 'hand', 'setup is run by hand');
  assert.equal(kind(['setup', 'postfix', '--mode', 'filter']), 'hand');
  assert.equal(kind(['setup', 'postfix', '--mode', 'filter', '--pgpipe', '/x', '-f']), 'hand');
});

it('a misspelt deliver command defers too', async () => {
  const result = await runCli(['dliver', '-f', 'a@example.net', '--', 'x@example.org'], { input: message });
  assert.equal(result.code, 75);
  assert.match(result.stderr, /^4\.3\.5 pgpipe: [^\n]+\n$/);
});
