// A representative slice of the corpus through `bin/pgpipe encrypt --db URL` against a real PostgreSQL 15 cluster
// (throwaway, unix socket only) holding the tutorial's tables: the same verdicts as on the embedded store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFixture } from '../helpers/corpus.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { seedStore, storeArgs, type StoreTarget } from '../helpers/seed.js';
import { checkEncrypted } from './check-encrypted.js';

const ASTRONAUT = 'astronaut57@supersecure.mydomain.net';
const RSA_USER = 'rsa3072@supersecure.mydomain.net';

let cluster: PgCluster | undefined;
let store: StoreTarget = { databaseUrl: '' };
let curve: TestKey;
let rsa: TestKey;

const encrypt = (input: Buffer, ...to: string[]) =>
  runCli(['encrypt', ...to.flatMap((a) => ['--to', a]), ...storeArgs(store)], { input });

describe('corpus through pgpipe encrypt (real PostgreSQL)', () => {
  before(async () => {
    [cluster, curve, rsa] = await Promise.all([
      startPostgres(),
      makeKey({ kind: 'curve25519', email: ASTRONAUT }),
      makeKey({ kind: 'rsa3072', email: RSA_USER }),
    ]);
    store = { databaseUrl: cluster.url };
    await seedStore(store, [
      { email: ASTRONAUT, pgpkey: curve.publicArmored },
      { email: RSA_USER, pgpkey: rsa.publicArmored },
    ]);
    // The rows really are in PostgreSQL, where the tutorial's psql would see them.
    assert.equal((await cluster.psql('SELECT count(*) FROM users')).trim(), '2');
  });
  after(async () => {
    await cluster?.stop();
  });

  const encryptCases = [
    ['plain-ascii', 'lf'],
    ['utf8-8bit', 'crlf'],
    ['nested-multipart', 'lf'],
    ['folded-recipients', 'crlf'],
    ['junk-bytes', 'lf'],
    ['sa-sample-spam', 'crlf'],
    ['spam-tagged', 'lf'],
  ] as const;
  for (const [name, eol] of encryptCases) {
    it(`${name} [${eol}] → encrypted, read by every client`, async () => {
      const input = readFixture(name, eol);
      const result = await encrypt(input, ASTRONAUT);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      await checkEncrypted(input, result.stdout, { privateKeys: [curve.privateArmored] });
    });
  }

  it('Curve25519 + RSA-3072 recipients: one message each key decrypts', async () => {
    const input = readFixture('base64-attachment', 'lf');
    const result = await encrypt(input, ASTRONAUT, RSA_USER);
    assert.equal(result.code, 0, result.stderr);
    await checkEncrypted(input, result.stdout, { privateKeys: [curve.privateArmored, rsa.privateArmored] });
  });

  for (const name of ['pgp-mime-encrypted', 'smime-pkcs7', 'pgp-mime-exchange']) {
    it(`${name} → passes byte-identical`, async () => {
      const input = readFixture(name, 'lf');
      const result = await encrypt(input, ASTRONAUT);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.equals(input));
    });
  }

  it('recipient without a key → byte-identical', async () => {
    const input = readFixture('multipart-alternative', 'crlf');
    const result = await encrypt(input, 'nobody@supersecure.mydomain.net');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.ok(result.stdout.equals(input));
  });
});
