// The admin commands through the built bin/pgpipe: --help with an example everywhere, exit statuses, one-line
// refusals with the tables unchanged, --json, and the embedded store used when no database URL is set.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { BAD_KEYS } from './bad-keys.js';

const COMMANDS = [
  ['db', 'init'],
  ['user', 'add'],
  ['user', 'list'],
  ['user', 'remove'],
  ['key', 'set'],
  ['key', 'add'],
  ['key', 'remove'],
  ['key', 'show'],
  ['key', 'check'],
  ['alias', 'add'],
  ['alias', 'remove'],
  ['alias', 'list'],
  ['doctor'],
  ['db'],
  ['user'],
  ['key'],
  ['alias'],
];

describe('admin --help', () => {
  for (const command of COMMANDS) {
    it(`pgpipe ${command.join(' ')} --help shows an example`, async () => {
      const result = await runCli([...command, '--help']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.toString(), /\nExamples?:\n {2}(\S.*)?pgpipe /);
      if (command.length === 2 || command[0] === 'doctor') assert.match(result.stdout.toString(), /--json/);
    });
  }
});

describe('admin CLI against PostgreSQL', () => {
  let cluster: PgCluster;
  let dir: string;
  const email = 'carol@example.org';
  const pgpipe = (args: string[], input?: string) =>
    runCli(args, { env: { PGPIPE_DATABASE_URL: cluster.url }, ...(input === undefined ? {} : { input }) });
  const dump = () =>
    cluster.psql(
      'SELECT email, pgpkey, password, maildir, created FROM users ORDER BY 1; SELECT * FROM aliases ORDER BY 1, 2;',
    );

  before(async () => {
    cluster = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-admin-cli-'));
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('user add reads the password from stdin, prints JSON on request', async () => {
    const key = await makeKey({ kind: 'curve25519', email });
    writeFileSync(join(dir, 'carol.asc'), key.publicArmored);
    const result = await pgpipe(
      ['user', 'add', email, '--key', join(dir, 'carol.asc'), '--password-stdin', '--json'],
      'pw from stdin\n',
    );
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout.toString()) as {
      email: string;
      maildir: string;
      keys: { fingerprint: string }[];
      warnings: string[];
    };
    assert.deepEqual(
      [json.email, json.maildir, json.keys[0]?.fingerprint, json.warnings],
      [email, 'carol/', key.fingerprint, []],
    );
    const list = await pgpipe(['user', 'list']);
    assert.match(list.stdout.toString(), /^EMAIL\s+MAILDIR\s+KEYS\s+STATUS\s+CREATED\n-+/);
    assert.match(list.stdout.toString(), /carol@example\.org\s+carol\/\s+1\s+ok/);
  });

  for (const bad of BAD_KEYS) {
    it(`key set refuses ${bad.name}: exit 1, one stderr line, tables unchanged`, async () => {
      const file = join(dir, 'bad.key');
      writeFileSync(file, await bad.input(email));
      const before = await dump();
      const result = await pgpipe(['key', 'set', email, file]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout.length, 0);
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]?.replace(/^pgpipe: /, '') ?? '', bad.reason);
      assert.equal(await dump(), before);
    });
  }

  // Issue 11 item 4 through bin/pgpipe (the esbuild bundle): GnuPG's Brainpool and secp256k1 keys are stored; the
  // bundle carries the eckey-utils module OpenPGP.js needs for them. `key show` says usable.
  for (const kind of ['brainpoolP256r1', 'brainpoolP512r1', 'secp256k1'] as const) {
    it(`key set stores a gpg ${kind} key, and key show calls it usable`, async () => {
      const key = await makeKey({ kind, email });
      const env = { PGPIPE_DATABASE_URL: cluster.url, PGPIPE_DEBUG_CODE_CACHE: '1' };
      const result = await runCli(['key', 'set', email, '-'], { env, input: key.publicArmored });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /code cache used/, 'ran the bundle');
      const shown = await runCli(['key', 'show', email, '--json'], { env: { PGPIPE_DATABASE_URL: cluster.url } });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout.toString(), new RegExp(key.fingerprint));
      assert.match(shown.stdout.toString(), /"usable":\s*true/);
    });
  }

  it('key set from stdin (-) works', async () => {
    const key = await makeKey({ kind: 'rsa2048', email });
    const result = await runCli(['key', 'set', email, '-'], {
      env: { PGPIPE_DATABASE_URL: cluster.url },
      input: key.publicArmored,
    });
    assert.equal(result.code, 0, result.stderr);
  });

  it('exit statuses: 64 usage, 1 not found, 75 database down', async () => {
    const usage = await pgpipe(['user', 'add', 'x@example.org', '--key', '-', '--password-stdin']);
    assert.equal(usage.code, 64);
    assert.equal(usage.stderr, 'pgpipe: --key - and --password-stdin both need stdin; give the key as a file\n');
    const neither = await pgpipe(['user', 'add', 'x@example.org', '--key', join(dir, 'carol.asc')]);
    assert.equal(neither.code, 64);
    const missing = await pgpipe(['key', 'show', 'nobody@example.org']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^pgpipe: no user nobody@example\.org/);
    const within = await pgpipe(['key', 'check', '--within', 'soon']);
    assert.equal(within.code, 64);
    const down = await runCli(['user', 'list', '--db', 'postgresql://pgpipe@127.0.0.1:1/none', '--db-timeout', '2000']);
    assert.equal(down.code, 75);
    assert.match(down.stderr, /^pgpipe: database unavailable \(connect\): connection refused\n$/);
  });

  it('alias commands print tables and JSON', async () => {
    assert.equal((await pgpipe(['alias', 'add', 'carol', email])).code, 0);
    const list = await pgpipe(['alias', 'list']);
    assert.match(list.stdout.toString(), /carol\s+carol@example\.org\s+local-part\s+user/);
    const json = JSON.parse((await pgpipe(['alias', 'list', '--json'])).stdout.toString()) as { aliases: unknown[] };
    assert.deepEqual(json.aliases, [{ alias: 'carol', email, kind: 'local-part', target: 'user' }]);
    assert.equal((await pgpipe(['alias', 'remove', 'carol'])).code, 0);
  });

  it('key check --json and exit 0 when all is fine', async () => {
    const result = await pgpipe(['key', 'check', '--json']);
    assert.equal(result.code, 0);
    const json = JSON.parse(result.stdout.toString()) as {
      attention: number;
      entries: { email: string; health: string }[];
    };
    assert.equal(json.attention, 0);
    assert.deepEqual(
      json.entries.map((e) => [e.email, e.health]),
      [[email, 'ok']],
    );
    const quiet = await pgpipe(['key', 'check', '--quiet']);
    assert.deepEqual([quiet.code, quiet.stdout.toString()], [0, '']);
    await cluster.psql(
      "INSERT INTO users (email, pgpkey, password, maildir) VALUES ('nokey@example.org', '', 'p', 'nokey/')",
    );
    const attention = await pgpipe(['key', 'check', '--quiet']);
    assert.equal(attention.code, 1);
    assert.match(attention.stdout.toString(), /nokey@example\.org\s+-\s+no-key/);
  });
});

describe('admin CLI on the embedded store', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-admin-embedded-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('init, add and show work without any database URL', async () => {
    const env = { PGPIPE_DATA_DIR: join(dir, 'db') };
    const key = await makeKey({ kind: 'curve25519', email: 'dave@example.org' });
    writeFileSync(join(dir, 'dave.asc'), key.publicArmored);
    assert.equal((await runCli(['db', 'init'], { env })).code, 0);
    const add = await runCli(['user', 'add', 'dave@example.org', '--key', join(dir, 'dave.asc'), '--password-stdin'], {
      env,
      input: 'pw\n',
    });
    assert.equal(add.code, 0, add.stderr);
    const show = await runCli(['key', 'show', 'dave@example.org'], { env });
    assert.match(show.stdout.toString(), new RegExp(`fingerprint\\s+${key.fingerprint}\\n[\\s\\S]*status\\s+usable`));
  });
});
