// The pooled PostgreSQL adapter (serve's): the Db contract, one connection per transaction, and a resident
// process that outlives PostgreSQL restarts and killed backends: db.unavailable (fast) while the server is down,
// working again after, never an uncaught 'error' event. Real throwaway cluster; no mocks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPgpipeError } from '../../src/errors.js';
import { createPgPool } from '../../src/store/pg-pool.js';
import type { Db } from '../../src/store/types.js';
import { startPostgres } from '../helpers/pg-cluster.js';
import type { PgCluster } from '../helpers/pg-cluster.js';
import { assertRollsBackOnThrow } from './db-contract.js';

const SECRET = 'secret-recipient@example.org';

async function rejectsUnavailable(promise: Promise<unknown>, reason?: RegExp): Promise<void> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(isPgpipeError(error), `PgpipeError expected, got ${String(error)}`);
  assert.equal(error.code, 'db.unavailable');
  assert.equal(error.temporary, true);
  if (reason) assert.match(error.message, reason);
  assert.ok(!error.message.includes(SECRET), 'no SQL values in the message');
  assert.equal(error.cause, undefined, 'no driver error (which may carry params) attached');
}

const backendPid = async (db: Db): Promise<number> =>
  (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;

/** Opens `n` connections at once (each query holds one for 50 ms), so that many sit idle in the pool after. */
async function warm(db: Db, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => db.query('SELECT pg_sleep(0.05)')));
}

/** pgpipe's connections as the server sees them. */
async function serverSideConnections(cluster: PgCluster): Promise<number> {
  const out = await cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgpipe'");
  return Number(out.trim());
}

describe('pg-pool', () => {
  let cluster: PgCluster;
  // An uncaught 'error' event would end the test process; this makes the assertion explicit as well.
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => {
    uncaught.push(error);
  };
  before(async () => {
    cluster = await startPostgres();
    process.on('uncaughtException', onUncaught);
  });
  after(async () => {
    process.removeListener('uncaughtException', onUncaught);
    await cluster.stop();
    assert.deepEqual(uncaught, [], 'no uncaught exception');
  });

  it('queries with parameters and reuses its connections', async () => {
    const db = createPgPool(cluster.url, 5000, 4);
    try {
      const { rows } = await db.query<{ v: string }>('SELECT $1::text AS v', ['it\'s "quoted"']);
      assert.deepEqual(rows, [{ v: 'it\'s "quoted"' }]);
      assert.equal(db.kind, 'postgres');
      const first = await backendPid(db);
      assert.equal(await backendPid(db), first, 'one query after another: the same connection');
      await warm(db, 6);
      assert.equal(await serverSideConnections(cluster), 4, 'never more than max connections');
    } finally {
      await db.close();
    }
    // A backend leaves pg_stat_activity a moment after its client has gone.
    for (let i = 0; i < 50 && (await serverSideConnections(cluster)) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await serverSideConnections(cluster), 0, 'close() ends every connection');
  });

  it('runs a transaction on one connection and rolls it back when its function throws', async () => {
    const db = createPgPool(cluster.url, 5000, 4);
    try {
      await warm(db, 4);
      const pids = await db.transaction(async (tx) => {
        await tx.query("SET LOCAL application_name = 'pgpipe-tx'");
        const seen = [];
        for (let i = 0; i < 5; i++) {
          seen.push(await backendPid(tx));
          await warm(db, 3); // the pool's other connections are busy meanwhile
        }
        const { rows } = await tx.query<{ name: string }>('SELECT current_setting($1) AS name', ['application_name']);
        assert.deepEqual(rows, [{ name: 'pgpipe-tx' }], 'SET LOCAL seen: the same transaction');
        return seen;
      });
      assert.equal(new Set(pids).size, 1, 'every statement of the transaction on one connection');
      await assertRollsBackOnThrow(db);
      // A nested transaction joins the outer one: its rows go when the outer one rolls back.
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.transaction((inner) => inner.query("INSERT INTO aliases (alias, email) VALUES ('n@x.org', 'y')"));
          throw new Error('outer fails');
        }),
        /outer fails/,
      );
      assert.equal((await db.query("SELECT 1 FROM aliases WHERE alias = 'n@x.org'")).rows.length, 0);
    } finally {
      await db.close();
    }
  });

  it('replaces an idle connection the server killed, without a crash', async () => {
    const db = createPgPool(cluster.url, 5000, 4);
    try {
      await warm(db, 3);
      const before = await backendPid(db);
      await cluster.psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgpipe'`);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the 'error' events arrive on the idle clients
      const after = await backendPid(db);
      assert.ok(after > 0 && after !== before, 'a new connection');
    } finally {
      await db.close();
    }
  });

  it('fails fast with db.unavailable while PostgreSQL is down and works again after it restarted', async () => {
    const db = createPgPool(cluster.url, 5000, 4);
    try {
      await warm(db, 4); // four idle connections when the server goes
      await cluster.stopServer();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await rejectsUnavailable(
          db.query('SELECT $1::text', [SECRET]),
          /no server socket|connection refused|terminated|server shut down/,
        );
        assert.ok(Date.now() - started < 2000, `query ${i} failed fast (${Date.now() - started} ms)`);
      }
      await rejectsUnavailable(db.transaction((tx) => tx.query('SELECT 1')));
      await cluster.startServer();
      const { rows } = await db.query<{ v: string }>('SELECT $1::text AS v', ['back']);
      assert.deepEqual(rows, [{ v: 'back' }], 'the same pool works again, no restart of pgpipe');
      assert.equal(await db.transaction(async (tx) => (await tx.query('SELECT 1')).rows.length), 1);
      await warm(db, 4);
    } finally {
      await cluster.startServer().catch(() => undefined); // already running unless an assertion failed
      await db.close();
    }
  });

  it('drops a connection that broke inside a transaction and goes on with a fresh one', async () => {
    const db = createPgPool(cluster.url, 5000, 1);
    try {
      const victim = await backendPid(db);
      await rejectsUnavailable(
        db.transaction(async (tx) => {
          await tx.query('SELECT 1');
          await cluster.psql(`SELECT pg_terminate_backend(${victim})`);
          // The error event comes while no statement runs (the case a pool gives no listener for).
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx.query('SELECT $1::text', [SECRET]);
        }),
      );
      const next = await backendPid(db);
      assert.ok(next > 0 && next !== victim, 'the broken connection was not handed out again');
    } finally {
      await db.close();
    }
  });

  it('cancels a statement that exceeds the timeout and keeps serving', async () => {
    const db = createPgPool(cluster.url, 300, 2);
    try {
      const started = Date.now();
      await rejectsUnavailable(db.query('SELECT pg_sleep(30), $1::text', [SECRET]), /statement timeout/);
      assert.ok(Date.now() - started < 5000, 'did not wait for pg_sleep(30)');
      assert.equal((await db.query('SELECT 1')).rows.length, 1);
    } finally {
      await db.close();
    }
  });

  it('gives up on a backend that stops answering and hands that connection out no more', async () => {
    const db = createPgPool(cluster.url, 300, 1);
    const frozen = await backendPid(db);
    process.kill(frozen, 'SIGSTOP'); // no statement_timeout can fire server-side: the client-side timeout must
    try {
      await rejectsUnavailable(db.query('SELECT $1::text', [SECRET]), /query read timeout/);
      const next = await backendPid(db);
      assert.ok(next > 0 && next !== frozen, 'a fresh connection');
    } finally {
      process.kill(frozen, 'SIGCONT');
      await db.close();
    }
  });

  it('waits at most the timeout for a free connection when all are busy', async () => {
    const db = createPgPool(cluster.url, 400, 1);
    try {
      const busy = db.transaction(() => new Promise((resolve) => setTimeout(resolve, 1500)));
      const started = Date.now();
      await rejectsUnavailable(db.query('SELECT 1'), /timeout exceeded when trying to connect/);
      assert.ok(Date.now() - started < 1400, 'gave up before the busy connection came back');
      await busy;
      assert.equal((await db.query('SELECT 1')).rows.length, 1);
    } finally {
      await db.close();
    }
  });

  it('starts while the server is down and connects once it is up', async () => {
    await cluster.stopServer();
    const db = createPgPool(cluster.url, 5000, 2);
    try {
      await rejectsUnavailable(db.query('SELECT 1'));
      await cluster.startServer();
      assert.equal((await db.query('SELECT 1')).rows.length, 1);
    } finally {
      await cluster.startServer().catch(() => undefined);
      await db.close();
    }
  });

  it('closes once, however often asked, and refuses queries after', async () => {
    const db = createPgPool(cluster.url, 5000, 2);
    await db.query('SELECT 1');
    await Promise.all([db.close(), db.close()]);
    await db.close();
    await rejectsUnavailable(db.query('SELECT 1'), /after calling end/);
  });
});
