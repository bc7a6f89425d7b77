// A wrong master.cf argv must defer every message (75, 4.3.5) so nothing bounces while the operator fixes it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { isFilterArgv } from '../../src/cli.js';
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
  assert.equal(isFilterArgv(['encrypt', '--to', 'a@b']), false);
  assert.equal(isFilterArgv(['user', 'add', 'a@b', '--key', 'k.asc']), false);
  assert.equal(isFilterArgv(['encrypt', '--to', 'a@b', '--', '-f']), false, 'words after -- never count');
  assert.equal(isFilterArgv(['filter', '-f', 'a@b', '--', 'c@d']), true);
  assert.equal(isFilterArgv(['deliver', '--lmtp', 'unix:/x', '-f', 'a@b', '--', 'c@d']), true);
  assert.equal(isFilterArgv(['--lmtp', 'unix:/x', 'deliver', '-f', 'a@b', '--', 'c@d']), true);
  assert.equal(isFilterArgv(['setup', 'postfix', '--mode', 'deliver']), false, 'setup is run by hand');
  assert.equal(isFilterArgv(['setup', 'postfix', '--mode', 'filter']), false);
});

it('a misspelt deliver command defers too', async () => {
  const result = await runCli(['dliver', '-f', 'a@example.net', '--', 'x@example.org'], { input: message });
  assert.equal(result.code, 75);
  assert.match(result.stderr, /^4\.3\.5 pgpipe: [^\n]+\n$/);
});
