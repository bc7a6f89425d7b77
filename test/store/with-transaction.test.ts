// withTransaction is the one BEGIN/COMMIT/ROLLBACK body both store adapters use (review #12).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../src/store/types.js';
import { withTransaction } from '../../src/store/with-transaction.js';

const STORE = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/store');

/** A Db that records statements; `failOn` makes that statement throw. */
function recording(failOn: string | null = null): { db: Db; log: string[] } {
  const log: string[] = [];
  const db: Db = {
    kind: 'postgres',
    async query<Row>(sql: string) {
      log.push(sql);
      if (sql === failOn) throw new Error(`${sql} failed`);
      return { rows: [] as Row[] };
    },
    transaction: (fn) => withTransaction(db, fn),
    close: async () => undefined,
  };
  return { db, log };
}

describe('withTransaction', () => {
  it('commits and returns the value', async () => {
    const { db, log } = recording();
    assert.equal(await withTransaction(db, async (tx) => (await tx.query('SELECT 1'), 42)), 42);
    assert.deepEqual(log, ['BEGIN', 'SELECT 1', 'COMMIT']);
  });

  it('rolls back and rethrows the original error, even when ROLLBACK itself fails', async () => {
    for (const failOn of [null, 'ROLLBACK']) {
      const { db, log } = recording(failOn);
      await assert.rejects(
        withTransaction(db, async () => {
          throw new Error('boom');
        }),
        /^Error: boom$/,
      );
      assert.deepEqual(log, ['BEGIN', 'ROLLBACK']);
    }
  });

  it('rolls back when COMMIT fails', async () => {
    const { db, log } = recording('COMMIT');
    await assert.rejects(
      withTransaction(db, async () => 1),
      /COMMIT failed/,
    );
    assert.deepEqual(log, ['BEGIN', 'COMMIT', 'ROLLBACK']);
  });

  it('is the only transaction body: the adapters delegate to it', () => {
    for (const file of ['pg-db.ts', 'pg-pool.ts', 'embedded-db.ts']) {
      const text = readFileSync(resolve(STORE, file), 'utf8');
      assert.match(text, /withTransaction\(/, file);
      assert.doesNotMatch(text, /'(BEGIN|COMMIT|ROLLBACK)'/, file);
    }
  });
});
