// What both stores (real PostgreSQL and embedded PGlite) must do the same way, written once.
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/types.js';

/** A throw inside transaction() rolls its writes back, and the store takes the next transaction. */
export async function assertRollsBackOnThrow(db: Db): Promise<void> {
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.query("INSERT INTO aliases (alias, email) VALUES ('tx@example.org', 'x@example.org')");
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal((await db.query("SELECT 1 FROM aliases WHERE alias = 'tx@example.org'")).rows.length, 0);
  assert.equal(await db.transaction(async (tx) => (await tx.query('SELECT 1 AS one')).rows.length), 1);
}
