// `pgpipe encrypt` as a user runs it by hand: exit 0 / 64 / 75, one short stderr line, nothing partial on stdout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';

const message = 'From: a@example.net\nTo: nobody@example.org\nSubject: exit codes\n\nbody line\n';

describe('pgpipe encrypt exit codes', () => {
  let dataDir = '';
  before(() => {
    dataDir = seedEmbeddedDir(join(mkdtempSync(join(tmpdir(), 'pgpipe-cli-')), 'db'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('exits 64 with a usage line when --to is missing', async () => {
    const result = await runCli(['encrypt'], { input: message, env: { PGPIPE_DATA_DIR: dataDir } });
    assert.equal(result.code, 64);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /--to/);
  });

  it('exits 64 on an unknown option', async () => {
    const result = await runCli(['encrypt', '--to', 'a@b', '--frobnicate'], { input: message });
    assert.equal(result.code, 64);
    assert.equal(result.stdout.length, 0);
  });

  it('passes the input through byte for byte when no recipient has a key (embedded store)', async () => {
    const result = await runCli(['encrypt', '--to', 'nobody@example.org'], {
      input: message,
      env: { PGPIPE_DATA_DIR: dataDir },
    });
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.equal(result.stdout.toString('latin1'), message);
  });

  it('exits 75 with one 4.3.0 line and no stdout when PostgreSQL is unreachable', async () => {
    const result = await runCli(
      ['encrypt', '--to', 'a@example.org', '--db', 'postgresql://pgpipe@127.0.0.1:1/none', '--db-timeout', '2000'],
      { input: message },
    );
    assert.equal(result.code, 75);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^4\.3\.0 pgpipe: [^\n]+\n$/);
  });

  it('exits 75 with a 4.3.5 line for an invalid setting, naming it', async () => {
    const result = await runCli(['encrypt', '--to', 'a@example.org'], {
      input: message,
      env: { PGPIPE_DB_TIMEOUT: 'soon' },
    });
    assert.equal(result.code, 75);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^4\.3\.5 pgpipe: invalid PGPIPE_DB_TIMEOUT: [^\n]+\n$/);
  });

  it('exits 75 when the named config file does not exist', async () => {
    const result = await runCli(['encrypt', '--to', 'a@example.org', '--config', '/nonexistent/pgpipe.conf'], {
      input: message,
    });
    assert.equal(result.code, 75);
    assert.match(result.stderr, /^4\.3\.5 pgpipe: cannot read config file \/nonexistent\/pgpipe.conf: ENOENT\n$/);
  });

  it('prints help with an example and exits 0', async () => {
    const result = await runCli(['encrypt', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /Examples:\n {2}pgpipe encrypt --to alice@example.org/);
  });
});
