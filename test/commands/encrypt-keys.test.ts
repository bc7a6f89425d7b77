// `pgpipe encrypt` against a real PostgreSQL: which keys a message is encrypted to, and an unusable key is a
// deferral naming the recipient — never a silent plaintext.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { seedStore } from '../helpers/seed.js';
import { runCli } from '../helpers/run-cli.js';
import { decryptWithGpg, decryptWithOpenpgpJs, decryptWithRnp, parsePgpMime } from '../helpers/decrypt.js';

const message = (to: string): string =>
  `From: a@example.net\nTo: ${to}\nSubject: which keys\nMessage-ID: <k@example.net>\n\nthe body\n`;

describe('pgpipe encrypt with keys in PostgreSQL', () => {
  let pg: PgCluster;
  let alice: TestKey;
  let bob: TestKey;
  let expired: TestKey;
  before(async () => {
    pg = await startPostgres();
    [alice, bob, expired] = await Promise.all([
      makeKey({ kind: 'curve25519', email: 'alice@example.org' }),
      makeKey({ kind: 'rsa3072', email: 'bob@example.org' }),
      makeKey({ kind: 'curve25519', email: 'old@example.org', expired: true }),
    ]);
    await seedStore(
      { databaseUrl: pg.url },
      [
        { email: 'Alice@Example.org', pgpkey: alice.publicArmored },
        { email: 'bob@example.org', pgpkey: bob.publicArmored },
        { email: 'old@example.org', pgpkey: expired.publicArmored },
        { email: 'private@example.org', pgpkey: alice.privateArmored },
      ],
      [
        { alias: 'team@example.org', email: 'alice@example.org' },
        { alias: 'team@example.org', email: 'carol@example.org' },
        { alias: 'postmaster', email: 'alice@example.org' },
      ],
    );
  });
  after(async () => pg.stop());

  const encrypt = (to: string[], input: string) =>
    runCli(['encrypt', ...to.flatMap((t) => ['--to', t]), '--db', pg.url], { input });

  it('encrypts one output to every keyed recipient; each can decrypt it alone', async () => {
    const result = await encrypt(['alice+news@example.org', 'BOB@example.org'], message('alice@example.org'));
    assert.equal(result.code, 0, result.stderr);
    const { armor } = parsePgpMime(result.stdout);
    for (const key of [alice, bob]) {
      const inner = (await decryptWithOpenpgpJs(armor, key.privateArmored)).toString('latin1');
      assert.match(inner, /^Content-Type: multipart\/mixed; [^\r]*protected-headers="v1"/);
      assert.match(inner, /\r\n\r\nthe body\r\n\r\n--[^\r]+--\r\n$/);
    }
  });

  it('encrypts to the keyed recipients when another has no key, and says so with --verbose', async () => {
    const result = await runCli(
      ['encrypt', '--to', 'nokey@example.org', '--to', 'alice@example.org', '--db', pg.url, '--verbose'],
      {
        input: message('x'),
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /nokey@example\.org: no key/);
    await decryptWithOpenpgpJs(parsePgpMime(result.stdout).armor, alice.privateArmored);
  });

  it('exits 75 with a 4.7.5 line naming the recipient when the stored key is expired', async () => {
    const result = await encrypt(['old@example.org'], message('old@example.org'));
    assert.equal(result.code, 75);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^4\.7\.5 pgpipe: key for old@example\.org is unusable: [^\n]*expired[^\n]*\n$/);
  });

  it('refuses to use a private key pasted into the database, without printing key material', async () => {
    const result = await encrypt(['private@example.org'], message('private@example.org'));
    assert.equal(result.code, 75);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^4\.7\.5 pgpipe: key for private@example\.org is unusable: [^\n]*private[^\n]*\n$/);
    assert.doesNotMatch(result.stderr, /BEGIN PGP/);
  });

  it('defers the whole message when one of several recipients has an unusable key', async () => {
    const result = await encrypt(['alice@example.org', 'old@example.org'], message('both'));
    assert.equal(result.code, 75);
    assert.equal(result.stdout.length, 0);
  });

  it('passes already-encrypted mail through unchanged without asking the database', async () => {
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: 'already secret' }),
      encryptionKeys: await openpgp.readKey({ armoredKey: alice.publicArmored }),
    });
    const pgpMime = `From: a@b\nTo: alice@example.org\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="x"\n\n--x\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--x\nContent-Type: application/octet-stream\n\n${armored}\n--x--\n`;
    const result = await runCli(
      ['encrypt', '--to', 'alice@example.org', '--db', 'postgresql://nobody@127.0.0.1:1/none'],
      { input: pgpMime },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString('latin1'), pgpMime);
  });

  it('an alias whose members differ counts as its members: the keyed one encrypted to, the other noted', async () => {
    const result = await runCli(['encrypt', '--to', 'team@example.org', '--db', pg.url, '--verbose'], {
      input: message('team'),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /carol@example\.org: no key/);
    const inner = await decryptWithOpenpgpJs(parsePgpMime(result.stdout).armor, alice.privateArmored);
    assert.match(inner.toString('latin1'), /the body/);
  });

  it('a bare local-part alias applies only in the local domains (issue 11.3)', async () => {
    const outsiders = ['postmaster@elsewhere.example', 'Postmaster+x@Elsewhere.Example', 'postmaster@sub.example.org'];
    for (const outside of outsiders) {
      const result = await encrypt([outside], message(outside));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString('latin1'), message(outside), `${outside}: no local key for an outsider`);
    }
    const local = await encrypt(['PostMaster@Example.ORG'], message('pm'));
    assert.equal(local.code, 0, local.stderr);
    await decryptWithOpenpgpJs(parsePgpMime(local.stdout).armor, alice.privateArmored);
    const listed = await runCli(
      ['encrypt', '--to', 'postmaster@elsewhere.example', '--db', pg.url, '--local-domains', 'elsewhere.example'],
      { input: message('pm') },
    );
    assert.equal(listed.code, 0, listed.stderr);
    await decryptWithOpenpgpJs(parsePgpMime(listed.stdout).armor, alice.privateArmored);
  });

  // Issue 11 items 4 and 5, through the CLI (the esbuild bundle when it is built): GnuPG's Brainpool and secp256k1
  // keys are encrypted to and decrypt in GnuPG; an RFC 9580 X25519 subkey on a v4 key defers with its reason.
  it('encrypts to gpg Brainpool and secp256k1 keys; gpg and RNP decrypt the result', async () => {
    const kinds = ['brainpoolP256r1', 'brainpoolP512r1', 'secp256k1'] as const;
    const keys = await Promise.all(kinds.map((kind) => makeKey({ kind, email: `${kind.toLowerCase()}@example.org` })));
    await seedStore(
      { databaseUrl: pg.url },
      keys.map((key, i) => ({ email: `${kinds[i]!.toLowerCase()}@example.org`, pgpkey: key.publicArmored })),
    );
    for (const [i, key] of keys.entries()) {
      const to = `${kinds[i]!.toLowerCase()}@example.org`;
      const result = await encrypt([to], message(to));
      assert.equal(result.code, 0, result.stderr);
      for (const decrypt of [decryptWithGpg, decryptWithRnp]) {
        assert.match((await decrypt(result.stdout, key.privateArmored)).toString('latin1'), /\r\n\r\nthe body\r\n/);
      }
    }
  });

  it('defers a recipient whose key encrypts only to an RFC 9580 X25519 subkey, naming why', async () => {
    const key = await makeKey({ kind: 'x25519', email: 'x25519@example.org' });
    await seedStore({ databaseUrl: pg.url }, [{ email: 'x25519@example.org', pgpkey: key.publicArmored }]);
    const result = await encrypt(['x25519@example.org'], message('x25519@example.org'));
    assert.equal(result.code, 75);
    assert.equal(result.stdout.length, 0);
    assert.match(
      result.stderr,
      /^4\.7\.5 pgpipe: .*x25519@example\.org.*X25519 \(RFC 9580\) encryption subkey: GnuPG 2\.2 cannot use it/,
    );
  });
});
