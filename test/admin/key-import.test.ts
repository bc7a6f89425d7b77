// `key import --gnupg-home` (migration from gpgit) against PostgreSQL and the embedded store, with a real GnuPG home
// holding the keyring a gpgit server has: a key with its secret half, two keys for one user, one key with user IDs
// for two users, an expired and a revoked key, a stranger's key. Dry run writes nothing, --apply writes all in one
// transaction, --replace is needed to drop a different stored key, and the home itself is never written to.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImportKeys, type ImportResult } from '../../src/admin/import-keys.js';
import { splitStoredKeys } from '../../src/admin/split-stored-keys.js';
import { isPgpipeError } from '../../src/errors.js';
import { makeKey } from '../helpers/keys.js';
import { runCli } from '../helpers/run-cli.js';
import { seedDb, seedStore } from '../helpers/seed.js';
import { gnupgHome, type Gnupg } from './gpg.js';
import { forEachStore, type StoreContext } from './stores.js';

let home: Gnupg;
const fpr: Record<string, string> = {};

async function gpgOk(args: readonly string[]): Promise<string> {
  const result = await home.gpg(args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.toString('utf8');
}

async function importPublic(name: string, armored: string): Promise<void> {
  const file = join(home.home, `${name}.asc`); // public key only: test input for gpg --import
  writeFileSync(file, armored);
  await gpgOk(['--import', file]);
}

const primaries = async (): Promise<string[]> =>
  [...(await gpgOk(['--with-colons', '--list-keys'])).matchAll(/^pub:.*\nfpr:+([0-9A-F]{40}):/gm)].map(
    (m) => m[1] ?? '',
  );

/** A new key made in the keyring (secret half included); its fingerprint. */
async function generated(uid: string): Promise<string> {
  const before = await primaries();
  await gpgOk(['--quick-gen-key', uid, 'future-default', 'default', 'never']);
  return (await primaries()).find((f) => !before.includes(f)) ?? '';
}

before(async () => {
  home = gnupgHome();
  // Made in the keyring, so its secret half is there too (as when gpgit's admin generated a key on the server).
  fpr.alice = await generated('Alice <Alice@Example.ORG>');
  fpr.bob1 = await generated('Bob <bob@example.org>');
  fpr.bob2 = await generated('bob@example.org');
  fpr.team = await generated('Team One <team1@example.org>');
  await gpgOk(['--quick-add-uid', fpr.team, 'Team Two <team2@example.org>']);
  // A ':' in a user ID (gpg lists it as \x3a), and a revoked user ID naming a user: that one does not count.
  fpr.gina = await generated('Gina: ops <gina@example.org>');
  await gpgOk(['--quick-add-uid', fpr.gina, 'frank@example.org']);
  await gpgOk(['--quick-revoke-uid', fpr.gina, 'frank@example.org']);
  const carol = await makeKey({ kind: 'curve25519', email: 'carol@example.org' });
  fpr.carol = carol.fingerprint;
  await importPublic('carol', carol.publicArmored);
  const dave = await makeKey({ kind: 'curve25519', email: 'dave@example.org', expired: true });
  fpr.dave = dave.fingerprint;
  await importPublic('dave', dave.publicArmored);
  const erin = await makeKey({ kind: 'curve25519', email: 'erin@example.org', revoked: true });
  fpr.erin = erin.fingerprint;
  await importPublic('erin', erin.publicArmored);
  const stranger = await makeKey({ kind: 'curve25519', email: 'stranger@elsewhere.example' });
  fpr.stranger = stranger.fingerprint;
  await importPublic('stranger', stranger.publicArmored);
  // The import must neither need nor start a gpg-agent: stop the one key generation started.
  execFileSync('gpgconf', ['--homedir', home.home, '--kill', 'all']);
});
after(async () => home.close());

const USERS = [
  'alice@example.org',
  'bob@example.org',
  'carol@example.org',
  'dave@example.org',
  'erin@example.org',
  'team1@example.org',
  'team2@example.org',
  'frank@example.org',
];

const seed = (s: StoreContext, carolKey: string): Promise<void> =>
  seedDb(
    s.db,
    USERS.map((email) => ({ email, pgpkey: email === 'carol@example.org' ? carolKey : '' })),
  );

async function stored(s: StoreContext, email: string): Promise<string[]> {
  const { rows } = await s.db.query<{ pgpkey: string }>('SELECT pgpkey FROM users WHERE email = $1', [email]);
  return (await splitStoredKeys(rows[0]?.pgpkey ?? '')).map((k) => k.fingerprint);
}

function actions(result: ImportResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of result.keys) {
    const name = Object.entries(fpr).find(([, f]) => f === key.fingerprint)?.[0] ?? key.fingerprint;
    out[name] = key.status === 'usable' ? key.targets.map((t) => `${t.action} ${t.email}`).join(', ') : key.status;
  }
  return out;
}

/** Every file of the home with its size and mtime: the import must leave it exactly so. */
function snapshot(dir: string): string {
  const entries: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else entries.push(`${path} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return entries.join('\n');
}

forEachStore('key import --gnupg-home', (store) => {
  it('dry run reports every key and writes nothing, neither to the tables nor to the GnuPG home', async () => {
    const s = store();
    const carolOld = await makeKey({ kind: 'rsa2048', email: 'carol@example.org' });
    await seed(s, carolOld.publicArmored);
    const tables = await s.dump();
    const files = snapshot(home.home);
    const result = await runImportKeys({ gnupgHome: home.home }, s.deps);
    assert.equal(result.applied, false);
    assert.deepEqual(actions(result), {
      alice: 'set alice@example.org',
      bob1: 'set bob@example.org',
      bob2: 'set bob@example.org',
      team: 'set team1@example.org, set team2@example.org',
      gina: 'no-user',
      carol: 'add carol@example.org',
      dave: 'unusable',
      erin: 'unusable',
      stranger: 'no-user',
    });
    const reason = (name: string) => result.keys.find((k) => k.fingerprint === fpr[name])?.reason ?? '';
    assert.match(reason('dave'), new RegExp(`^key ${fpr.dave} expired on \\d{4}-\\d\\d-\\d\\d: extend it`));
    assert.match(reason('erin'), new RegExp(`^key ${fpr.erin} is revoked`));
    assert.deepEqual(result.keys.find((k) => k.fingerprint === fpr.dave)?.users, ['dave@example.org']);
    assert.deepEqual(result.keys.find((k) => k.fingerprint === fpr.gina)?.userIds, ['Gina: ops <gina@example.org>']);
    assert.equal(result.usersChanged, 5); // alice, bob, team1, team2, carol
    assert.equal(await s.dump(), tables);
    assert.equal(snapshot(home.home), files, 'gpg wrote into the GnuPG home');
  });

  it('--apply stores public keys only, keeps a different stored key; a second run finds all there', async () => {
    const s = store();
    const carolOld = await makeKey({ kind: 'rsa2048', email: 'carol@example.org' });
    await seed(s, carolOld.publicArmored);
    const result = await runImportKeys({ gnupgHome: home.home, apply: true }, s.deps);
    assert.equal(result.applied, true);
    assert.deepEqual(await stored(s, 'alice@example.org'), [fpr.alice]);
    assert.deepEqual(await stored(s, 'bob@example.org'), [fpr.bob1, fpr.bob2]);
    assert.deepEqual(await stored(s, 'team1@example.org'), [fpr.team]);
    assert.deepEqual(await stored(s, 'team2@example.org'), [fpr.team]);
    assert.deepEqual(await stored(s, 'carol@example.org'), [carolOld.fingerprint, fpr.carol]);
    const carolRow = await s.db.query<{ pgpkey: string }>("SELECT pgpkey FROM users WHERE email = 'carol@example.org'");
    assert.ok(carolRow.rows[0]?.pgpkey.startsWith(carolOld.publicArmored.trim()), 'the stored key text was rewritten');
    assert.deepEqual(await stored(s, 'dave@example.org'), []);
    assert.deepEqual(await stored(s, 'erin@example.org'), []);
    assert.deepEqual(await stored(s, 'frank@example.org'), []);
    const { rows } = await s.db.query<{ pgpkey: string }>('SELECT pgpkey FROM users');
    for (const row of rows) assert.doesNotMatch(row.pgpkey, /PRIVATE/);

    const again = await runImportKeys({ gnupgHome: home.home, apply: true }, s.deps);
    assert.equal(again.usersChanged, 0);
    assert.equal(actions(again).alice, 'already alice@example.org');
    assert.equal(actions(again).carol, 'already carol@example.org');
  });

  it('--replace drops the different stored key', async () => {
    const s = store();
    const carolOld = await makeKey({ kind: 'rsa2048', email: 'carol@example.org' });
    await seed(s, carolOld.publicArmored);
    const dry = await runImportKeys({ gnupgHome: home.home, replace: true }, s.deps);
    assert.deepEqual(dry.keys.find((k) => k.fingerprint === fpr.carol)?.targets, [
      { email: 'carol@example.org', action: 'replace', replaces: [carolOld.fingerprint] },
    ]);
    await runImportKeys({ gnupgHome: home.home, apply: true, replace: true }, s.deps);
    assert.deepEqual(await stored(s, 'carol@example.org'), [fpr.carol]);
  });

  it('is all or nothing: a write failing late rolls back the earlier ones', async () => {
    const s = store();
    await seed(s, '');
    // A real database refusal on the last row written (team2), after alice, bob and team1 were updated.
    await s.db.query(
      "ALTER TABLE users ADD CONSTRAINT import_test CHECK (email <> 'team2@example.org' OR pgpkey = '')",
    );
    try {
      const tables = await s.dump();
      await assert.rejects(runImportKeys({ gnupgHome: home.home, apply: true }, s.deps));
      assert.equal(await s.dump(), tables);
    } finally {
      await s.db.query('ALTER TABLE users DROP CONSTRAINT import_test');
    }
  });

  it('duplicate users rows for an address get nothing; a missing home is a usage error', async () => {
    const s = store();
    await seed(s, '');
    await seedDb(s.db, [{ email: 'BOB@example.org', pgpkey: '' }]);
    const result = await runImportKeys({ gnupgHome: home.home, apply: true }, s.deps);
    assert.equal(actions(result).bob1, 'ambiguous bob@example.org');
    assert.match(result.warnings.join('\n'), /bob@example\.org has 2 rows in users/);
    assert.deepEqual(await stored(s, 'bob@example.org'), []);
    assert.deepEqual(await stored(s, 'alice@example.org'), [fpr.alice]);
    await assert.rejects(
      runImportKeys({ gnupgHome: join(home.home, 'nope') }, s.deps),
      (error) => isPgpipeError(error) && error.code === 'usage' && /is not a directory/.test(error.message),
    );
  });
});

it('the CLI prints one line per key and user, and --json the same result', async () => {
  const { startPostgres } = await import('../helpers/pg-cluster.js');
  const cluster = await startPostgres();
  try {
    const env = { PGPIPE_DATABASE_URL: cluster.url };
    assert.equal((await runCli(['db', 'init'], { env })).code, 0);
    const keyFile = join(home.home, 'alice-public.asc');
    writeFileSync(keyFile, await gpgOk(['--armor', '--export', fpr.alice ?? '']));
    const add = await runCli(['user', 'add', 'alice@example.org', '--key', keyFile, '--password-stdin'], {
      env,
      input: 'pw\n',
    });
    assert.equal(add.code, 0, add.stderr);
    const dry = await runCli(['key', 'import', '--gnupg-home', home.home], { env });
    assert.equal(dry.code, 0, dry.stderr);
    const text = dry.stdout.toString('utf8');
    assert.match(text, new RegExp(`^${fpr.alice}  already there alice@example\\.org$`, 'm'));
    assert.match(text, new RegExp(`^${fpr.dave}  unusable: key ${fpr.dave} expired on `, 'm')); // no dave row here
    assert.match(text, new RegExp(`^${fpr.stranger}  no matching user: Test <stranger@elsewhere\\.example>$`, 'm'));
    assert.match(text, /^dry run: 0 user\(s\) would change; nothing was written \(run again with --apply\)$/m);
    const json = await runCli(['key', 'import', '--gnupg-home', home.home, '--json'], { env });
    assert.equal(JSON.parse(json.stdout.toString('utf8')).keys.length, 9);
  } finally {
    await cluster.stop();
  }
});

// gpgit's home belongs to gpgit (0700) and pgpipe must not need to write it: a copy nobody but root could write,
// read by another Unix user, works as well.
it(
  'reads a GnuPG home it cannot write (as another user, on a read-only copy)',
  {
    skip: process.getuid?.() === 0 ? false : 'needs root (runuser)',
  },
  async () => {
    const { startPostgres } = await import('../helpers/pg-cluster.js');
    const { installedPgpipe } = await import('../e2e/pgpipe-install.js');
    const cluster = await startPostgres();
    const app = await installedPgpipe(['nobody']);
    const copy = mkdtempSync(join(tmpdir(), 'pgpipe-ro-gnupg-'));
    try {
      chmodSync(cluster.socketDir, 0o755);
      for (const name of ['pubring.kbx', 'trustdb.gpg']) {
        if (existsSync(join(home.home, name))) cpSync(join(home.home, name), join(copy, name));
        if (existsSync(join(copy, name))) chmodSync(join(copy, name), 0o444);
      }
      chmodSync(copy, 0o555);
      await seedStore({ databaseUrl: cluster.url }, [{ email: 'bob@example.org', pgpkey: '' }]);
      const before = snapshot(copy);
      const result = spawnSync(
        'runuser',
        ['-u', 'nobody', '--', process.execPath, app.bin, 'key', 'import', '--gnupg-home', copy, '--db', cluster.url],
        { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', PGPIPE_CONFIG: '/dev/null' } },
      );
      assert.equal(result.status, 0, `${String(result.error ?? '')} ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^${fpr.bob1}  would set bob@example\\.org$`, 'm'));
      assert.equal(snapshot(copy), before);
    } finally {
      chmodSync(copy, 0o755);
      rmSync(copy, { recursive: true, force: true });
      app.remove();
      await cluster.stop();
    }
  },
);
