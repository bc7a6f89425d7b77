// encrypt_mode in `pgpipe deliver`: the mode gets inline PGP from the shared encryptor with no code of its own.
// Real process, real PostgreSQL, fixture spamc, a real-protocol LMTP server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { runCli } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { decryptWithGpg, decryptWithSqop } from '../helpers/decrypt.js';
import { splitMessage } from '../../src/message/split-message.js';
import { detectProtection } from '../../src/message/detect-protection.js';
import { startFakeLmtp, type FakeLmtp } from './fake-lmtp.js';

const spamc = fileURLToPath(new URL('../fixtures/bin/fake-spamc.js', import.meta.url));
const MESSAGE =
  'From: alice@example.net\nTo: bob@example.org\nSubject: inline at delivery\n' +
  'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nd=E9j=E0 vu\n';

let pg: PgCluster;
let bob: TestKey;
let server: FakeLmtp;

before(async () => {
  pg = await startPostgres();
  bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
  await seedStore({ databaseUrl: pg.url }, [{ email: 'bob@example.org', pgpkey: bob.publicArmored }]);
  server = await startFakeLmtp();
});
after(async () => {
  await server?.close();
  await pg?.stop();
});

/** `pgpipe deliver` from alice to bob through this file's store, spamc and LMTP server, with extra options. */
function deliverArgv(...options: string[]): string[] {
  return [
    'deliver',
    '--db',
    pg.url,
    '--spamc',
    spamc,
    '--lmtp',
    server.address,
    ...options,
    '-f',
    'alice@example.net',
    '--',
    'bob@example.org',
  ];
}

describe('pgpipe deliver with encrypt_mode', () => {
  it('PGPIPE_ENCRYPT_MODE=prefer-inline: the stored copy is inline PGP of the decoded text', async () => {
    const result = await runCli(deliverArgv(), { input: MESSAGE, env: { PGPIPE_ENCRYPT_MODE: 'prefer-inline' } });
    assert.equal(result.code, 0, result.stderr);
    const stored = server.transactions.at(-1)?.data;
    assert.ok(stored !== undefined);
    const split = splitMessage(stored);
    assert.match(stored.toString('latin1'), /^Subject: inline at delivery\r?$/m);
    assert.equal(detectProtection(split).kind, 'pgp-inline');
    for (const decrypt of [decryptWithGpg, decryptWithSqop]) {
      const text = await decrypt(split.body.toString('latin1'), bob.privateArmored);
      assert.deepEqual(text, Buffer.from('d\xe9j\xe0 vu\n', 'latin1'));
    }
  });

  it('refuses inline-or-plain with 4.3.5 (75), nothing stored', async () => {
    const before = server.transactions.length;
    const result = await runCli(deliverArgv('--encrypt-mode', 'inline-or-plain'), { input: MESSAGE });
    assert.equal(result.code, 75);
    assert.match(result.stderr, /^4\.3\.5 pgpipe: [^\n]*inline-or-plain only on pgpipe encrypt/);
    assert.equal(server.transactions.length, before);
  });
});
