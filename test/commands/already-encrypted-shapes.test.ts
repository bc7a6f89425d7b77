// Issue 11 item 1 through `pgpipe encrypt` (the built CLI, real PostgreSQL): readable text beside the ciphertext
// makes the message come out encrypted to the recipient's key; real encrypted mail comes out byte for byte as it
// went in, without the database being asked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertShapeEncrypted, cleartextShapes, protectedShapes } from '../helpers/cleartext-shapes.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';

describe('pgpipe encrypt: "already encrypted" only when every byte is ciphertext (issue 11)', () => {
  let pg: PgCluster;
  let alice: TestKey;
  before(async () => {
    pg = await startPostgres();
    alice = await makeKey({ kind: 'curve25519', email: 'alice@example.org' });
    await seedStore({ databaseUrl: pg.url }, [{ email: 'alice@example.org', pgpkey: alice.publicArmored }]);
  });
  after(async () => pg?.stop());

  for (const shape of cleartextShapes()) {
    it(`encrypted: ${shape.group}: ${shape.name}`, async () => {
      const input = Buffer.from(shape.raw, 'latin1');
      const result = await runCli(['encrypt', '--to', 'alice@example.org', '--db', pg.url], { input });
      assert.equal(result.code, 0, result.stderr);
      await assertShapeEncrypted(shape, result.stdout, alice.privateArmored);
    });
  }
  for (const shape of protectedShapes()) {
    it(`unchanged: ${shape.group}: ${shape.name}`, async () => {
      const input = Buffer.from(shape.raw, 'latin1');
      const noDatabase = 'postgresql://nobody@127.0.0.1:1/none';
      const result = await runCli(['encrypt', '--to', 'alice@example.org', '--db', noDatabase], { input });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.equals(input), 'byte for byte');
    });
  }
});
